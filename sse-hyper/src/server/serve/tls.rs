//! TLS for the server (features `server` and `rustls`): the rustls
//! configuration from PEM files, and the handshake before a connection is
//! served, HTTP/2 chosen by ALPN.

use core::fmt;
use std::error::Error as StdError;
use std::sync::Arc;

use http_body::Body;
use hyper::body::Incoming;
use hyper::rt::Executor;
use hyper::service::Service;
use hyper_util::server::graceful::Watcher;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::connection::{Ctx, Peer, before};
use super::slots::ServeStats;
use super::{ConnectionTask, ServeConfig};
use crate::rt::ServeTls;
use crate::server::after;

/// Why a TLS configuration could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The certificate chain is not PEM, or holds no certificate.
    Certificates(String),
    /// The private key is not PEM, or there is none.
    Key(String),
    /// rustls refused the pair (a key that does not match, say).
    Rustls(rustls::Error),
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificates(why) => write!(f, "the certificate chain: {why}"),
            Self::Key(why) => write!(f, "the private key: {why}"),
            Self::Rustls(error) => write!(f, "TLS: {error}"),
        }
    }
}

impl StdError for TlsConfigError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Rustls(error) => Some(error),
            _ => None,
        }
    }
}

/// A server TLS configuration (rustls with ring) from a PEM certificate
/// chain and a PEM private key, offering HTTP/2 and HTTP/1.1 by ALPN as
/// `config` allows.
///
/// It issues stateless session tickets (rustls' ring `Ticketer`: keys made
/// at random in this process, rotated every 6 hours, tickets good for 12),
/// so that a client coming back (an `EventSource` reconnecting) resumes
/// its session instead of paying for a full handshake, and the hub keeps
/// no state per session. Resumption in TLS 1.3 still runs a fresh key
/// exchange (rustls resumes only with `psk_dhe_ke`), so a leaked ticket key
/// does not reveal past traffic. Nodes behind one load balancer do not share
/// keys: a client that lands on another node gets a full handshake.
pub fn tls_config(
    certificate_chain_pem: &[u8],
    private_key_pem: &[u8],
    config: &ServeConfig,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(certificate_chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|error| TlsConfigError::Certificates(error.to_string()))?;
    if chain.is_empty() {
        return Err(TlsConfigError::Certificates("no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(private_key_pem)
        .map_err(|error| TlsConfigError::Key(error.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsConfigError::Rustls)?;
    tls.ticketer = rustls::crypto::ring::Ticketer::new().map_err(TlsConfigError::Rustls)?;
    tls.alpn_protocols = if config.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(tls))
}

impl<R, S, B, E> Ctx<R, S, E>
where
    R: ServeTls,
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    E: Executor<ConnectionTask> + Clone + Send + Sync + 'static,
{
    /// The handshake within the head timeout, then HTTP/2 if the client
    /// chose it by ALPN, else the connection as in cleartext.
    pub(super) async fn serve_tls(
        &self,
        stream: R::Stream,
        tls: Arc<ServerConfig>,
        peer: Peer,
        watcher: Watcher,
    ) {
        let deadline = after(R::now(), self.config.head_timeout);
        let handshake = before::<R, _>(R::accept_tls(stream, tls), deadline, &self.stop).await;
        let stream = match handshake {
            Some(Ok(stream)) => stream,
            Some(Err(_)) => {
                ServeStats::count(&self.stats.bad_heads);
                return;
            }
            None => {
                ServeStats::count(&self.stats.head_timeouts);
                return;
            }
        };
        let h2 = R::alpn_protocol(&stream) == Some(&b"h2"[..]);
        if h2 && self.config.http2 {
            self.http2(stream, bytes::Bytes::new(), peer, watcher).await;
        } else {
            self.serve(stream, peer, watcher).await;
        }
    }
}
