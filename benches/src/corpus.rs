//! The inputs: event streams shaped like real traffic, built the same way on
//! every run, with what they must decode to.

use std::fmt::Write as _;

/// An event stream and what it decodes to.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// Short name, used in benchmark ids and tables.
    pub name: &'static str,
    /// What it looks like, for the README.
    pub description: &'static str,
    /// The stream.
    pub bytes: Vec<u8>,
    /// How many events it dispatches.
    pub events: usize,
    /// The data bytes of all its events together (lines joined with LF).
    pub data_bytes: usize,
    /// The largest data of one event, in bytes, counting the LF ending each
    /// line: what a decoder's data buffer must hold.
    pub max_event_len: usize,
    /// The chunk sizes it is fed in (`usize::MAX`: the whole stream at once).
    pub chunk_sizes: &'static [usize],
}

/// Builds a stream event by event, keeping count of what it must decode to.
#[derive(Default)]
struct Builder {
    bytes: String,
    events: usize,
    data_bytes: usize,
    max_event_len: usize,
}

impl Builder {
    /// Appends an event; `data` lines are joined with LF.
    fn event(&mut self, event_type: Option<&str>, id: Option<&str>, data: &[&str]) {
        if let Some(id) = id {
            let _ = writeln!(self.bytes, "id: {id}");
        }
        if let Some(event_type) = event_type {
            let _ = writeln!(self.bytes, "event: {event_type}");
        }
        let mut len = 0;
        for line in data {
            let _ = writeln!(self.bytes, "data: {line}");
            len += line.len() + 1;
        }
        self.bytes.push('\n');
        self.events += 1;
        self.data_bytes += len - 1;
        self.max_event_len = self.max_event_len.max(len);
    }

    fn build(
        self,
        name: &'static str,
        description: &'static str,
        chunk_sizes: &'static [usize],
    ) -> Corpus {
        Corpus {
            name,
            description,
            bytes: self.bytes.into_bytes(),
            events: self.events,
            data_bytes: self.data_bytes,
            max_event_len: self.max_event_len,
            chunk_sizes,
        }
    }
}

/// A small deterministic generator, so that values vary without randomness.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

const WORDS: [&str; 8] = [
    " the", " model", " token", " stream", " of", " events", ",", " and",
];

/// The live-feed shape: `id`, `event` and about 40 bytes of JSON each.
fn small_events(count: usize) -> Builder {
    let mut rng = Lcg(7);
    let mut builder = Builder::default();
    for n in 0..count {
        let data = format!(
            r#"{{"sym":"AB{:02}","px":{}.{:02},"qty":{}}}"#,
            rng.next() % 100,
            100 + rng.next() % 900,
            rng.next() % 100,
            1 + rng.next() % 9999
        );
        builder.event(Some("quote"), Some(&(1_000_000 + n).to_string()), &[&data]);
    }
    builder
}

/// Standard chunkings: a TCP-segment-ish 64 bytes and a read buffer of 16 KiB.
const STANDARD: &[usize] = &[64, 16 * 1024];

/// 2,000 live-feed events (id, type, ~40-byte JSON), LF line ends.
pub fn small() -> Corpus {
    small_events(2000).build(
        "small",
        "2,000 live-feed events: `id`, `event`, ~40 bytes of JSON `data`",
        &[1, 64, 16 * 1024],
    )
}

/// The same events as [`small`] with CRLF line ends.
pub fn crlf() -> Corpus {
    let mut corpus = small_events(2000).build(
        "crlf",
        "the same 2,000 events with CRLF line ends",
        STANDARD,
    );
    let text = String::from_utf8(corpus.bytes).expect("built from strings");
    corpus.bytes = text.replace('\n', "\r\n").into_bytes();
    corpus
}

