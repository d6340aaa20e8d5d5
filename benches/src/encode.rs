//! The encoders under test: events in, bytes out, each checked for the total
//! length it wrote.
//!
//! Each builds every event from its strings (so field checks are timed) and
//! encodes it the way a server writes a frame. Those that can write into a
//! caller's buffer (ours, the plain floor, the `memcpy` limit) append each
//! event to the same `Vec`, cleared before each event as a write buffer is
//! after each write; it has grown to the largest event after the first run,
//! as it would on a long-lived connection.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::response::IntoResponse as _;
use futures_util::StreamExt as _;
use http_body::Body as _;
use sse_proto::{Event, EventId, EventType};

use crate::corpus::{EncodeCorpus, Outgoing};
use crate::floor::plain_encode;

/// An implementation (or a limit) that writes events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// `sse_proto::Event::encode_into` the reused `Vec`.
    SseProto,
    /// `sse_stream::Sse::encode`, one `Bytes` per event.
    SseStream,
    /// `axum::response::sse::Event` through its public API: an `Sse`
    /// response over a stream of events, its body polled frame by frame.
    Axum,
    /// `format!("event: {t}\nid: {id}\ndata: {data}\n\n")`, one `String` per
    /// event (multi-line data through `str::replace`).
    Format,
    /// The floor: [`plain_encode`], no checks, into the reused `Vec`.
    Plain,
    /// The limit: copying each event's encoding into the reused `Vec`.
    Memcpy,
}

impl Impl {
    /// Every encoder and limit, in table order.
    pub const ALL: [Self; 6] = [
        Self::SseProto,
        Self::SseStream,
        Self::Axum,
        Self::Format,
        Self::Plain,
        Self::Memcpy,
    ];

    /// The name in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::SseProto => "sse-proto",
            Self::SseStream => "sse-stream",
            Self::Axum => "axum",
            Self::Format => "format!",
            Self::Plain => "plain",
            Self::Memcpy => "memcpy",
        }
    }
}

/// Encodes events; holds the reused output buffer and the reference
/// encoding that the `memcpy` limit copies.
pub struct Runner {
    events: Arc<[Outgoing]>,
    out: Vec<u8>,
    /// Every event's encoding, one after the other, and where each ends.
    wire: Vec<u8>,
    ends: Vec<usize>,
}

impl Runner {
    /// A runner for `corpus`.
    pub fn new(corpus: &EncodeCorpus) -> Self {
        let mut wire = Vec::new();
        let mut ends = Vec::new();
        for event in &corpus.events {
            wire.extend(reference(event));
            ends.push(wire.len());
        }
        Self {
            events: corpus.events.clone().into(),
            out: Vec::new(),
            wire,
            ends,
        }
    }

    /// The total length every implementation must write.
    pub fn expected(&self) -> usize {
        self.wire.len()
    }

    /// Encodes every event with `imp`; returns the bytes written.
    pub fn run(&mut self, imp: Impl) -> usize {
        match imp {
            Impl::SseProto => self.run_sse_proto(),
            Impl::SseStream => self
                .events
                .iter()
                .map(|e| {
                    sse_stream::Sse::default()
                        .event(e.event_type.as_str())
                        .id(e.id.as_str())
                        .data(e.data.as_str())
                        .encode()
                        .expect("valid fields")
                        .len()
                })
                .sum(),
            Impl::Axum => run_axum(&self.events),
            Impl::Format => self
                .events
                .iter()
                .map(|e| {
                    format!(
                        "event: {}\nid: {}\ndata: {}\n\n",
                        e.event_type,
                        e.id,
                        e.data.replace('\n', "\ndata: ")
                    )
                    .len()
                })
                .sum(),
            Impl::Plain => self.run_plain(),
            Impl::Memcpy => self.run_memcpy(),
        }
    }

    fn run_sse_proto(&mut self) -> usize {
        let mut written = 0;
        for e in self.events.iter() {
            let event = Event::new(&e.data)
                .with_type(EventType::new(&e.event_type).expect("no line break"))
                .with_id(EventId::new(&e.id).expect("no line break"));
            self.out.clear();
            written += event.encode_into(&mut self.out).expect("a Vec grows");
            std::hint::black_box(&self.out);
        }
        written
    }

    fn run_plain(&mut self) -> usize {
        let mut written = 0;
        for e in self.events.iter() {
            self.out.clear();
            plain_encode(&mut self.out, &e.event_type, &e.id, &e.data);
            written += std::hint::black_box(&self.out).len();
        }
        written
    }

    fn run_memcpy(&mut self) -> usize {
        let mut written = 0;
        let mut start = 0;
        for &end in &self.ends {
            self.out.clear();
            self.out.extend_from_slice(&self.wire[start..end]);
            written += std::hint::black_box(&self.out).len();
            start = end;
        }
        written
    }
}

/// The bytes every encoder must write for `event` (in some field order).
fn reference(event: &Outgoing) -> Vec<u8> {
    let mut out = format!("event: {}\nid: {}\n", event.event_type, event.id);
    for line in event.data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.into_bytes()
}

fn run_axum(events: &Arc<[Outgoing]>) -> usize {
    // `Sse` wants a `'static` stream: it reads the fields through an `Arc`,
    // so nothing is copied that axum would not copy itself.
    let events = Arc::clone(events);
    let stream = futures_util::stream::iter(0..events.len()).map(move |i| {
        let e = &events[i];
        Ok::<_, Infallible>(
            axum::response::sse::Event::default()
                .event(&e.event_type)
                .id(&e.id)
                .data(&e.data),
        )
    });
    let mut body = axum::response::Sse::new(stream).into_response().into_body();
    let mut cx = Context::from_waker(Waker::noop());
    let mut written = 0;
    loop {
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(frame)) => {
                let frame = frame.expect("infallible");
                written += frame.data_ref().map_or(0, |data| data.len());
            }
            Poll::Ready(None) => return written,
            Poll::Pending => unreachable!("an in-memory stream is always ready"),
        }
    }
}
