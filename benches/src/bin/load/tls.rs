//! Streams over TLS, for the idle figures of HTTP/1.1 over TLS and of
//! HTTP/2 over TLS: a certificate made for the run (rcgen), rustls on the
//! load generator's side, and hyper's HTTP/2 client for many streams on
//! one connection. Only what the idle figures need: open, read the head,
//! hold.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::client::conn::http2;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::client::{self, SocketOptions};

/// A self-signed certificate for 127.0.0.1, made for one run.
pub(crate) struct Certificate {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    der: CertificateDer<'static>,
}

impl std::fmt::Debug for Certificate {
    // Without the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Certificate(127.0.0.1)")
    }
}

impl Certificate {
    pub(crate) fn generate() -> Result<Self, String> {
        let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .map_err(|error| format!("a test certificate: {error}"))?;
        Ok(Self {
            cert_pem: key.cert.pem(),
            key_pem: key.signing_key.serialize_pem(),
            der: key.cert.der().clone(),
        })
    }
}

/// The load generator's TLS client (TLS 1.3), trusting one certificate,
/// with one connector per ALPN offer. Sessions resume as rustls' client
/// resumes them: each TLS 1.3 ticket once, at most 8 kept per server.
pub(crate) struct TlsClient {
    http1: TlsConnector,
    http2: TlsConnector,
}

impl TlsClient {
    pub(crate) fn new(certificate: &Certificate) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(certificate.der.clone())
            .map_err(|error| format!("trusting the test certificate: {error}"))?;
        let connector = |alpn: &[u8]| -> Result<TlsConnector, String> {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            // TLS 1.3 only, so that every hub is measured on the same
            // protocol (a hub offering only TLS 1.2 fails the run).
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|error| format!("a TLS client: {error}"))?
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            config.alpn_protocols = vec![alpn.to_vec()];
            Ok(TlsConnector::from(Arc::new(config)))
        };
        Ok(Self {
            http1: connector(b"http/1.1")?,
            http2: connector(b"h2")?,
        })
    }

    async fn connect(
        &self,
        addr: SocketAddr,
        connector: &TlsConnector,
    ) -> io::Result<TlsStream<TcpStream>> {
        let tcp = client::connect(addr, SocketOptions::default()).await?;
        let name = ServerName::IpAddress(addr.ip().into());
        connector.connect(name, tcp).await
    }

    /// One stream over HTTP/1.1 and TLS, its head read; with the time from
    /// the connect to the end of the head.
    pub(crate) async fn open_http1(
        &self,
        addr: SocketAddr,
        channel: &str,
    ) -> io::Result<(TlsStream<TcpStream>, Duration)> {
        let start = Instant::now();
        let mut stream = self.connect(addr, &self.http1).await?;
        client::request_stream(&mut stream, addr, channel).await?;
        Ok((stream, start.elapsed()))
    }

    /// One HTTP/2 connection (ALPN `h2`, or an error) carrying `streams`
    /// streams, each with its head read.
    pub(crate) async fn open_http2(
        &self,
        addr: SocketAddr,
        channel: &str,
        streams: usize,
    ) -> io::Result<Http2Streams> {
        let tls = self.connect(addr, &self.http2).await?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(io::Error::other("the hub did not choose h2 through ALPN"));
        }
        let (send, connection) = http2::Builder::new(TokioExecutor::new())
            .handshake(TokioIo::new(tls))
            .await
            .map_err(io::Error::other)?;
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut held = Http2Streams {
            task,
            responses: Vec::with_capacity(streams),
            open_times: Vec::with_capacity(streams),
        };
        let opens = (0..streams).map(|_| {
            let mut send = send.clone();
            let uri = format!("https://{addr}/events?channel={channel}");
            async move {
                let request = Request::get(uri)
                    .header("accept", "text/event-stream")
                    .body(String::new())
                    .map_err(io::Error::other)?;
                let start = Instant::now();
                send.ready().await.map_err(io::Error::other)?;
                let response = send.send_request(request).await.map_err(io::Error::other)?;
                if response.status() != StatusCode::OK {
                    return Err(io::Error::other(format!(
                        "GET /events over h2: status {}",
                        response.status()
                    )));
                }
                Ok((response, start.elapsed()))
            }
        });
        for opened in futures_util::future::join_all(opens).await {
            let (response, time) = opened?;
            held.responses.push(response);
            held.open_times.push(time);
        }
        Ok(held)
    }
}

/// The streams of one HTTP/2 connection, held open until dropped (which
/// ends the connection's task, and so closes its socket).
pub(crate) struct Http2Streams {
    task: JoinHandle<()>,
    responses: Vec<Response<hyper::body::Incoming>>,
    pub(crate) open_times: Vec<Duration>,
}

impl Http2Streams {
    pub(crate) fn len(&self) -> usize {
        self.responses.len()
    }
}

impl Drop for Http2Streams {
    fn drop(&mut self) {
        self.responses.clear();
        self.task.abort();
    }
}
