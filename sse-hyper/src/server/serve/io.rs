//! A served connection's I/O: the bytes already read (the first request
//! head) put back in front, and a write timeout, so that a client that
//! stops taking what is written (a stalled subscriber) is cut.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use hyper::rt::{Read, ReadBufCursor, Write};

use super::slots::ServeStats;
use crate::rt::Runtime;

/// The connection as hyper sees it.
pub(super) struct Conn<S, R: Runtime> {
    io: S,
    /// Read before hyper took over; given to it first.
    prefix: Bytes,
    write_timeout: Duration,
    /// Armed while a write waits for the client.
    deadline: Option<R::Sleep>,
    armed: bool,
    stats: Arc<ServeStats>,
}

impl<S, R: Runtime> Conn<S, R> {
    pub(super) fn new(
        io: S,
        prefix: Bytes,
        write_timeout: Duration,
        stats: Arc<ServeStats>,
    ) -> Self {
        Self {
            io,
            prefix,
            write_timeout,
            deadline: None,
            armed: false,
            stats,
        }
    }

    /// After a write that could not go on: arms the timer if it is not,
    /// and fails once the client has taken nothing for the write timeout.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.armed {
            let deadline = crate::server::after(R::now(), self.write_timeout);
            match &mut self.deadline {
                Some(sleep) => R::reset(sleep, deadline),
                None => self.deadline = Some(R::sleep_until(deadline)),
            }
            self.armed = true;
        }
        let Some(sleep) = &mut self.deadline else {
            return Poll::Pending;
        };
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(_) => {
                self.armed = false;
                ServeStats::count(&self.stats.write_timeouts);
                Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client took nothing for the write timeout",
                ))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn written<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending => self.stalled(cx).map(Err),
        }
    }
}

impl<S: Read + Unpin, R: Runtime> Read for Conn<S, R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.has_remaining() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<S: Write + Unpin, R: Runtime> Write for Conn<S, R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.written(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.written(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_flush(cx);
        this.written(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_shutdown(cx);
        this.written(cx, result)
    }
}
