//! The decoders under test, each behind the same call: chunks in, a count of
//! what came out. The limits (one `memchr2` per line, a `memcpy`) are here
//! too, so they run on exactly the same chunks.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use sse_proto::{Decoder, Frame, Limits};
use sse_tokio::EventReader;
use tokio::io::{AsyncRead, ReadBuf};

use crate::corpus::Corpus;
use crate::floor::PlainDecoder;

/// What a run produced, compared with what it must produce inside every
/// timed closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Events dispatched (lines found, for the `memchr2` limit).
    pub events: usize,
    /// Data bytes of those events (bytes copied, for the `memcpy` limit).
    pub bytes: usize,
}

/// An implementation (or a limit) that reads an event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// `sse_proto::Decoder`, in a buffer allocated once.
    SseProto,
    /// `sse_tokio::EventReader` (borrowing `poll_next_event`) over an
    /// in-memory `AsyncRead` that hands out the same chunks, one per read;
    /// built once, as a long-lived connection is.
    SseTokio,
    /// `sse-stream` 0.3 (`SseByteStream` over a stream of byte slices).
    SseStream,
    /// `sse-parse` 0.1 (`SseParser`, fed chunk by chunk).
    SseParse,
    /// `eventsource-stream` 0.2 (`EventStream` over a stream of byte slices).
    EventsourceStream,
    /// The floor: [`PlainDecoder`], `memchr2` per line and fields copied
    /// into `Vec`s, without the spec's rules and limits; built once.
    Plain,
    /// The limit: `memchr::memchr2` for CR and LF, once per line, over the
    /// same chunks.
    Memchr2PerLine,
    /// The limit: copying the chunks into a buffer.
    Memcpy,
}

impl Impl {
    /// Every decoder and limit, in table order.
    pub const ALL: [Self; 8] = [
        Self::SseProto,
        Self::SseTokio,
        Self::SseStream,
        Self::SseParse,
        Self::EventsourceStream,
        Self::Plain,
        Self::Memchr2PerLine,
        Self::Memcpy,
    ];

    /// The name in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::SseProto => "sse-proto",
            Self::SseTokio => "sse-tokio",
            Self::SseStream => "sse-stream",
            Self::SseParse => "sse-parse",
            Self::EventsourceStream => "eventsource-stream",
            Self::Plain => "plain",
            Self::Memchr2PerLine => "memchr2-per-line",
            Self::Memcpy => "memcpy",
        }
    }

    /// Whether this is a limit rather than a decoder.
    pub fn is_limit(self) -> bool {
        matches!(self, Self::Memchr2PerLine | Self::Memcpy)
    }

    /// Why this implementation is not measured on a corpus and chunking, if
    /// it is not.
    pub fn skipped(self, corpus: &Corpus, chunk: usize) -> Option<&'static str> {
        // eventsource-stream appends each chunk to a buffer and parses it
        // again from the start of the unfinished line, so a long line costs
        // time quadratic in the number of chunks it arrives in.
        let long_line = corpus.max_event_len > 1 << 20;
        (self == Self::EventsourceStream && long_line && chunk < usize::MAX)
            .then_some("quadratic in the chunks of one line")
    }

    /// What a run over `corpus` must produce.
    pub fn expected(self, corpus: &Corpus) -> Outcome {
        match self {
            Self::Memchr2PerLine => Outcome {
                events: corpus
                    .bytes
                    .iter()
                    .filter(|&&b| b == b'\n' || b == b'\r')
                    .count(),
                bytes: 0,
            },
            Self::Memcpy => Outcome {
                events: 0,
                bytes: corpus.bytes.len(),
            },
            _ => Outcome {
                events: corpus.events,
                bytes: corpus.data_bytes,
            },
        }
    }
}

/// Runs decoders over chunks; holds what lives longer than one run (our
/// decoder's buffer, the `memcpy` destination), as a long-lived connection
/// would.
pub struct Runner {
    decoder: Decoder<Box<[u8]>>,
    reader: EventReader<Chunks>,
    plain: PlainDecoder,
    copy: Vec<u8>,
}

impl Runner {
    /// A runner for `corpus`.
    pub fn new(corpus: &Corpus) -> Self {
        let chunks = Chunks {
            bytes: corpus.bytes.clone().into(),
            size: 1,
            at: corpus.bytes.len(),
        };
        // The reader as users get it: a buffer that grows with each event
        // and gives back what an event over its keep length took.
        let decoder = Decoder::with_capacity(corpus.max_event_len, Limits::new());
        // The decoder proper in a fixed buffer for the largest event: no
        // allocation at all once built.
        let fixed = vec![0; Limits::new().buffer_len(corpus.max_event_len)];
        Self {
            decoder: Decoder::with_limits(fixed.into_boxed_slice(), Limits::new()),
            reader: EventReader::with_decoder(chunks, decoder),
            plain: PlainDecoder::default(),
            copy: vec![0; corpus.bytes.len()],
        }
    }

