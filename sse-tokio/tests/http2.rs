//! The client over HTTP/2 (feature `http2`): `h2` picked by ALPN over
//! rustls, HTTP/1.1 when the server offers only that, a private CA trusted
//! through the builder and through `sse listen --cacert`. The server is
//! hyper's, in the test, with a certificate made by rcgen.
#![cfg(all(feature = "http2", feature = "cli"))]

#[path = "support/hub.rs"]
mod hub;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_lite::StreamExt;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sse_tokio::http::Version;
use sse_tokio::proto::ClientConfig;
use sse_tokio::{Error, EventSource, SourceEvent};
use tokio::net::TcpListener;

/// A server on 127.0.0.1 with a certificate of its own, offering `alpn` (in
/// that order); what it answers: one event per request (the count) on an
/// event stream, or `204` from the third request on. Returns the address,
/// the certificate, and the HTTP versions of the requests it served.
async fn serve(
    alpn: &[&[u8]],
) -> (
    SocketAddr,
    CertificateDer<'static>,
    Arc<std::sync::Mutex<Vec<Version>>>,
) {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let versions = Arc::new(std::sync::Mutex::new(Vec::new()));
    let served = Arc::clone(&versions);
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, versions, count) =
                (acceptor.clone(), Arc::clone(&served), Arc::clone(&count));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    versions.lock().unwrap().push(request.version());
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let response = if n < 2 {
                        Response::builder()
                            .header("content-type", "text/event-stream")
                            .body(Full::new(Bytes::from(format!(
                                "retry: 10\nid: {n}\ndata: over {:?}\n\n",
                                request.version()
                            ))))
                    } else {
                        Response::builder()
                            .status(204)
                            .body(Full::new(Bytes::new()))
                    };
                    async move { Ok::<_, Infallible>(response.unwrap()) }
                });
                let io = TokioIo::new(tls);
                let _ = if h2 {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                };
            });
        }
    });
    (addr, cert, versions)
}

/// Everything a source yields until it ends, shown.
async fn drain(source: &mut EventSource) -> Vec<String> {
    let mut items = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), source.next())
        .await
        .expect("the source hung")
    {
        items.push(match item {
            Ok(SourceEvent::Open) => format!("open {:?}", source.response().unwrap().version()),
            Ok(SourceEvent::Message(event)) => format!("event {}", event.data()),
            Ok(other) => format!("{other:?}"),
            Err(Error::StreamEnded) => "ended".to_string(),
            Err(error) => format!("error {error}"),
        });
    }
    items
}

fn source(addr: SocketAddr, cert: CertificateDer<'static>) -> EventSource {
    EventSource::builder(format!("https://{addr}/events"))
        .add_root_certificate(cert)
        .config(ClientConfig::new().with_max_attempts(Some(3)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_client_speaks_http2_where_the_server_picks_h2() {
    let (addr, cert, versions) = serve(&[b"h2", b"http/1.1"]).await;
    let mut source = source(addr, cert);
    assert_eq!(
        drain(&mut source).await,
        [
            "open HTTP/2.0",
            "event over HTTP/2.0",
            "ended",
            "open HTTP/2.0",
            "event over HTTP/2.0",
            "ended",
        ]
    );
    assert_eq!(
        *versions.lock().unwrap(),
        [Version::HTTP_2, Version::HTTP_2, Version::HTTP_2]
    );
    // The id went back on the reconnect, over HTTP/2 too.
    assert_eq!(source.last_event_id().unwrap().as_text(), "1");
}

#[tokio::test]
async fn the_client_falls_back_to_http1_where_the_server_offers_only_that() {
    let (addr, cert, versions) = serve(&[b"http/1.1"]).await;
    let mut source = source(addr, cert);
    let items = drain(&mut source).await;
    assert_eq!(items[..2], ["open HTTP/1.1", "event over HTTP/1.1"]);
    assert!(
        versions
            .lock()
            .unwrap()
            .iter()
            .all(|v| *v == Version::HTTP_11)
    );
}

#[tokio::test]
async fn a_certificate_not_added_is_not_trusted() {
    let (addr, _, versions) = serve(&[b"h2"]).await;
    let mut source = EventSource::builder(format!("https://{addr}/events"))
        .config(ClientConfig::new().with_max_attempts(Some(1)))
        .build()
        .unwrap();
    let Some(Err(Error::Tls(error))) = source.next().await else {
        panic!("expected a TLS error");
    };
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(versions.lock().unwrap().is_empty());
}

#[tokio::test]
async fn sse_listen_trusts_a_cacert_and_reports_http2() {
    let (addr, cert, _) = serve(&[b"h2", b"http/1.1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    let text = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_lines(cert.as_ref())
    );
    std::fs::write(&pem, text).unwrap();
    let url = format!("https://{addr}/events");
    let pem = pem.to_str().unwrap().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        hub::finish(
            hub::spawn_sse(&["listen", "--json", "--cacert", &pem, &url]),
            Duration::from_secs(30),
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "open", "{stdout}");
    assert_eq!(first["version"], "HTTP/2.0", "{stdout}");
    assert!(stdout.contains(r#""data":"over HTTP/2.0""#), "{stdout}");
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    let missing = hub::sse(
        &[
            "listen",
            "--cacert",
            "/nonexistent.pem",
            "https://127.0.0.1:1/",
        ],
        b"",
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--cacert"));
}

/// PEM's base64 body, 64 characters a line.
fn base64_lines(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect();
    lines.join("\n")
}
