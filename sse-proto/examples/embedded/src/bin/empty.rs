//! The same program with no sse-proto in it: the vector table and start-up
//! code every Cortex-M program has, subtracted from the others' sizes.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

#[path = "../halt.rs"]
mod halt;

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    halt::idle()
}
