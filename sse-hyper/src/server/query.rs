//! Query parameters, decoded strictly: a value that is not UTF-8 after
//! percent-decoding is refused, never "repaired" with U+FFFD (which would
//! make `%FF` and `%FE` the same channel name).

use std::borrow::Cow;

use http::request::Parts;
use percent_encoding::percent_decode;

use super::Refusal;

/// The values of the query parameter `key`, percent-decoded (`+` is a
/// space, as in forms); a value that is not UTF-8 is refused with `400`
/// naming the parameter.
pub(crate) fn values<'p>(
    parts: &'p Parts,
    key: &'p str,
) -> impl Iterator<Item = Result<Cow<'p, str>, Refusal>> + 'p {
    let query = parts.uri.query().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(move |pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match decode(name) {
                Ok(name) if name == key => Some(decode(value).map_err(|()| {
                    Refusal::bad_request(format!(
                        "the query parameter {key:?} is not UTF-8 once percent-decoded"
                    ))
                })),
                // Another parameter, or one whose name is not text: not ours.
                _ => None,
            }
        })
}

/// The first value of `key`, if any.
pub(crate) fn first<'p>(parts: &'p Parts, key: &'p str) -> Result<Option<Cow<'p, str>>, Refusal> {
    values(parts, key).next().transpose()
}

/// Percent-decodes one name or value of a query, `+` as a space.
fn decode(raw: &str) -> Result<Cow<'_, str>, ()> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(raw));
    }
    let spaced = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(spaced.as_bytes()).collect();
    String::from_utf8(bytes).map(Cow::Owned).map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::{first, values};

    fn parts(uri: &str) -> http::request::Parts {
        http::Request::get(uri).body(()).unwrap().into_parts().0
    }

    #[test]
    fn decodes_percent_escapes_and_plus() {
        let parts = parts("/events?channel=a%20b&channel=c+d&x=1&channel=%C3%A9");
        let got: Vec<String> = values(&parts, "channel")
            .map(|v| v.unwrap().into_owned())
            .collect();
        assert_eq!(got, ["a b", "c d", "é"]);
        assert_eq!(first(&parts, "x").unwrap().as_deref(), Some("1"));
        assert_eq!(first(&parts, "missing").unwrap(), None);
    }

    #[test]
    fn refuses_what_is_not_utf8_instead_of_replacing_it() {
        for uri in [
            "/events?channel=%FF",
            "/events?channel=%FE",
            "/events?event=%FF%FE",
        ] {
            let parts = parts(uri);
            let key = if uri.contains("event=") {
                "event"
            } else {
                "channel"
            };
            let error = first(&parts, key).expect_err(uri);
            assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
            assert!(error.message().contains(key), "{}", error.message());
        }
    }

    #[test]
    fn a_name_without_a_value_is_empty() {
        let parts = parts("/events?channel&channel=");
        let got: Vec<String> = values(&parts, "channel")
            .map(|v| v.unwrap().into_owned())
            .collect();
        assert_eq!(got, ["", ""]);
    }
}
