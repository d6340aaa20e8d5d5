//! Who may do what: static bearer tokens (compared in constant time with
//! `subtle`), and signed tokens whose claims list channels ([`super::jwt`]).

use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use subtle::ConstantTimeEq;

use super::HubConfig;
use super::jwt::{Invalid, JwtKey, Rights};
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
    /// Reading the metrics and the status stream: the header only, and the
    /// metrics token only (signed tokens grant channels, not operations).
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

/// Who was let in (by a signed token's subject, a token, or nobody in
/// particular where none is required), and to what.
#[derive(Debug, Default)]
pub(super) struct Grant {
    /// What the publish rate is counted for: the token's subject, else the
    /// token itself; `None` without a token.
    pub(super) key: Option<String>,
    /// A signed token's rights, for the action it was checked for; `None`:
    /// every channel.
    rights: Option<(Action, Rights)>,
}

impl Grant {
    /// `403` unless the grant covers every one of `channels`.
    pub(super) fn allow(&self, channels: &[&str]) -> Result<(), Refusal> {
        let Some((action, rights)) = &self.rights else {
            return Ok(());
        };
        match rights.missing(*action == Action::Publish, channels) {
            None => Ok(()),
            Some(channel) => Err(Refusal::forbidden(format!(
                "this token may not {} on channel {channel:?}",
                action.name()
            ))),
        }
    }
}

/// The hub's access rules.
#[derive(Debug, Default)]
pub(super) struct Access {
    publish_token: Option<String>,
    subscribe_token: Option<String>,
    metrics_token: Option<String>,
    jwt: Option<JwtKey>,
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

impl Access {
    pub(super) fn new(config: &HubConfig) -> Self {
        Self {
            publish_token: config.publish_token().map(str::to_owned),
            subscribe_token: config.subscribe_token().map(str::to_owned),
            metrics_token: config.metrics_token().map(str::to_owned),
            jwt: config.jwt().cloned(),
        }
    }

    fn token(&self, action: Action) -> Option<&str> {
        match action {
            Action::Subscribe => self.subscribe_token.as_deref(),
            Action::Publish => self.publish_token.as_deref(),
            Action::Operate => self.metrics_token.as_deref(),
        }
    }

    /// The signed-token key, for the actions signed tokens may grant.
    fn jwt(&self, action: Action) -> Option<&JwtKey> {
        self.jwt.as_ref().filter(|_| action != Action::Operate)
    }

    /// Checks that `parts` may `action`: `401` without a valid token where
    /// one is required. The channels are the [`Grant`]'s to check, once
    /// they are known.
    pub(super) fn check(&self, parts: &Parts, action: Action) -> Result<Grant, Refusal> {
        let expected = self.token(action);
        if expected.is_none() && self.jwt(action).is_none() {
            return Ok(Grant::default());
        }
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
        let Some(token) = presented else {
            return Err(unauthorized(format!(
                "a {what} token is required (Authorization: Bearer TOKEN)"
            )));
        };
        if expected.is_some_and(|expected| same(token, expected)) {
            return Ok(Grant {
                key: Some(token.to_owned()),
                rights: None,
            });
        }
        let Some(jwt) = self.jwt(action) else {
            return Err(unauthorized(format!("wrong {what} token")));
        };
        let verified = jwt.verify(token).map_err(|invalid| match invalid {
            Invalid::Expired => unauthorized(format!("the {what} token has expired")),
            Invalid::Malformed => unauthorized(format!("wrong {what} token")),
        })?;
        Ok(Grant {
            key: Some(verified.subject.unwrap_or_else(|| token.to_owned())),
            rights: Some((action, verified.rights)),
        })
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::{Access, Action};
    use crate::hub::{HubConfig, JwtKey};

    fn parts(uri: &str, authorization: Option<&str>) -> http::request::Parts {
        let mut request = http::Request::get(uri);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn tokens(publish: Option<&str>, subscribe: Option<&str>) -> Access {
        Access::new(
            &HubConfig::new()
                .with_publish_token(publish.map(str::to_owned))
                .with_subscribe_token(subscribe.map(str::to_owned)),
        )
    }

    #[test]
    fn the_scheme_matches_in_any_case() {
        let access = tokens(Some("t"), None);
        for header in ["Bearer t", "bearer t", "BEARER t", "bEaReR   t "] {
            assert!(
                access
                    .check(&parts("/", Some(header)), Action::Publish)
                    .is_ok(),
                "{header}"
            );
        }
        let basic = access.check(&parts("/", Some("Basic t")), Action::Publish);
        assert!(basic.unwrap_err().message().contains("required"));
    }

    #[test]
    fn a_wrong_token_is_refused_with_a_challenge() {
        let access = tokens(Some("token"), Some("t"));
        let refused = access
            .check(&parts("/", Some("Bearer u")), Action::Subscribe)
            .expect_err("wrong token");
        assert_eq!(refused.status(), http::StatusCode::UNAUTHORIZED);
        assert!(refused.message().contains("wrong subscribe token"));
        let short = access.check(&parts("/", Some("Bearer tok")), Action::Publish);
        assert!(short.is_err(), "a prefix is not the token");
    }

    #[test]
    fn only_subscribing_takes_the_token_from_the_query() {
        let access = tokens(Some("t"), Some("t"));
        assert!(
            access
                .check(&parts("/?token=t", None), Action::Subscribe)
                .is_ok()
        );
        let publish = access
            .check(&parts("/?token=t", None), Action::Publish)
            .expect_err("publish tokens are not taken from URLs");
        assert_eq!(publish.status(), http::StatusCode::UNAUTHORIZED);
        assert!(
            publish.message().contains("Authorization header"),
            "{publish}"
        );
    }

    #[test]
    fn without_a_token_everything_passes() {
        assert!(
            tokens(None, None)
                .check(&parts("/", None), Action::Publish)
                .is_ok_and(|grant| grant.allow(&["a"]).is_ok())
        );
    }

    #[test]
    fn signed_tokens_grant_the_channels_they_list() {
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 60;
        let claims =
            json!({ "exp": exp, "sub": "ed", "sse": { "subscribe": ["news"], "publish": [] } });
        let token = encode(&Header::default(), &claims, &EncodingKey::from_secret(b"k")).unwrap();
        let access = Access::new(&HubConfig::new().with_jwt(Some(JwtKey::hs256(b"k"))));
        let header = format!("Bearer {token}");
        let grant = access
            .check(&parts("/", Some(&header)), Action::Subscribe)
            .expect("a valid token");
        assert_eq!(grant.key.as_deref(), Some("ed"));
        assert!(grant.allow(&["news"]).is_ok());
        let other = grant.allow(&["news", "sport"]).expect_err("not listed");
        assert_eq!(other.status(), http::StatusCode::FORBIDDEN);
        assert!(other.message().contains("\"sport\""), "{other}");
        let publish = access
            .check(&parts("/", Some(&header)), Action::Publish)
            .expect("a valid token");
        assert_eq!(
            publish.allow(&["news"]).unwrap_err().status(),
            http::StatusCode::FORBIDDEN
        );
        let none = access.check(&parts("/", None), Action::Subscribe);
        assert_eq!(none.unwrap_err().status(), http::StatusCode::UNAUTHORIZED);
        let in_url = format!("/?token={token}");
        let grant = access
            .check(&parts(&in_url, None), Action::Subscribe)
            .unwrap();
        assert!(grant.allow(&["news"]).is_ok());
    }
}
