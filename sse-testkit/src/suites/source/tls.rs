//! `EventSource` over https (feature `rustls`): a self-signed certificate
//! made by the test, trusted through the builder or not at all.

use std::sync::Arc;

use futures_lite::StreamExt;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sse_hyper::Error;

use super::{drain, fast, no_content};
use crate::rt::TestRuntime;
use crate::scripted_server::{Server, stream_head, write};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A self-signed certificate for 127.0.0.1, and a server config with it.
fn certificate() -> (CertificateDer<'static>, Arc<rustls::ServerConfig>) {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    (cert, Arc::new(config))
}

pub async fn source_streams_over_https<R: TestRuntime>() {
    let (cert, server_config) = certificate();
    let server = Server::start_tls(server_config, |conn, _| match conn {
        0 => vec![stream_head(), write("data: secret\n\n")],
        _ => no_content(),
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("https://{}/", server.addr());
    let mut source = sse_hyper::EventSource::<R::Rt>::builder(url)
        .tls_config(Arc::new(client_config))
        .config(fast())
        .build()
        .unwrap();
    assert_eq!(
        drain(&mut source).await,
        ["open", r#"event message None "secret""#, "ended"]
    );
}

pub async fn source_refuses_an_untrusted_certificate<R: TestRuntime>() {
    let (_, server_config) = certificate();
    let server = Server::start_tls(server_config, |_, _| vec![stream_head()]);
    let url = format!("https://{}/", server.addr());
    // The system's roots (or none at all): either way, not trusted.
    let mut source = sse_hyper::EventSource::<R::Rt>::builder(url)
        .config(fast().with_max_attempts(Some(1)))
        .build()
        .unwrap();
    let Some(Err(Error::Tls(error))) = source.next().await else {
        panic!("expected a TLS error");
    };
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(source.next().await.is_none());
}