    /// Decodes `chunks` with `imp` and says what came out.
    pub fn run(&mut self, imp: Impl, chunks: &[&[u8]]) -> Outcome {
        match imp {
            Impl::SseProto => self.run_sse_proto(chunks),
            Impl::SseTokio => self.run_sse_tokio(chunks),
            Impl::SseStream => run_sse_stream(chunks),
            Impl::SseParse => run_sse_parse(chunks),
            Impl::EventsourceStream => run_eventsource_stream(chunks),
            Impl::Plain => self.run_plain(chunks),
            Impl::Memchr2PerLine => run_memchr2(chunks),
            Impl::Memcpy => self.run_memcpy(chunks),
        }
    }

    fn run_sse_proto(&mut self, chunks: &[&[u8]]) -> Outcome {
        let mut out = Outcome {
            events: 0,
            bytes: 0,
        };
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(frame) = self.decoder.decode(&mut input) {
                if let Frame::Event(event) = frame.expect("a valid stream") {
                    out.events += 1;
                    out.bytes += event.data().len();
                }
            }
        }
        self.decoder.finish();
        out
    }

    fn run_plain(&mut self, chunks: &[&[u8]]) -> Outcome {
        let mut out = Outcome {
            events: 0,
            bytes: 0,
        };
        let mut count = |_: &[u8], _: &[u8], data: &[u8]| {
            out.events += 1;
            out.bytes += data.len();
        };
        for chunk in chunks {
            self.plain.feed(chunk, &mut count);
        }
        self.plain.finish();
        out
    }

    fn run_sse_tokio(&mut self, chunks: &[&[u8]]) -> Outcome {
        let source = self.reader.get_mut();
        source.size = chunks.first().map_or(1, |chunk| chunk.len());
        source.at = 0;
        let mut out = Outcome {
            events: 0,
            bytes: 0,
        };
        let mut cx = Context::from_waker(Waker::noop());
        // The source says `Pending` once it has handed out the corpus, so the
        // reader stays open for the next run, as on a live connection.
        while let Poll::Ready(Some(frame)) = self.reader.poll_next_event(&mut cx) {
            if let Frame::Event(event) = frame.expect("a valid stream") {
                out.events += 1;
                out.bytes += event.data().len();
            }
        }
        out
    }

    fn run_memcpy(&mut self, chunks: &[&[u8]]) -> Outcome {
        let mut at = 0;
        for chunk in chunks {
            self.copy[at..at + chunk.len()].copy_from_slice(chunk);
            at += chunk.len();
        }
        Outcome {
            events: 0,
            bytes: std::hint::black_box(&self.copy[..at]).len(),
        }
    }
}

/// An in-memory `AsyncRead` that hands out `bytes` in reads of at most
/// `size` bytes from `at`, then stays pending (never at its end).
struct Chunks {
    bytes: Box<[u8]>,
    size: usize,
    at: usize,
}

impl AsyncRead for Chunks {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let rest = this.bytes.get(this.at..).unwrap_or_default();
        if rest.is_empty() {
            return Poll::Pending;
        }
        let n = rest.len().min(this.size).min(buf.remaining());
        buf.put_slice(&rest[..n]);
        this.at += n;
        Poll::Ready(Ok(()))
    }
}

fn run_memchr2(chunks: &[&[u8]]) -> Outcome {
    let mut lines = 0;
    for chunk in chunks {
        let mut rest = *chunk;
        while let Some(end) = memchr::memchr2(b'\n', b'\r', rest) {
            lines += 1;
            rest = &rest[end + 1..];
        }
    }
    Outcome {
        events: lines,
        bytes: 0,
    }
}

/// A stream of the chunks, as an HTTP body would deliver them.
fn byte_stream<'a>(
    chunks: &'a [&'a [u8]],
) -> impl Stream<Item = Result<&'a [u8], Infallible>> + Unpin + 'a {
    futures_util::stream::iter(chunks.iter().map(|chunk| Ok(*chunk)))
}

/// Polls a stream that is always ready to its end, calling `each` per item.
fn drain<S: Stream + Unpin>(mut stream: S, mut each: impl FnMut(S::Item)) {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match Pin::new(&mut stream).poll_next(&mut cx) {
            Poll::Ready(Some(item)) => each(item),
            Poll::Ready(None) => return,
            Poll::Pending => unreachable!("in-memory streams are always ready"),
        }
    }
}

fn run_sse_stream(chunks: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        events: 0,
        bytes: 0,
    };
    drain(sse_stream::SseByteStream::new(byte_stream(chunks)), |sse| {
        let sse = sse.expect("a valid stream");
        if let Some(data) = sse.data {
            out.events += 1;
            out.bytes += data.len();
        }
    });
    out
}

fn run_sse_parse(chunks: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        events: 0,
        bytes: 0,
    };
    let mut parser = sse_parse::SseParser::new();
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(event) = parser.next_event() {
            out.events += 1;
            out.bytes += event.data.len();
        }
    }
    parser.finish();
    out
}

fn run_eventsource_stream(chunks: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        events: 0,
        bytes: 0,
    };
    drain(
        eventsource_stream::EventStream::new(byte_stream(chunks)),
        |event| {
            let event = event.expect("a valid stream");
            out.events += 1;
            out.bytes += event.data.len();
        },
    );
    out
}
