//! What the generic types of this crate need from an async runtime.
//!
//! An adapter names its runtime with a type that is never built (a marker:
//! `sse_tokio::TokioRuntime`, `sse_smol::SmolRuntime`) and implements these
//! traits for it; its public types are this crate's with that marker filled
//! in (`type EventSource = sse_hyper::EventSource<TokioRuntime>`). So each
//! runtime costs a few dozen lines, and every protocol rule, buffer policy
//! and HTTP detail exists once, here or in `sse_proto`.
//!
//! - [`Runtime`]: a clock and a timer that can be polled, for the client's
//!   reconnection delays and idle timeout and the server's keep-alive.
//! - [`Connect`] (feature `client`): TCP, and TLS over it, for the client.
//! - [`Reads`] and [`Writes`]: how the runtime's own I/O traits are polled,
//!   for [`EventReader`](crate::EventReader) and
//!   [`EventWriter`](crate::EventWriter) over the readers and writers users
//!   already have.
//!
//! The traits are separate so that an adapter implements only what its
//! enabled features need: [`Connect`] exists only with the `client` feature,
//! and an adapter built without its own `client` feature still compiles when
//! some other crate turns this crate's `client` feature on.

use std::io;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// A runtime's clock and timer.
///
/// Implemented by an adapter's marker type; every method is an associated
/// function, as there is no value of the marker.
pub trait Runtime: Send + Sync + 'static {
    /// A timer: it is ready once the clock reaches its deadline (its output
    /// is ignored). It is polled from `poll` methods, and re-armed with
    /// [`reset`](Self::reset) rather than built again.
    type Sleep: Future + Send + Unpin + 'static;

    /// Now, on the runtime's clock (which may be a test clock that only
    /// moves when told to, as tokio's paused clock).
    fn now() -> Instant;

    /// A timer for `deadline` on the runtime's clock.
    fn sleep_until(deadline: Instant) -> Self::Sleep;

    /// Re-arms `sleep` for `deadline`, whether or not it has fired.
    fn reset(sleep: &mut Self::Sleep, deadline: Instant);
}

/// How a runtime opens the client's connections: TCP, and TLS over it.
///
/// The connections are given to hyper, so they implement its I/O traits
/// (`hyper_util::rt::TokioIo` and `smol_hyper::rt::FuturesIo` wrap the
/// runtimes' streams so).
#[cfg(feature = "client")]
pub trait Connect: Runtime {
    /// A TCP connection.
    type Tcp: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// A TLS connection over a [`Tcp`](Self::Tcp) one; [`NoTls`] for a
    /// runtime without TLS.
    type Tls: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// Connects to `host` (a name, or an IP address without brackets) and
    /// `port`, with Nagle's algorithm off (events are small and should not
    /// wait).
    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// Does the TLS handshake over `tcp`, as `tls` says.
    ///
    /// A handshake error that rustls reports (an untrusted certificate, say)
    /// is expected inside the `io::Error` (as `tokio-rustls` and
    /// `futures-rustls` put it), so that the client can report it as
    /// [`Error::Tls`](crate::Error). By default, for a runtime without TLS
    /// (whose [`Tls`](Self::Tls) is [`NoTls`]), it fails with
    /// [`io::ErrorKind::Unsupported`].
    fn connect_tls(
        tcp: Self::Tcp,
        tls: TlsConnect,
    ) -> impl Future<Output = io::Result<Self::Tls>> + Send {
        drop((tcp, tls));
        std::future::ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "https needs TLS, which this build has not got (the adapter's `rustls` feature)",
        )))
    }

    /// The protocol the server picked by ALPN during the handshake of
    /// `tls` (`b"h2"` for HTTP/2), read from its rustls connection
    /// (`get_ref().1.alpn_protocol()` in `tokio-rustls` and
    /// `futures-rustls`). The client speaks HTTP/2 over a connection where
    /// it is `h2`, and HTTP/1.1 otherwise. By default `None`: a runtime
    /// that does not say must give a TLS configuration that offers only
    /// `http/1.1` (the client's default one offers `h2` with the `http2`
    /// feature).
    fn alpn_protocol(tls: &Self::Tls) -> Option<&[u8]> {
        let _ = tls;
        None
    }
}

