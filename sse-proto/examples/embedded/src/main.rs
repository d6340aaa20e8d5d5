//! sse-proto on bare metal: no std, no heap, no runtime. The transport is a
//! trait object over byte rings (what a UART driver's interrupt handler
//! fills and drains); the loop decodes what arrives, keeps the last event
//! in a fixed-capacity `HeaplessEvent`, and acknowledges each event by
//! encoding an `ack` event into a `heapless::Vec`. See `ring.rs`.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod halt;
mod ring;
mod work;

use core::hint::black_box;

use cortex_m_rt::entry;

use ring::{Rings, Transport};

#[entry]
fn main() -> ! {
    let mut rings = Rings::new();
    // What the receive interrupt would have queued.
    for &byte in black_box(work::SAMPLE) {
        let _ = rings.rx.enqueue(byte);
    }
    let transport: &mut dyn Transport = &mut rings;
    let last = ring::run(transport);
    black_box(&last);
    black_box(rings.tx.len());
    halt::idle()
}
