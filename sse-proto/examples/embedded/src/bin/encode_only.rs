//! The smallest program that encodes: an event's type and id checked, the
//! event encoded into a 128-byte buffer. For the code size of the encoder.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

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
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
