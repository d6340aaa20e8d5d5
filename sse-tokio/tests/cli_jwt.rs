//! Signed tokens (JWT) for `sse serve`: claims list the channels a bearer
//! may subscribe to and publish to, expiry is enforced, HS256 with a
//! secret and ES256 with a key file; made in the test with jsonwebtoken.
#![cfg(feature = "cli")]

#[path = "support/hub.rs"]
mod hub;

use hub::Hub;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn hs256(secret: &[u8], claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("a token")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn signed_tokens_grant_exactly_the_channels_they_list() {
    let hub = Hub::start(&["--jwt-secret", "s3cret"]);
    let reader = hs256(
        b"s3cret",
        &json!({ "exp": now() + 600, "sse": { "subscribe": ["news", "sport/*"] } }),
    );
    let editor = hs256(
        b"s3cret",
        &json!({ "exp": now() + 600, "sub": "editor", "sse": { "publish": ["news"] } }),
    );

    // Subscribing: the listed channels, by header or in the URL.
    let mut news = hub.open_stream(
        "/events?channel=news",
        &[("authorization", &bearer(&reader))],
    );
    assert!(news.read_until("retry:").starts_with("HTTP/1.1 200"));
    let mut tennis = hub.open_stream(&format!("/events?channel=sport/tennis&token={reader}"), &[]);
    assert!(tennis.read_until("retry:").starts_with("HTTP/1.1 200"));
    let weather = hub.request(
        "GET",
        "/events?channel=weather",
        &[("authorization", &bearer(&reader))],
        b"",
    );
    assert_eq!(weather.status, 403, "{weather:?}");
    assert!(weather.body.contains("weather"), "{}", weather.body);

    // Publishing: only where the claims say, only from the header.
    let publish = |channel: &str, token: &str| {
        hub.request(
            "POST",
            &format!("/publish?channel={channel}"),
            &[("authorization", &bearer(token))],
            b"x",
        )
        .status
    };
    assert_eq!(publish("news", &editor), 200);
    assert_eq!(publish("sport", &editor), 403);
    assert_eq!(publish("news", &reader), 403, "a reader may not publish");
    let in_url = hub.request(
        "POST",
        &format!("/publish?channel=news&token={editor}"),
        &[],
        b"x",
    );
    assert_eq!(in_url.status, 401);
    news.read_until("data: x\n\n");

    // Expired, forged and missing tokens: 401 with the challenge.
    let expired = hs256(
        b"s3cret",
        &json!({ "exp": now() - 3600, "sse": { "subscribe": ["news"] } }),
    );
    let forged = hs256(
        b"guess",
        &json!({ "exp": now() + 600, "sse": { "subscribe": ["news"] } }),
    );
    for (token, message) in [(expired, "expired"), (forged, "wrong")] {
        let refused = hub.request(
            "GET",
            "/events?channel=news",
            &[("authorization", &bearer(&token))],
            b"",
        );
        assert_eq!(refused.status, 401, "{refused:?}");
        assert!(refused.body.contains(message), "{}", refused.body);
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    }
    assert_eq!(
        hub.request("GET", "/events?channel=news", &[], b"").status,
        401
    );
}

#[test]
fn es256_tokens_are_checked_with_a_public_key_file() {
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    let dir = tempfile::tempdir().expect("a directory");
    let public = dir.path().join("public.pem");
    std::fs::write(&public, key.public_key_pem()).expect("write the key");
    let hub = Hub::start(&["--jwt-key", &public.display().to_string()]);
    let signing =
        EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).expect("the signing key");
    let claims = json!({ "exp": now() + 600, "sse": { "publish": ["*"] } });
    let token = encode(&Header::new(Algorithm::ES256), &claims, &signing).expect("a token");
    let published = hub.request(
        "POST",
        "/publish?channel=any",
        &[("authorization", &bearer(&token))],
        b"x",
    );
    assert_eq!(published.status, 200, "{published:?}");
    // An HS256 token is not accepted where the key is ES256.
    let wrong = hs256(b"anything", &claims);
    let refused = hub.request(
        "POST",
        "/publish?channel=any",
        &[("authorization", &bearer(&wrong))],
        b"x",
    );
    assert_eq!(refused.status, 401);
}
