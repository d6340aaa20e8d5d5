//! The keys, the two Lua scripts, and what Redis answers, parsed.
//!
//! Every key shares the hash tag `{prefix}`, so the keys of one publish sit
//! in one Redis Cluster slot and a script may touch them all.
//!
//! - `{prefix}:all`: the global stream, the live feed every node reads.
//! - `{prefix}:ch:<channel>`: one stream per channel, the resume history.
//!
//! Channel names are 1 to 128 bytes without white space or control
//! characters (`check_channel`); the key is the fixed `{prefix}:ch:` followed
//! by the name, so different channels get different keys, and the channel
//! list of an entry is the names joined by a space, which no name contains.

use ::redis::{Script, Value};

use super::RedisId;

/// Appends one event: to the global stream with the id Redis chooses (which
/// the script returns), then to each channel's stream with that same id.
///
/// `KEYS[1]`: the global stream; `KEYS[2..]`: the channel streams.
/// `ARGV`: the global stream's approximate bound, the channel streams' exact
/// bound, then the fields `t` (type, empty for `message`), `d` (data), `c`
/// (channels, space-separated).
///
/// Each entry also records `p`, the id of the previous entry of its own
/// stream (`0-0` for the first ever). A reader of the global stream that
/// sees an entry whose `p` is not the last id it read knows that entries in
/// between were trimmed (or lost by Redis); a resume that finds a channel's
/// oldest kept entry has a `p` newer than the client's id knows that the
/// client missed trimmed entries. (`XINFO`'s `max-deleted-entry-id` cannot
/// tell: trimming does not move it, only `XDEL` does.)
///
/// Channel streams only ever receive ids the global stream issued, in
/// order, so the explicit ids are always valid; and since the script is
/// atomic, a channel stream holds exactly the entries of the global stream
/// that name its channel.
const PUBLISH: &str = r"
local function last(key)
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if newest[1] then return newest[1][1] end
  return '0-0'
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'p', last(KEYS[1]), 't', ARGV[3], 'd', ARGV[4], 'c', ARGV[5])
for i = 2, #KEYS do
  redis.call('XADD', KEYS[i], 'MAXLEN', ARGV[2], id,
    'p', last(KEYS[i]), 't', ARGV[3], 'd', ARGV[4], 'c', ARGV[5])
end
return id
";

/// What a resuming client missed on its channels, read atomically.
///
/// `KEYS[1]`: the global stream; `KEYS[2..]`: the channel streams. `ARGV`:
/// the first id wanted, the last, and the most entries per channel.
/// Answers the global stream's oldest entry (nil if none), then for each
/// channel `{its oldest entry or nil, the entries wanted}`.
const HISTORY: &str = r"
local function oldest(key)
  local entries = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)
  if entries[1] then return entries[1] end
  return false
end
local out = {oldest(KEYS[1])}
for i = 2, #KEYS do
  out[i] = {oldest(KEYS[i]), redis.call('XRANGE', KEYS[i], ARGV[1], ARGV[2], 'COUNT', ARGV[3])}
end
return out
";

/// Appends a readiness probe to the global stream: an entry with `p` (so
/// that readers see no gap) and `probe` (who sent it), which every reader
/// skips, delivering it to no one.
///
/// `KEYS[1]`: the global stream. `ARGV`: its approximate bound, the
/// prober's name.
const PROBE: &str = r"
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if newest[1] then prev = newest[1][1] end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'p', prev, 'probe', ARGV[2])
";

/// The scripts, hashed once.
#[derive(Clone)]
pub(super) struct Scripts {
    pub(super) publish: Script,
    pub(super) history: Script,
    pub(super) probe: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            publish: Script::new(PUBLISH),
            history: Script::new(HISTORY),
            probe: Script::new(PROBE),
        }
    }
}

/// The keys of one deployment (one prefix).
#[derive(Clone, Debug)]
pub(super) struct Keys {
    /// `{prefix}:all`.
    pub(super) all: String,
    /// `{prefix}:ch:`, followed by a channel name.
    channel_prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            all: format!("{{{prefix}}}:all"),
            channel_prefix: format!("{{{prefix}}}:ch:"),
        }
    }

    /// The stream of a (checked) channel.
    pub(super) fn channel(&self, name: &str) -> String {
        let mut key = String::with_capacity(self.channel_prefix.len() + name.len());
        key.push_str(&self.channel_prefix);
        key.push_str(name);
        key
    }
}