/// 5,000 tiny `data:` events, as an LLM streams tokens.
pub fn tokens() -> Corpus {
    let mut rng = Lcg(11);
    let mut builder = Builder::default();
    for _ in 0..5000 {
        let word = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        builder.event(None, None, &[&format!(r#"{{"t":"{word}"}}"#)]);
    }
    builder.build(
        "tokens",
        "5,000 LLM-token events: `data: {\"t\":\" word\"}` and nothing else",
        STANDARD,
    )
}

/// 16 events of one 64 KiB data line each.
pub fn payload_64k() -> Corpus {
    let mut rng = Lcg(13);
    let mut builder = Builder::default();
    for _ in 0..16 {
        let line: String = (0..64 * 1024)
            .map(|_| char::from(b'a' + (rng.next() % 26) as u8))
            .collect();
        builder.event(None, None, &[&line]);
    }
    builder.build(
        "payload-64k",
        "16 events of one 64 KiB `data` line each",
        STANDARD,
    )
}

/// 200 events of 50 data lines each.
pub fn multiline() -> Corpus {
    let mut rng = Lcg(17);
    let mut builder = Builder::default();
    for n in 0..200 {
        let lines: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    "{n:04}.{i:02} {}",
                    "x".repeat(20 + (rng.next() % 40) as usize)
                )
            })
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        builder.event(Some("log"), None, &lines);
    }
    builder.build(
        "multiline",
        "200 events of 50 `data` lines (~40 bytes each)",
        STANDARD,
    )
}

/// One event whose data is a single 8 MiB line.
pub fn line_8m() -> Corpus {
    let line = "y".repeat(8 << 20);
    let mut builder = Builder::default();
    builder.event(None, None, &[&line]);
    builder.build(
        "line-8m",
        "one event with a single 8 MiB `data` line",
        &[64, 1024, 16 * 1024, usize::MAX],
    )
}

/// Every decoding corpus.
pub fn all() -> Vec<Corpus> {
    vec![
        small(),
        crlf(),
        tokens(),
        payload_64k(),
        multiline(),
        line_8m(),
    ]
}

/// `bytes` in chunks of `size` (the whole of it for `usize::MAX`).
pub fn chunks(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    bytes.chunks(size.min(bytes.len().max(1))).collect()
}

/// A chunk size as the tables show it.
pub fn chunk_label(size: usize) -> String {
    match size {
        usize::MAX => "whole".to_string(),
        n if n >= 1024 && n % 1024 == 0 => format!("{}KiB", n / 1024),
        n => format!("{n}B"),
    }
}

/// One event to encode: type, id and data, as a server holds them.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The event type.
    pub event_type: String,
    /// The id.
    pub id: String,
    /// The data, lines separated by LF.
    pub data: String,
}

/// Events to encode, with a name for the tables.
#[derive(Clone, Debug)]
pub struct EncodeCorpus {
    /// Short name.
    pub name: &'static str,
    /// What it looks like.
    pub description: &'static str,
    /// The events.
    pub events: Vec<Outgoing>,
}

/// The encoding corpora: small live-feed events, 64 KiB payloads and
/// 50-line events.
pub fn encode_all() -> Vec<EncodeCorpus> {
    let mut rng = Lcg(7);
    let small = (0..2000)
        .map(|n| Outgoing {
            event_type: "quote".to_string(),
            id: (1_000_000 + n).to_string(),
            data: format!(
                r#"{{"sym":"AB{:02}","px":{}.{:02},"qty":{}}}"#,
                rng.next() % 100,
                100 + rng.next() % 900,
                rng.next() % 100,
                1 + rng.next() % 9999
            ),
        })
        .collect();
    let payload = (0..16)
        .map(|n| Outgoing {
            event_type: "blob".to_string(),
            id: n.to_string(),
            data: (0..64 * 1024)
                .map(|_| char::from(b'a' + (rng.next() % 26) as u8))
                .collect(),
        })
        .collect();
    let multiline = (0..200)
        .map(|n| Outgoing {
            event_type: "log".to_string(),
            id: n.to_string(),
            data: (0..50)
                .map(|i| {
                    format!(
                        "{n:04}.{i:02} {}",
                        "x".repeat(20 + (rng.next() % 40) as usize)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();
    vec![
        EncodeCorpus {
            name: "small",
            description: "2,000 live-feed events: `event`, `id`, ~40 bytes of JSON",
            events: small,
        },
        EncodeCorpus {
            name: "payload-64k",
            description: "16 events with 64 KiB of single-line data each",
            events: payload,
        },
        EncodeCorpus {
            name: "multiline",
            description: "200 events of 50 data lines each",
            events: multiline,
        },
    ]
}
