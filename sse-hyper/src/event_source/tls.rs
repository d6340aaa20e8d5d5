//! TLS for `EventSource` through rustls (ring): the default configuration
//! with the system's root certificates, and errors. The handshake itself is
//! the runtime's ([`Connect::connect_tls`](crate::rt::Connect::connect_tls)).

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::Error;

/// The configuration used unless the caller gives one: the system's root
/// certificates, ring, safe protocol versions, `h2` (feature `http2`) and
/// `http/1.1` by ALPN. Built on
/// the first `https` connection (reading the roots is blocking file I/O that
/// takes milliseconds) and kept once it succeeds; a failure (no root
/// certificates yet) is tried again on the next connection.
pub(crate) fn default_config() -> Result<Arc<ClientConfig>, Error> {
    static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = DEFAULT.get() {
        return Ok(Arc::clone(config));
    }
    let config = build_default().map_err(Error::Tls)?;
    Ok(Arc::clone(DEFAULT.get_or_init(|| config)))
}

fn build_default() -> Result<Arc<ClientConfig>, rustls::Error> {
    config_with_roots(&[])
}

/// The default configuration, trusting `extra` (a private CA) besides the
/// system's roots; with `extra`, a system without roots is no error.
pub(crate) fn config_with_roots(
    extra: &[CertificateDer<'static>],
) -> Result<Arc<ClientConfig>, rustls::Error> {
    let native = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(native.certs);
    if roots.is_empty() && extra.is_empty() {
        let why = native.errors.first().map(ToString::to_string);
        return Err(rustls::Error::General(format!(
            "no usable root certificates found on this system{}",
            why.map(|why| format!(": {why}")).unwrap_or_default()
        )));
    }
    for cert in extra {
        roots.add(cert.clone())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn_protocols();
    Ok(Arc::new(config))
}

/// What the client offers by ALPN: `h2` first with the `http2` feature,
/// then `http/1.1`, which every server can fall back to.
pub(crate) fn alpn_protocols() -> Vec<Vec<u8>> {
    let mut protocols = Vec::new();
    if cfg!(feature = "http2") {
        protocols.push(b"h2".to_vec());
    }
    protocols.push(b"http/1.1".to_vec());
    protocols
}

/// The name the server's certificate must have.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_owned()).map_err(|_| {
        Error::Tls(rustls::Error::General(format!(
            "invalid server name {host:?}"
        )))
    })
}

/// A handshake error: rustls's own error when there is one (an untrusted
/// certificate, say), else the I/O error.
pub(crate) fn handshake_error(error: io::Error) -> Error {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Error::Tls(tls.clone()),
        None => Error::Io(error),
    }
}