/// An answer Redis was not expected to give: the keys were written by
/// something else, or a Redis too different from ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unexpected(pub(super) &'static str);

/// One stream entry as this layer writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) id: RedisId,
    /// The previous entry of the global stream (`p`), when recorded.
    pub(super) prev: Option<RedisId>,
    /// `t`: empty for `message`.
    pub(super) event_type: Vec<u8>,
    /// `d`.
    pub(super) data: Vec<u8>,
    /// `c`: names separated by a space.
    pub(super) channels: String,
    /// A readiness probe (field `probe`), delivered to no one.
    pub(super) probe: bool,
}

impl Entry {
    /// The channel names.
    pub(super) fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.channels.split(' ').filter(|name| !name.is_empty())
    }
}

fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        Value::Okay => Some(b"OK".to_vec()),
        _ => None,
    }
}

fn text(value: Value) -> Option<String> {
    bytes(value).and_then(|bytes| String::from_utf8(bytes).ok())
}

/// A stream id in a reply.
pub(super) fn id(value: Value) -> Result<RedisId, Unexpected> {
    text(value)
        .and_then(|text| RedisId::parse(&text))
        .ok_or(Unexpected("a stream entry id"))
}

fn array(value: Value) -> Result<Vec<Value>, Unexpected> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        _ => Err(Unexpected("an array")),
    }
}

/// One entry: `[id, [field, value, ...]]`.
fn entry(value: Value) -> Result<Entry, Unexpected> {
    let mut parts = array(value)?.into_iter();
    let (Some(raw_id), Some(fields)) = (parts.next(), parts.next()) else {
        return Err(Unexpected("a stream entry"));
    };
    let mut entry = Entry {
        id: id(raw_id)?,
        prev: None,
        event_type: Vec::new(),
        data: Vec::new(),
        channels: String::new(),
        probe: false,
    };
    let pairs: Vec<(Value, Value)> = match fields {
        Value::Map(pairs) => pairs,
        fields => {
            let mut flat = array(fields)?.into_iter();
            let mut pairs = Vec::new();
            while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
                pairs.push((name, value));
            }
            pairs
        }
    };
    for (name, value) in pairs {
        let Some(name) = bytes(name) else { continue };
        match name.as_slice() {
            // Lenient: an entry written by something else is still read.
            b"p" => entry.prev = id(value).ok(),
            b"t" => entry.event_type = bytes(value).unwrap_or_default(),
            b"d" => entry.data = bytes(value).unwrap_or_default(),
            b"c" => entry.channels = text(value).unwrap_or_default(),
            b"probe" => entry.probe = true,
            _ => {}
        }
    }
    Ok(entry)
}

/// A list of entries (`XRANGE`, `XREVRANGE`).
pub(super) fn entries(value: Value) -> Result<Vec<Entry>, Unexpected> {
    array(value)?.into_iter().map(entry).collect()
}

/// The entries of an `XREAD` of one stream; nil when it timed out.
pub(super) fn read_reply(value: Value) -> Result<Vec<Entry>, Unexpected> {
    let streams: Vec<Value> = match value {
        Value::Nil => return Ok(Vec::new()),
        // RESP3 answers a map of key to entries.
        Value::Map(pairs) => pairs.into_iter().map(|(_, entries)| entries).collect(),
        value => array(value)?
            .into_iter()
            .map(|stream| {
                let mut parts = array(stream)?.into_iter();
                parts.nth(1).ok_or(Unexpected("a stream in an XREAD reply"))
            })
            .collect::<Result<_, _>>()?,
    };
    let mut all = Vec::new();
    for stream in streams {
        all.extend(entries(stream)?);
    }
    Ok(all)
}

/// What the history script says about one channel.
#[derive(Debug)]
pub(super) struct ChannelHistory {
    /// The oldest entry kept.
    pub(super) oldest: Option<Entry>,
    /// The entries in the range asked for.
    pub(super) entries: Vec<Entry>,
}

