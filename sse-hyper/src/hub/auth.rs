//! Bearer tokens: where a request may present one, and a comparison in
//! constant time (`subtle`).

use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use subtle::ConstantTimeEq;

use crate::server::{Refusal, query};

/// What a token guards; it says where the token may come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Subscribing: the header, or `?token=` (a browser's `EventSource`
    /// cannot set headers).
    Subscribe,
    /// Publishing and closing channels: the header only, since tokens in
    /// URLs end up in logs and proxy histories.
    Publish,
    /// Reading the metrics and the status stream: the header only.
    Operate,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Subscribe => "subscribe",
            Self::Publish => "publish",
            Self::Operate => "metrics",
        }
    }
}

/// The token in `Authorization: Bearer TOKEN`; the scheme matches in any
/// case (RFC 9110, section 11.1). `None` without the header; a header of
/// another scheme is no token.
pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whether `presented` is `expected`, comparing every byte whatever the
/// first difference, so that response times say nothing about a guess.
fn same(presented: &str, expected: &str) -> bool {
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// `401` with the challenge browsers and tools expect.
fn unauthorized(message: String) -> Refusal {
    Refusal::unauthorized(message).header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
}

/// Checks that `parts` presents `expected` (if a token is required) for
/// `action`.
pub(super) fn check(expected: Option<&str>, parts: &Parts, action: Action) -> Result<(), Refusal> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let what = action.name();
    let in_query = query::first(parts, "token")?;
    let presented = match (bearer(parts), action) {
        (Some(token), _) => Some(token),
        (None, Action::Subscribe) => in_query.as_deref(),
        (None, Action::Publish | Action::Operate) if in_query.is_some() => {
            return Err(unauthorized(format!(
                "the {what} token goes in the Authorization header (Bearer TOKEN), \
                 not in the URL"
            )));
        }
        (None, Action::Publish | Action::Operate) => None,
    };
    match presented {
        Some(token) if same(token, expected) => Ok(()),
        Some(_) => Err(unauthorized(format!("wrong {what} token"))),
        None => Err(unauthorized(format!(
            "a {what} token is required (Authorization: Bearer TOKEN)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::{Action, check};

    fn parts(uri: &str, authorization: Option<&str>) -> http::request::Parts {
        let mut request = http::Request::get(uri);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_scheme_matches_in_any_case() {
        for header in ["Bearer t", "bearer t", "BEARER t", "bEaReR   t "] {
            assert!(
                check(Some("t"), &parts("/", Some(header)), Action::Publish).is_ok(),
                "{header}"
            );
        }
        let basic = check(Some("t"), &parts("/", Some("Basic t")), Action::Publish);
        assert!(basic.unwrap_err().message().contains("required"));
    }

    #[test]
    fn a_wrong_token_is_refused_with_a_challenge() {
        let refused = check(Some("t"), &parts("/", Some("Bearer u")), Action::Subscribe)
            .expect_err("wrong token");
        assert_eq!(refused.status(), http::StatusCode::UNAUTHORIZED);
        assert!(refused.message().contains("wrong subscribe token"));
        let short = check(
            Some("token"),
            &parts("/", Some("Bearer tok")),
            Action::Publish,
        );
        assert!(short.is_err(), "a prefix is not the token");
    }

    #[test]
    fn only_subscribing_takes_the_token_from_the_query() {
        assert!(check(Some("t"), &parts("/?token=t", None), Action::Subscribe).is_ok());
        let publish = check(Some("t"), &parts("/?token=t", None), Action::Publish)
            .expect_err("publish tokens are not taken from URLs");
        assert_eq!(publish.status(), http::StatusCode::UNAUTHORIZED);
        assert!(
            publish.message().contains("Authorization header"),
            "{publish}"
        );
    }

    #[test]
    fn without_a_token_everything_passes() {
        assert!(check(None, &parts("/", None), Action::Publish).is_ok());
    }
}