/// What a TLS handshake needs: the client configuration and the name the
/// server's certificate must have. The client builds it for each `https`
/// connection; without the `rustls` feature there is none.
#[cfg(feature = "client")]
#[derive(Debug)]
#[non_exhaustive]
pub struct TlsConnect {
    /// The configuration: the caller's, or the default one (the system's
    /// root certificates and any the caller added, ring, `h2` with the
    /// `http2` feature and `http/1.1` by ALPN).
    #[cfg(feature = "rustls")]
    pub config: Arc<rustls::ClientConfig>,
    /// The server's name.
    #[cfg(feature = "rustls")]
    pub server_name: rustls::pki_types::ServerName<'static>,
}

/// The [`Connect::Tls`] of a runtime without TLS: it has no values.
#[cfg(feature = "client")]
#[derive(Debug)]
pub enum NoTls {}

#[cfg(feature = "client")]
impl hyper::rt::Read for NoTls {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match *self {}
    }
}

#[cfg(feature = "client")]
impl hyper::rt::Write for NoTls {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        match *self {}
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match *self {}
    }
}

/// How a runtime reads from `R`: implemented by an adapter's marker for the
/// runtime's readers (`impl<R: tokio::io::AsyncRead> Reads<R> for
/// TokioRuntime`), so that [`EventReader`](crate::EventReader) takes them as
/// they are.
#[diagnostic::on_unimplemented(
    message = "`{R}` is not a reader of this runtime",
    label = "not a reader for `{Self}`",
    note = "sse-tokio reads a `tokio::io::AsyncRead`, sse-smol a `futures_io::AsyncRead`"
)]
pub trait Reads<R: ?Sized> {
    /// Reads into `buf`: how many bytes were read, `0` at the end of the
    /// input.
    fn poll_read(
        reader: Pin<&mut R>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;
}

/// How a runtime writes to `W`: implemented by an adapter's marker for the
/// runtime's writers, so that [`EventWriter`](crate::EventWriter) takes
/// them as they are.
#[diagnostic::on_unimplemented(
    message = "`{W}` is not a writer of this runtime",
    label = "not a writer for `{Self}`",
    note = "sse-tokio writes to a `tokio::io::AsyncWrite`, sse-smol to a `futures_io::AsyncWrite`"
)]
pub trait Writes<W: ?Sized> {
    /// Writes from `buf`: how many bytes were written.
    fn poll_write(writer: Pin<&mut W>, cx: &mut Context<'_>, buf: &[u8])
    -> Poll<io::Result<usize>>;

    /// Flushes what is buffered.
    fn poll_flush(writer: Pin<&mut W>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// How a runtime serves: its listener, the connections it accepts, and
/// hyper's timer for header and idle timeouts. For
/// [`server::serve`](crate::server::serve).
///
/// Why not hyper's own traits alone: hyper's [`Timer`](hyper::rt::Timer)
/// has no clock to read, and this crate's timers ([`Runtime`]) must follow
/// a test clock (tokio's paused clock) where hyper's need not; so a runtime
/// gives both, the one built on the other.
#[cfg(feature = "server")]
pub trait Serve: Runtime {
    /// A listening socket.
    type Listener: Send + Sync + 'static;

    /// An accepted connection.
    type Stream: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// hyper's timer on this runtime.
    type Timer: hyper::rt::Timer + Clone + Send + Sync + 'static;

    /// Accepts the next connection, with Nagle's algorithm off (events are
    /// small and must not wait for more), and says who it is from.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Stream, std::net::SocketAddr)>> + Send;

    /// hyper's timer.
    fn timer() -> Self::Timer;
}

/// TLS for a runtime's server (features `server` and `rustls`): the
/// handshake over an accepted connection, and the protocol the client
/// chose by ALPN. For
/// [`Server::serve_tls_with_streams`](crate::server::Server::serve_tls_with_streams).
///
/// A trait of its own, so that an adapter built without TLS still
/// compiles when some other crate turns this crate's `rustls` feature on.
#[cfg(all(feature = "server", feature = "rustls"))]
pub trait ServeTls: Serve {
    /// A TLS connection over an accepted one.
    type TlsStream: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// The server side of the handshake over `stream`.
    fn accept_tls(
        stream: Self::Stream,
        config: Arc<rustls::ServerConfig>,
    ) -> impl Future<Output = io::Result<Self::TlsStream>> + Send;

    /// The protocol the client chose by ALPN (`h2`, `http/1.1`), if any.
    fn alpn_protocol(stream: &Self::TlsStream) -> Option<&[u8]>;
}
