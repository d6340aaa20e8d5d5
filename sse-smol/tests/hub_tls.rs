//! The library hub on smol over TLS (`Hub::serve_tls`): our smol client
//! with HTTP/2 gets `h2` by ALPN, a client that offers only HTTP/1.1 gets
//! the lean stream path over TLS, and an event published to the hub's
//! Publisher reaches both.
#![cfg(all(feature = "hub", feature = "http2"))]

use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_net::TcpListener;
use futures_lite::{FutureExt, StreamExt};
use sse_smol::http::Version;
use sse_smol::hub::{ClientInfo, Hub, HubConfig};
use sse_smol::proto::Event;
use sse_smol::server::{ServeConfig, SmolExecutor, tls_config};
use sse_smol::{EventSource, Publisher, SourceEvent};

/// Generous: the outcome is asserted, not the time.
const WAIT: Duration = Duration::from_secs(20);

/// The next item of `source`, or a panic after `WAIT`.
async fn next(source: &mut EventSource) -> SourceEvent {
    let item = source.next().or(async {
        async_io::Timer::after(WAIT).await;
        panic!("the source yielded nothing for {WAIT:?}")
    });
    item.await.expect("the source ended").expect("an item")
}

/// A client TLS configuration that trusts `cert` and offers only HTTP/1.1.
fn http1_only(cert: rustls::pki_types::CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

#[test]
fn the_hub_serves_http2_and_http1_streams_over_tls_on_smol() {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let tls = tls_config(
        key.cert.pem().as_bytes(),
        key.signing_key.serialize_pem().as_bytes(),
        &ServeConfig::default(),
    )
    .unwrap();
    let publisher: Publisher<ClientInfo> = Publisher::new();
    let hub = Hub::new(publisher.clone(), HubConfig::new());
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = SmolExecutor(Arc::clone(&executor));
        executor
            .spawn(async move {
                let _ = hub
                    .serve_tls(listener, tls, serving, std::future::pending())
                    .await;
            })
            .detach();

        let url = format!("https://{addr}/events?channel=t");
        let cert = key.cert.der().clone();
        // The client's default TLS offers h2 and http/1.1; one of its own
        // offers http/1.1 alone.
        let mut over_h2 = EventSource::builder(url.as_str())
            .add_root_certificate(cert.clone())
            .build()
            .unwrap();
        let mut over_h1 = EventSource::builder(url.as_str())
            .tls_config(http1_only(cert))
            .build()
            .unwrap();
        for (source, version) in [
            (&mut over_h2, Version::HTTP_2),
            (&mut over_h1, Version::HTTP_11),
        ] {
            assert!(matches!(next(source).await, SourceEvent::Open));
            assert_eq!(source.response().unwrap().version(), version);
        }

        let published = publisher.publish(Event::new("over tls"), "t").unwrap();
        assert_eq!(published.reached(), 2);
        for source in [&mut over_h2, &mut over_h1] {
            match next(source).await {
                SourceEvent::Message(event) => assert_eq!(event.data(), "over tls"),
                other => panic!("{other:?}"),
            }
        }
    }));
}