/// The history script's answer: the global stream's oldest entry, and one
/// history per channel.
pub(super) fn history_reply(
    value: Value,
) -> Result<(Option<Entry>, Vec<ChannelHistory>), Unexpected> {
    let mut parts = array(value)?.into_iter();
    let global = optional_entry(parts.next().ok_or(Unexpected("the global stream"))?)?;
    let channels = parts
        .map(|channel| {
            let mut parts = array(channel)?.into_iter();
            let (Some(oldest), Some(entries_value)) = (parts.next(), parts.next()) else {
                return Err(Unexpected("a channel's history"));
            };
            Ok(ChannelHistory {
                oldest: optional_entry(oldest)?,
                entries: entries(entries_value)?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((global, channels))
}

/// An entry, or nil (`false` from Lua).
fn optional_entry(value: Value) -> Result<Option<Entry>, Unexpected> {
    match value {
        Value::Nil => Ok(None),
        value => entry(value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use ::redis::Value;

    use super::{Keys, RedisId, entries, history_reply, read_reply};

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn raw_entry(id: &str, fields: &[(&str, &str)]) -> Value {
        Value::Array(vec![
            bulk(id),
            Value::Array(
                fields
                    .iter()
                    .flat_map(|(name, value)| [bulk(name), bulk(value)])
                    .collect(),
            ),
        ])
    }

    #[test]
    fn keys_share_a_hash_tag_and_channels_map_one_to_one() {
        let keys = Keys::new("sse");
        assert_eq!(keys.all, "{sse}:all");
        assert_eq!(keys.channel("news"), "{sse}:ch:news");
        // Braces in a channel name do not move the hash tag: Redis Cluster
        // hashes what is between the first `{` and the first `}` after it.
        assert_eq!(keys.channel("{a}"), "{sse}:ch:{a}");
        assert_ne!(keys.channel("all"), keys.all);
    }

    #[test]
    fn read_replies_parse_in_resp2_and_resp3() {
        let entry = raw_entry(
            "5-1",
            &[("p", "5-0"), ("t", "note"), ("d", "a\nb"), ("c", "x y")],
        );
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk("{sse}:all"),
            Value::Array(vec![entry.clone()]),
        ])]);
        let resp3 = Value::Map(vec![(bulk("{sse}:all"), Value::Array(vec![entry]))]);
        for reply in [resp2, resp3] {
            let got = read_reply(reply).unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].id, RedisId::new(5, 1));
            assert_eq!(got[0].prev, Some(RedisId::new(5, 0)));
            assert_eq!(got[0].event_type, b"note");
            assert_eq!(got[0].data, b"a\nb");
            assert_eq!(got[0].channel_names().collect::<Vec<_>>(), ["x", "y"]);
        }
        assert!(read_reply(Value::Nil).unwrap().is_empty());
        assert!(entries(Value::Array(vec![bulk("nonsense")])).is_err());
    }

    #[test]
    fn history_replies_parse() {
        let reply = Value::Array(vec![
            raw_entry("1-0", &[("p", "0-0"), ("d", "first"), ("c", "a")]),
            Value::Array(vec![
                raw_entry("3-0", &[("p", "2-0"), ("d", "x"), ("c", "a")]),
                Value::Array(vec![raw_entry(
                    "4-0",
                    &[("p", "3-0"), ("d", "y"), ("c", "a")],
                )]),
            ]),
            Value::Array(vec![Value::Nil, Value::Array(vec![])]),
        ]);
        let (global, channels) = history_reply(reply).unwrap();
        assert_eq!(global.unwrap().prev, Some(RedisId::ZERO));
        let oldest = channels[0].oldest.as_ref().unwrap();
        assert_eq!(
            (oldest.id, oldest.prev),
            (RedisId::new(3, 0), Some(RedisId::new(2, 0)))
        );
        assert_eq!(channels[0].entries[0].data, b"y");
        assert!(channels[1].oldest.is_none() && channels[1].entries.is_empty());
        assert!(history_reply(Value::Array(vec![])).is_err());
    }
}
