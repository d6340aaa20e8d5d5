//! The example's logic, with nothing target-specific: a transport behind a
//! trait object, here two byte rings such as a UART's interrupt handler
//! fills and drains, and a loop that decodes what arrives, keeps the last
//! event, and acknowledges each event on the way back.

use heapless::spsc::Queue;
use sse_proto::{Decoder, Event, EventType, Frame, HeaplessEvent};

/// Bytes in and out, however they travel.
pub(crate) trait Transport {
    /// Moves received bytes into `buf`; returns how many (0: none now).
    fn read(&mut self, buf: &mut [u8]) -> usize;
    /// Queues `bytes` to send; returns how many fitted.
    fn write(&mut self, bytes: &[u8]) -> usize;
}

/// Room in each ring (one slot of a `Queue` stays free).
pub(crate) const RING_LEN: usize = 256;

/// A transport over two byte rings: `rx` filled by the receiving side (an
/// interrupt handler), `tx` drained by the sending side.
pub(crate) struct Rings {
    /// Received bytes, oldest first.
    pub(crate) rx: Queue<u8, RING_LEN>,
    /// Bytes to send, oldest first.
    pub(crate) tx: Queue<u8, RING_LEN>,
}

impl Rings {
    /// Two empty rings.
    pub(crate) const fn new() -> Self {
        Self {
            rx: Queue::new(),
            tx: Queue::new(),
        }
    }
}

impl Transport for Rings {
    fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        for slot in buf.iter_mut() {
            match self.rx.dequeue() {
                Some(byte) => *slot = byte,
                None => break,
            }
            n += 1;
        }
        n
    }

    fn write(&mut self, bytes: &[u8]) -> usize {
        bytes
            .iter()
            .take_while(|&&byte| self.tx.enqueue(byte).is_ok())
            .count()
    }
}

/// The last event kept: a type and id of up to 16 bytes, data of 64.
pub(crate) type Kept = HeaplessEvent<16, 16, 64>;

/// Reads `transport` in small chunks until it has nothing more, decoding
/// as it goes: each event is acknowledged with an `ack` event carrying its
/// id, and the last one that fits is kept and returned.
pub(crate) fn run(transport: &mut dyn Transport) -> Option<Kept> {
    let mut decoder = Decoder::new([0u8; 256]);
    let mut chunk = [0u8; 32];
    let mut last = None;
    let ack_type = EventType::new("ack").ok()?;
    loop {
        let n = transport.read(&mut chunk);
        if n == 0 {
            return last;
        }
        let mut input = chunk.get(..n)?;
        while let Some(frame) = decoder.decode(&mut input) {
            let Ok(Frame::Event(event)) = frame else {
                continue;
            };
            let ack = Event::new("").with_type(ack_type).with_id_opt(event.id());
            let mut out: heapless::Vec<u8, 64> = heapless::Vec::new();
            if ack.encode_into(&mut out).is_ok() {
                transport.write(&out);
            }
            if let Ok(kept) = Kept::try_from(event) {
                last = Some(kept);
            }
        }
    }
}
