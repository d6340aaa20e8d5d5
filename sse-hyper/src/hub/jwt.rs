//! Signed tokens (JWT) whose claims list the channels a bearer may
//! subscribe to and publish to, with expiry enforced, as Mercure's hub
//! does. Verified with `jsonwebtoken` 9 (HS256, RS256, ES256), which signs
//! with ring, the crypto provider rustls already brings here; later majors
//! ask for aws-lc-rs or RustCrypto, a second crypto stack.
//!
//! The claims:
//!
//! ```json
//! { "exp": 1767225600, "sub": "editor-7",
//!   "sse": { "subscribe": ["news", "sport/*"], "publish": ["news"] } }
//! ```
//!
//! `exp` is required. A right names a channel, all channels whose name
//! starts with what comes before a final `*` (`sport/*`), or every channel
//! (`*`). `sub`, when present, is who the publish rate is counted for.

use core::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

/// How much a token's `exp` may lie in the past, for clocks that differ a
/// little.
const LEEWAY_SECS: u64 = 5;

/// The key that signed tokens are checked with.
#[derive(Clone)]
pub struct JwtKey {
    key: DecodingKey,
    algorithm: Algorithm,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be read.
#[derive(Debug)]
pub struct JwtKeyError(jsonwebtoken::errors::Error);

impl fmt::Display for JwtKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RSA or P-256 public key in PEM: {}", self.0)
    }
}

impl std::error::Error for JwtKeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl JwtKey {
    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            key: DecodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        }
    }

    /// A public key in PEM: ES256 for a P-256 key, RS256 for an RSA one.
    pub fn from_public_pem(pem: &[u8]) -> Result<Self, JwtKeyError> {
        match DecodingKey::from_ec_pem(pem) {
            Ok(key) => Ok(Self {
                key,
                algorithm: Algorithm::ES256,
            }),
            Err(_) => DecodingKey::from_rsa_pem(pem)
                .map(|key| Self {
                    key,
                    algorithm: Algorithm::RS256,
                })
                .map_err(JwtKeyError),
        }
    }
}

/// What a valid token allows.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Rights {
    #[serde(default)]
    subscribe: Vec<String>,
    #[serde(default)]
    publish: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    sse: Rights,
}

/// A checked token.
#[derive(Debug)]
pub(super) struct Verified {
    pub(super) subject: Option<String>,
    pub(super) rights: Rights,
}

/// Why a token was refused: a message for the client.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Invalid {
    Expired,
    Malformed,
}

fn allows(patterns: &[String], channel: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => channel.starts_with(prefix),
            None => pattern == channel,
        })
}

impl Rights {
    /// Whether these rights cover subscribing to every one of `channels`
    /// (`publish == false`) or publishing to them; the first that is not.
    pub(super) fn missing<'c>(&self, publish: bool, channels: &[&'c str]) -> Option<&'c str> {
        let patterns = if publish {
            &self.publish
        } else {
            &self.subscribe
        };
        channels
            .iter()
            .copied()
            .find(|channel| !allows(patterns, channel))
    }
}

impl JwtKey {
    /// Checks `token`'s signature, algorithm and expiry.
    pub(super) fn verify(&self, token: &str) -> Result<Verified, Invalid> {
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp"]);
        match decode::<Claims>(token, &self.key, &validation) {
            Ok(data) => Ok(Verified {
                subject: data.claims.sub,
                rights: data.claims.sse,
            }),
            Err(error) => match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(Invalid::Expired),
                _ => Err(Invalid::Malformed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::{Invalid, JwtKey};

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn token(secret: &[u8], claims: serde_json::Value) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn rights_are_read_from_a_valid_token() {
        let key = JwtKey::hs256(b"s3cret");
        let claims = json!({
            "exp": now() + 60, "sub": "ed",
            "sse": { "subscribe": ["news", "sport/*"], "publish": ["*"] },
        });
        let verified = key.verify(&token(b"s3cret", claims)).expect("valid");
        assert_eq!(verified.subject.as_deref(), Some("ed"));
        let rights = verified.rights;
        assert_eq!(rights.missing(false, &["news", "sport/tennis"]), None);
        assert_eq!(rights.missing(false, &["news", "weather"]), Some("weather"));
        assert_eq!(
            rights.missing(false, &["sport"]),
            Some("sport"),
            "a prefix needs its slash"
        );
        assert_eq!(rights.missing(true, &["anything"]), None);
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() {
        let key = JwtKey::hs256(b"s3cret");
        let expired = token(b"s3cret", json!({ "exp": now() - 3600 }));
        assert_eq!(key.verify(&expired).unwrap_err(), Invalid::Expired);
        let forged = token(b"guess", json!({ "exp": now() + 60 }));
        assert_eq!(key.verify(&forged).unwrap_err(), Invalid::Malformed);
        let no_expiry = token(b"s3cret", json!({ "sub": "x" }));
        assert_eq!(key.verify(&no_expiry).unwrap_err(), Invalid::Malformed);
        assert_eq!(key.verify("not.a.token").unwrap_err(), Invalid::Malformed);
        // A token with no rights grants none.
        let bare = key
            .verify(&token(b"s3cret", json!({ "exp": now() + 60 })))
            .unwrap();
        assert_eq!(bare.rights.missing(false, &["news"]), Some("news"));
    }
}
