//! The smallest program that decodes: a stream in 16-byte chunks through
//! a decoder with a 512-byte buffer. For the code size of the decoder.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

#[path = "../halt.rs"]
mod halt;
#[path = "../work.rs"]
mod work;

use core::hint::black_box;

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    black_box(work::decode(black_box(work::SAMPLE), black_box(16)));
    halt::idle()
}
