//! TLS for `EventSource` through rustls (ring): the default configuration
//! with the system's root certificates, and errors.
//!
//! This file is the same in `sse-tokio` and `sse-smol`.

use std::io;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use crate::Error;

/// The configuration used unless the caller gives one: the system's root
/// certificates, ring, safe protocol versions, HTTP/1.1 by ALPN. Built once
/// per process, on the first `https` connection (reading the roots is
/// blocking file I/O that takes milliseconds).
pub(crate) fn default_config() -> Result<Arc<ClientConfig>, Error> {
    static DEFAULT: OnceLock<Result<Arc<ClientConfig>, rustls::Error>> = OnceLock::new();
    DEFAULT
        .get_or_init(build_default)
        .clone()
        .map_err(Error::Tls)
}

fn build_default() -> Result<Arc<ClientConfig>, rustls::Error> {
    let native = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(native.certs);
    if roots.is_empty() {
        let why = native.errors.first().map(ToString::to_string);
        return Err(rustls::Error::General(format!(
            "no usable root certificates found on this system{}",
            why.map(|why| format!(": {why}")).unwrap_or_default()
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
