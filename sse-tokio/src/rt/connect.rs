//! The client's connections: tokio's TCP, and TLS with `tokio-rustls`.

use std::io;

use hyper_util::rt::TokioIo;
use sse_hyper::rt::Connect;
#[cfg(feature = "rustls")]
use sse_hyper::rt::TlsConnect;
use tokio::net::TcpStream;

use super::TokioRuntime;

impl Connect for TokioRuntime {
    type Tcp = TokioIo<TcpStream>;
    #[cfg(feature = "rustls")]
    type Tls = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    #[cfg(not(feature = "rustls"))]
    type Tls = sse_hyper::rt::NoTls;

    async fn connect(host: &str, port: u16) -> io::Result<Self::Tcp> {
        let tcp = TcpStream::connect((host, port)).await?;
        tcp.set_nodelay(true)?;
        Ok(TokioIo::new(tcp))
    }

    #[cfg(feature = "rustls")]
    async fn connect_tls(tcp: Self::Tcp, tls: TlsConnect) -> io::Result<Self::Tls> {
        let TlsConnect {
            config,
            server_name,
            ..
        } = tls;
        let connector = tokio_rustls::TlsConnector::from(config);
        let stream = connector.connect(server_name, tcp.into_inner()).await?;
        Ok(TokioIo::new(stream))
    }

    #[cfg(feature = "rustls")]
    fn alpn_protocol(tls: &Self::Tls) -> Option<&[u8]> {
        tls.inner().get_ref().1.alpn_protocol()
    }
}
