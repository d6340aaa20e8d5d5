//! `POST /publish`: one event, from a JSON body or a plain one, checked
//! field by field before anything is published.

use http::header::CONTENT_TYPE;
use http::request::Parts;
use serde_json::Value;
use sse_proto::publisher::ChannelList;
use sse_proto::{Event, EventId, EventType};

use crate::server::{Refusal, channel_refusal, query};

/// The keys a JSON publish may have.
const KEYS: [&str; 6] = ["channel", "channels", "event", "type", "id", "data"];

/// One event to publish, as the request gave it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Publication {
    pub(super) channels: Vec<String>,
    pub(super) event: Option<String>,
    pub(super) id: Option<String>,
    pub(super) data: String,
}

/// Whether the request says its body is JSON.
fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// A JSON string, or null for "not given"; anything else is refused,
/// naming the key.
fn text(value: Value, key: &str) -> Result<Option<String>, Refusal> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(Refusal::bad_request(format!("{key:?} must be a string"))),
    }
}

impl Publication {
    /// Reads the request: a JSON object when the content type says JSON
    /// (`{"channel" | "channels", "event" | "type", "id", "data"}`, where
    /// data that is not a string is sent as its JSON text), else the body
    /// is the data and `?channel=&event=&id=` give the rest. The query's
    /// fields count in both cases, the body's win.
    pub(super) fn read(parts: &Parts, body: &[u8]) -> Result<Self, Refusal> {
        let mut publication = Self {
            channels: query::values(parts, "channel")
                .map(|value| value.map(|value| value.into_owned()))
                .collect::<Result<_, _>>()?,
            event: query::first(parts, "event")?.map(|value| value.into_owned()),
            id: query::first(parts, "id")?.map(|value| value.into_owned()),
            data: String::new(),
        };
        if !is_json(parts) {
            publication.data = String::from_utf8(body.to_vec())
                .map_err(|_| Refusal::bad_request("the data is not UTF-8 text"))?;
            return Ok(publication);
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|error| Refusal::bad_request(format!("the body is not JSON: {error}")))?;
        let Value::Object(mut object) = value else {
            return Err(Refusal::bad_request("the body must be a JSON object"));
        };
        if let Some(key) = object.keys().find(|key| !KEYS.contains(&key.as_str())) {
            return Err(Refusal::bad_request(format!("unexpected key {key:?}")));
        }
        if let Some(channel) = object.remove("channel") {
            publication.channels.extend(text(channel, "channel")?);
        }
        match object.remove("channels") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for channel in list {
                    publication.channels.extend(text(channel, "channels")?);
                }
            }
            Some(_) => {
                return Err(Refusal::bad_request(
                    "\"channels\" must be a list of strings",
                ));
            }
        }
        for key in ["event", "type"] {
            if let Some(event) = object.remove(key) {
                publication.event = text(event, key)?.or(publication.event);
            }
        }
        if let Some(id) = object.remove("id") {
            publication.id = text(id, "id")?.or(publication.id);
        }
        publication.data = match object.remove("data") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text,
            Some(other) => other.to_string(),
        };
        Ok(publication)
    }

    /// Checks that the data is JSON, for a hub that accepts only JSON.
    pub(super) fn check_json(&self) -> Result<(), Refusal> {
        serde_json::from_str::<serde::de::IgnoredAny>(&self.data)
            .map(drop)
            .map_err(|error| {
                Refusal::bad_request(format!(
                    "the data is not valid JSON (this hub accepts only JSON): {error}"
                ))
            })
    }

    /// The channels, checked by the core's one rule (repeats dropped, the
    /// default channel when none is named, at most `limit` distinct).
    pub(super) fn channels(&self, limit: usize) -> Result<ChannelList<'_>, Refusal> {
        ChannelList::parse_or_default(self.channels.iter().map(String::as_str), limit)
            .map_err(|error| channel_refusal(&self.channels, error))
    }

    /// The event, its type and id checked by the protocol's own rules.
    pub(super) fn event(&self) -> Result<Event<'_>, Refusal> {
        let event_type = EventType::new(self.event.as_deref().unwrap_or_default())
            .map_err(|error| Refusal::bad_request(format!("event: {error}")))?;
        let id = self
            .id
            .as_deref()
            .map(EventId::new)
            .transpose()
            .map_err(|error| Refusal::bad_request(format!("id: {error}")))?;
        Ok(Event::new(&self.data).with_type(event_type).with_id_opt(id))
    }
}

#[cfg(test)]
mod tests {
    use super::Publication;

    fn parts(uri: &str, json: bool) -> http::request::Parts {
        let mut request = http::Request::post(uri);
        if json {
            request = request.header("content-type", "application/json; charset=utf-8");
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_plain_body_is_the_data_and_the_query_the_rest() {
        let read = Publication::read(
            &parts("/publish?channel=a&channel=b&event=e&id=7", false),
            b"hi",
        )
        .unwrap();
        assert_eq!(
            read,
            Publication {
                channels: vec!["a".into(), "b".into()],
                event: Some("e".into()),
                id: Some("7".into()),
                data: "hi".into(),
            }
        );
    }

    #[test]
    fn a_json_body_gives_every_field_and_wins_over_the_query() {
        let body = br#"{"channel":"a","channels":["b"],"type":"t","id":"9","data":{"n":1}}"#;
        let read =
            Publication::read(&parts("/publish?channel=q&event=e&id=1", true), body).unwrap();
        assert_eq!(read.channels, ["q", "a", "b"]);
        assert_eq!(read.event.as_deref(), Some("t"));
        assert_eq!(read.id.as_deref(), Some("9"));
        assert_eq!(read.data, r#"{"n":1}"#);
    }

    #[test]
    fn repeated_channels_count_once() {
        let read = Publication::read(&parts("/publish?channel=a&channel=a&channel=b", false), b"")
            .unwrap();
        let channels = read
            .channels(2)
            .expect("two distinct names fit a limit of two");
        assert_eq!(channels.as_slice(), ["a", "b"]);
    }

    #[test]
    fn bad_fields_are_refused_by_name() {
        let cases: [(&str, &[u8], bool, &str); 6] = [
            ("/publish", b"{", true, "not JSON"),
            ("/publish", br#"{"data":1,"x":2}"#, true, "unexpected key"),
            ("/publish", br#"{"id":5}"#, true, "\"id\" must be a string"),
            ("/publish", b"\xFF", false, "UTF-8"),
            ("/publish?channel=%FF", b"", false, "\"channel\""),
            ("/publish?event=%FF%FE", b"", false, "\"event\""),
        ];
        for (uri, body, json, message) in cases {
            let refusal = Publication::read(&parts(uri, json), body).expect_err(uri);
            assert_eq!(refusal.status(), http::StatusCode::BAD_REQUEST);
            assert!(refusal.message().contains(message), "{uri}: {refusal}");
        }
        let read = Publication::read(&parts("/publish?event=a%0Ab", false), b"").unwrap();
        assert!(read.event().unwrap_err().message().starts_with("event:"));
        let read = Publication::read(&parts("/publish?id=a%00", false), b"").unwrap();
        assert!(read.event().unwrap_err().message().starts_with("id:"));
    }
}
