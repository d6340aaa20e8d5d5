//! One stored event: its channels, type, own id (if any) and data, as the
//! bytes of a database value.
//!
//! The fields are bytes that need not be UTF-8 (an [`Event`]'s are not
//! required to be), so the layout is three length-prefixed fields and the
//! data, rather than a text format:
//!
//! ```text
//! 1 (format) | count | (len: u8, channel)* | len: u16 LE, type | 0 or 1 (has id) [len: u16 LE, id] | data...
//! ```
//!
//! An empty type is `message`. Channel names are at most
//! [`MAX_CHANNEL_LEN`](sse_proto::publisher::MAX_CHANNEL_LEN) (128) bytes and
//! ids and types far less than 64 KiB, so the prefixes always fit; a value
//! that does not parse is reported, never guessed at.

use sse_proto::publisher::ChannelList;
use sse_proto::{Event, EventId, EventType, Text};

/// The first byte of every record.
const FORMAT: u8 = 1;

/// Encodes `event` on `channels` as a stored record; `None` if a field is
/// too long for its length prefix (no event the publisher accepts is).
pub(super) fn encode(event: Event<'_>, channels: &ChannelList<'_>) -> Option<Vec<u8>> {
    let event_type = if event.event_type().is_message() {
        &[][..]
    } else {
        event.event_type().as_text().as_bytes()
    };
    let id = event.id().map(|id| id.as_text().as_bytes());
    let data = event.data().as_bytes();
    let names = channels.as_slice();
    let mut out = Vec::with_capacity(
        8 + names.iter().map(|name| name.len() + 1).sum::<usize>()
            + event_type.len()
            + id.map_or(0, <[u8]>::len)
            + data.len(),
    );
    out.push(FORMAT);
    out.push(u8::try_from(names.len()).ok()?);
    for name in names {
        out.push(u8::try_from(name.len()).ok()?);
        out.extend_from_slice(name.as_bytes());
    }
    put_u16_field(&mut out, event_type)?;
    match id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            put_u16_field(&mut out, id)?;
        }
    }
    out.extend_from_slice(data);
    Some(out)
}

fn put_u16_field(out: &mut Vec<u8>, field: &[u8]) -> Option<()> {
    out.extend_from_slice(&u16::try_from(field.len()).ok()?.to_le_bytes());
    out.extend_from_slice(field);
    Some(())
}

/// A stored record read back, borrowing its bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Stored<'a> {
    pub(super) event: Event<'a>,
    pub(super) channels: Vec<&'a str>,
}

/// Why a stored value could not be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DecodeError {
    /// Another format (written by a newer version).
    Format(u8),
    /// Cut short, or a field that is not what it must be.
    Malformed,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Format(format) => write!(f, "stored in an unknown format ({format})"),
            Self::Malformed => f.write_str("malformed stored event"),
        }
    }
}

/// Reads a record written by [`encode`].
pub(super) fn decode(bytes: &[u8]) -> Result<Stored<'_>, DecodeError> {
    let mut reader = Reader(bytes);
    match reader.u8()? {
        FORMAT => {}
        other => return Err(DecodeError::Format(other)),
    }
    let count = reader.u8()?;
    let mut channels = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let len = reader.u8()?;
        let name = reader.take(usize::from(len))?;
        channels.push(core::str::from_utf8(name).map_err(|_| DecodeError::Malformed)?);
    }
    let event_type = reader.u16_field()?;
    let id = match reader.u8()? {
        0 => None,
        1 => Some(reader.u16_field()?),
        _ => return Err(DecodeError::Malformed),
    };
    let mut event = Event::from_text(Text::from_bytes(reader.0));
    if !event_type.is_empty() {
        event =
            event.with_type(EventType::from_bytes(event_type).map_err(|_| DecodeError::Malformed)?);
    }
    if let Some(id) = id {
        event = event.with_id(EventId::from_bytes(id).map_err(|_| DecodeError::Malformed)?);
    }
    Ok(Stored { event, channels })
}

/// What is left to read.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.0.len() {
            return Err(DecodeError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        let [byte] = self.take(1)? else {
            return Err(DecodeError::Malformed);
        };
        Ok(*byte)
    }

    fn u16_field(&mut self) -> Result<&'a [u8], DecodeError> {
        let [low, high] = self.take(2)? else {
            return Err(DecodeError::Malformed);
        };
        self.take(usize::from(u16::from_le_bytes([*low, *high])))
    }
}

#[cfg(test)]
mod tests {
    use super::{DecodeError, decode, encode};
    use sse_proto::publisher::ChannelList;
    use sse_proto::{Event, EventId, EventType, Text};

    #[test]
    fn every_field_round_trips_bytes_included() {
        let channels = ChannelList::parse(["news", "sport"], 16).unwrap();
        let events = [
            Event::new("plain"),
            Event::new(""),
            Event::new("multi\nline").with_type(EventType::new("update").unwrap()),
            Event::new("with id").with_id(EventId::new("own-7").unwrap()),
            Event::new("empty id").with_id(EventId::new("").unwrap()),
            Event::from_text(Text::from_bytes(b"not \xFF utf-8")),
        ];
        for event in events {
            let bytes = encode(event, &channels).unwrap();
            let stored = decode(&bytes).unwrap();
            assert_eq!(stored.event, event);
            assert_eq!(stored.channels, ["news", "sport"]);
        }
    }

    #[test]
    fn damaged_records_are_reported() {
        let channels = ChannelList::parse(["news"], 16).unwrap();
        let event = Event::new("data").with_id(EventId::new("7").unwrap());
        let bytes = encode(event, &channels).unwrap();
        // Every cut before the data starts is noticed.
        let data_start = bytes.len() - "data".len();
        for cut in 0..data_start {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut newer = bytes.clone();
        newer[0] = 2;
        assert_eq!(decode(&newer), Err(DecodeError::Format(2)));
        let mut bad_flag = bytes.clone();
        bad_flag[1 + 1 + 1 + 4 + 2] = 9;
        assert_eq!(decode(&bad_flag), Err(DecodeError::Malformed));
    }
}
