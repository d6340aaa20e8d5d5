//! `sse serve` over TLS and HTTP/2, with a certificate made by the test:
//! curl over HTTP/2 and HTTP/1.1 (the lean stream path over TLS), cleartext
//! HTTP/2 with prior knowledge (as a proxy in front sends), and the chat
//! page in headless Chromium over HTTPS.
#![cfg(feature = "cli")]

#[path = "support/browser.rs"]
mod browser;
#[path = "support/hub.rs"]
mod hub;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use browser::Browser;
use hub::Hub;

const WAIT: Duration = Duration::from_secs(20);

/// A certificate for 127.0.0.1, written as PEM files in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("write the certificate");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write the key");
    (cert, key)
}

/// A hub over TLS with a fresh certificate; the directory holds the PEMs.
fn tls_hub(extra: &[&str]) -> (Hub, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a directory");
    let (cert, key) = certificate(dir.path());
    let mut args = vec![
        "--tls-cert".to_string(),
        cert.display().to_string(),
        "--tls-key".to_string(),
        key.display().to_string(),
    ];
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (Hub::start_tls(&args), dir, cert)
}

/// Runs curl with `args` to the end; its stdout. Panics if it fails.
fn curl(args: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs (apt-get install curl)");
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Streams `url` with curl (`args` first) in the background, and returns
/// the lines it prints, and what it says about the response head.
fn curl_stream(args: &[&str], url: &str) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new("curl")
        .args(["--silent", "--no-buffer", "--include"])
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl runs (apt-get install curl)");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// Waits until a line of `received` satisfies `wanted`; all lines so far.
fn until_line(received: &mpsc::Receiver<String>, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = received
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("not within {WAIT:?}; got {seen:?}"));
        let done = wanted(&line);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

#[test]
fn https_serves_http2_and_http1_streams() {
    let (hub, _dir, cert) = tls_hub(&[]);
    let cert = cert.display().to_string();
    let url = |path: &str| format!("https://{}{path}", hub.address);

    // A plain request over HTTP/2, through the router.
    let version = curl(&[
        "--http2",
        "--cacert",
        &cert,
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_version}",
        &url("/health"),
    ]);
    assert_eq!(version, "2");

    // A stream over HTTP/2, and one over HTTP/1.1 (the lean path, over TLS).
    let (mut h2, h2_lines) =
        curl_stream(&["--http2", "--cacert", &cert], &url("/events?channel=t"));
    let (mut h1, h1_lines) =
        curl_stream(&["--http1.1", "--cacert", &cert], &url("/events?channel=t"));
    let h2_head = until_line(&h2_lines, |line| line.starts_with("retry:"));
    let h1_head = until_line(&h1_lines, |line| line.starts_with("retry:"));
    assert!(h2_head[0].starts_with("HTTP/2 200"), "{h2_head:?}");
    assert!(h1_head[0].starts_with("HTTP/1.1 200"), "{h1_head:?}");
    for head in [&h2_head, &h1_head] {
        assert!(
            head.iter()
                .any(|line| line.eq_ignore_ascii_case("content-type: text/event-stream")),
            "{head:?}"
        );
    }

    let published = curl(&[
        "--http2",
        "--cacert",
        &cert,
        "--data-binary",
        "over tls",
        &url("/publish?channel=t"),
    ]);
    assert!(published.contains("\"subscribers\":2"), "{published}");
    until_line(&h2_lines, |line| line == "data: over tls");
    until_line(&h1_lines, |line| line == "data: over tls");
    let _ = h2.kill();
    let _ = h1.kill();
    let _ = h2.wait();
    let _ = h1.wait();
}

#[test]
fn cleartext_http2_with_prior_knowledge_is_served() {
    let hub = Hub::start(&[]);
    let version = curl(&[
        "--http2-prior-knowledge",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_version}",
        &hub.url("/health"),
    ]);
    assert_eq!(version, "2");
    let (mut stream, lines) =
        curl_stream(&["--http2-prior-knowledge"], &hub.url("/events?channel=c"));
    let head = until_line(&lines, |line| line.starts_with("retry:"));
    assert!(head[0].starts_with("HTTP/2 200"), "{head:?}");
    hub.wait_for_subscribers("c", 1);
    assert_eq!(
        hub.request("POST", "/publish?channel=c", &[], b"h2c")
            .status,
        200
    );
    until_line(&lines, |line| line == "data: h2c");
    let _ = stream.kill();
    let _ = stream.wait();

    // Turned off, HTTP/1.1 only: the preface gets no HTTP/2.
    let plain = Hub::start(&["--no-http2"]);
    let refused = Command::new("curl")
        .args(["--silent", "--max-time", "20", "--http2-prior-knowledge"])
        .arg(plain.url("/health"))
        .output()
        .expect("curl runs");
    assert!(!refused.status.success(), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chat_page_works_over_https() {
    let (hub, _dir, cert) = tls_hub(&[]);
    let browser = Browser::launch_with(&["--ignore-certificate-errors"]).await;
    let mut page = browser.open(&format!("https://{}/", hub.address)).await;
    page.wait_for(
        "document.getElementById('status').dataset.state === 'open'",
        WAIT,
    )
    .await;
    let cert = cert.display().to_string();
    let url = format!("https://{}/publish?channel=chat", hub.address);
    let published = tokio::task::spawn_blocking(move || {
        curl(&[
            "--cacert",
            &cert,
            "--header",
            "content-type: application/json",
            "--data-binary",
            r#"{"data":{"name":"Curl","text":"hello over https"}}"#,
            &url,
        ])
    })
    .await
    .expect("curl");
    assert!(published.contains("subscribers"), "{published}");
    let seen = page
        .wait_for(
            "document.body.textContent.includes('hello over https') && document.body.textContent",
            WAIT,
        )
        .await;
    assert!(seen.as_str().unwrap_or_default().contains("Curl"), "{seen}");
}

/// A TLS client of its own (its own session store) that trusts `cert`.
fn tls_client(cert: &Path) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(cert).expect("the certificate"))
        .expect("trust it");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    std::sync::Arc::new(config)
}

/// `GET /live` over a new TLS connection, read to its end (so that the
/// session tickets that came with it are stored); whether the handshake
/// resumed a session.
fn get_live(config: &std::sync::Arc<rustls::ClientConfig>, addr: &str) -> rustls::HandshakeKind {
    use std::io::{Read, Write};
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("a name");
    let mut connection = rustls::ClientConnection::new(config.clone(), name).expect("a client");
    let mut socket = std::net::TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(WAIT)).expect("a timeout");
    let mut tls = rustls::Stream::new(&mut connection, &mut socket);
    tls.write_all(b"GET /live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    assert!(response.starts_with(b"HTTP/1.1 200"), "{response:?}");
    connection.handshake_kind().expect("handshake done")
}

#[test]
fn sessions_resume_after_more_clients_than_a_session_cache_holds() {
    // Stateless tickets: a client resumes its session however many other
    // clients came between (rustls' default cache held 256 sessions).
    let (hub, _dir, cert) = tls_hub(&[]);
    let addr = hub.address.to_string();
    let returning = tls_client(&cert);
    assert_eq!(get_live(&returning, &addr), rustls::HandshakeKind::Full);
    for _ in 0..300 {
        // Each a client of its own, never resuming.
        get_live(&tls_client(&cert), &addr);
    }
    assert_eq!(get_live(&returning, &addr), rustls::HandshakeKind::Resumed);
}
