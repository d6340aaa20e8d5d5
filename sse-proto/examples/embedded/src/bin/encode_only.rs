//! The smallest program that encodes: an event's type and id checked, the
//! event encoded into a 128-byte buffer. For the code size of the encoder.
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
    black_box(work::encode(
        black_box("reading"),
        black_box("42"),
        black_box("{\"t\":21.5}\n{\"t\":21.7}"),
    ));
    halt::idle()
}
