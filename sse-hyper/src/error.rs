//! [`Error`]: what can go wrong reading, writing or fetching an event stream.

use std::{fmt, io};

use sse_proto::DecodeError;

#[cfg(feature = "client")]
use crate::FailedResponse;

/// Everything the readers, the writer and the client report: the same type
/// under every runtime (`sse_tokio::Error` and `sse_smol::Error` are this).
///
/// Each variant wraps the error it comes from, which
/// [`source`](std::error::Error::source) returns.
///
/// Whether an error ends a stream depends on where it comes from: an
/// [`EventReader`](crate::EventReader) ends after an I/O error but goes on
/// after a [`Decode`](Self::Decode) error, and an
/// [`EventSource`](crate::EventSource) reports errors as they happen and
/// goes on (reconnecting) until its connection model says it is closed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or connecting failed.
    Io(io::Error),
    /// An event was over the decoder's limits and was discarded; decoding
    /// goes on with the next event.
    Decode(DecodeError),
    /// The byte stream an [`EventStream`](crate::EventStream) reads failed.
    Body(Box<dyn std::error::Error + Send + Sync>),
    /// The HTTP exchange failed: a malformed response, or the connection
    /// closed in the middle of one.
    #[cfg(feature = "client")]
    Http(hyper::Error),
    /// A request could not be built: an invalid URL, method or header.
    #[cfg(feature = "client")]
    Request(http::Error),
    /// A URL the client cannot fetch: not `http` or `https` (`https` needs
    /// the `rustls` feature), or without a host.
    #[cfg(feature = "client")]
    UnsupportedUrl(http::Uri),
    /// The server answered with something other than an event stream.
    #[cfg(feature = "client")]
    Response(Box<FailedResponse>),
    /// Nothing arrived within the idle timeout: no response to a request, or
    /// no byte of an open stream.
    #[cfg(feature = "client")]
    TimedOut,
    /// The server ended the body of an open stream. Not a failure of the
    /// connection (that is [`Http`](Self::Http), [`Io`](Self::Io) or
    /// [`Transport`](Self::Transport)): the stream finished, and, as
    /// browsers do after firing `error`, the `EventSource` reconnects after
    /// the reconnection time unless it is [closed](crate::EventSource::close)
    /// first. A server that means "stop" answers the reconnect with `204`.
    #[cfg(feature = "client")]
    StreamEnded,
    /// Another HTTP client's error: a [`Transport`](crate::Transport) other
    /// than hyper's reports its own this way (`reqwest::Error` with
    /// sse-tokio's `reqwest` feature; reach it with
    /// [`source`](std::error::Error::source) and `downcast_ref`).
    #[cfg(feature = "client")]
    Transport(Box<dyn std::error::Error + Send + Sync>),
    /// TLS failed: no usable root certificates, or the handshake failed (an
    /// untrusted certificate, for example).
    #[cfg(feature = "rustls")]
    Tls(rustls::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "I/O error: {error}"),
            Self::Decode(error) => write!(f, "{error}"),
            Self::Body(error) => write!(f, "reading the body failed: {error}"),
            #[cfg(feature = "client")]
            Self::Http(error) => write!(f, "HTTP error: {error}"),
            #[cfg(feature = "client")]
            Self::Request(error) => write!(f, "invalid request: {error}"),
            #[cfg(feature = "client")]
            Self::UnsupportedUrl(url) => {
                let hint = if cfg!(feature = "rustls") {
                    ""
                } else {
                    " (https needs the `rustls` feature)"
                };
                write!(
                    f,
                    "cannot fetch {url}: only http and https URLs with a host are supported{hint}"
                )
            }
            #[cfg(feature = "client")]
            Self::Response(response) => write!(f, "{response}"),
            #[cfg(feature = "client")]
            Self::TimedOut => f.write_str("timed out: nothing arrived within the idle timeout"),
            #[cfg(feature = "client")]
            Self::StreamEnded => f.write_str("the server ended the stream"),
            #[cfg(feature = "client")]
            Self::Transport(error) => {
                write!(f, "HTTP error: {error}")?;
                // Clients such as reqwest keep the cause (a refused
                // connection, a certificate) in the source chain.
                let mut source = error.source();
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            #[cfg(feature = "rustls")]
            Self::Tls(error) => write!(f, "TLS error: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(error) => Some(error),
            Self::Decode(error) => Some(error),
            Self::Body(error) => Some(&**error),
            #[cfg(feature = "client")]
            Self::Http(error) => Some(error),
            #[cfg(feature = "client")]
            Self::Request(error) => Some(error),
            #[cfg(feature = "client")]
            Self::Response(response) => Some(&**response),
            #[cfg(feature = "client")]
            Self::Transport(error) => Some(&**error),
            #[cfg(feature = "client")]
            Self::UnsupportedUrl(_) | Self::TimedOut | Self::StreamEnded => None,
            #[cfg(feature = "rustls")]
            Self::Tls(error) => Some(error),
        }
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

impl From<DecodeError> for Error {
    fn from(error: DecodeError) -> Self {
        Self::Decode(error)
    }
}

#[cfg(feature = "client")]
impl From<hyper::Error> for Error {
    fn from(error: hyper::Error) -> Self {
        Self::Http(error)
    }
}

#[cfg(feature = "client")]
impl From<http::Error> for Error {
    fn from(error: http::Error) -> Self {
        Self::Request(error)
    }
}
