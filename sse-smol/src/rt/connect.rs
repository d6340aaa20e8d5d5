//! The client's connections: async-net's TCP, and TLS with
//! `futures-rustls`.

use std::io;

use async_net::TcpStream;
use smol_hyper::rt::FuturesIo;
use sse_hyper::rt::Connect;
#[cfg(feature = "rustls")]
use sse_hyper::rt::TlsConnect;

use super::SmolRuntime;

impl Connect for SmolRuntime {
    type Tcp = FuturesIo<TcpStream>;
    #[cfg(feature = "rustls")]
    type Tls = FuturesIo<futures_rustls::client::TlsStream<TcpStream>>;
    #[cfg(not(feature = "rustls"))]
    type Tls = sse_hyper::rt::NoTls;

    async fn connect(host: &str, port: u16) -> io::Result<Self::Tcp> {
        let tcp = TcpStream::connect((host, port)).await?;
        tcp.set_nodelay(true)?;
        Ok(FuturesIo::new(tcp))
    }

    #[cfg(feature = "rustls")]
    async fn connect_tls(tcp: Self::Tcp, tls: TlsConnect) -> io::Result<Self::Tls> {
        let TlsConnect {
            config,
            server_name,
            ..
        } = tls;
        let connector = futures_rustls::TlsConnector::from(config);
        let stream = connector.connect(server_name, tcp.into_inner()).await?;
        Ok(FuturesIo::new(stream))
    }

    #[cfg(feature = "rustls")]
    fn alpn_protocol(tls: &Self::Tls) -> Option<&[u8]> {
        tls.get_ref().get_ref().1.alpn_protocol()
    }
}
