//! The one decode loop of this crate: feed what a source has read to the
//! decoder (or the client model) until a frame is ready, and read more when
//! it has taken everything.
//!
//! [`EventReader`](crate::EventReader), [`EventStream`](crate::EventStream)
//! and [`EventSource`](crate::EventSource) differ only in where their bytes
//! come from (a runtime's reader, a stream of chunks, a hyper body): each is
//! a [`Source`], and each calls [`poll`] with its decoder or client model.
//! Bytes are decoded where they were read, never copied again, and nothing is
//! allocated per frame.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

#[cfg(feature = "client")]
use sse_proto::{Client, Instant};
use sse_proto::{DecodeError, Decoder};

/// Where a pump's bytes come from.
pub(crate) trait Source {
    /// Why reading failed.
    type Error;

    /// The bytes read and not yet decoded.
    fn unread(&self) -> &[u8];

    /// Marks the first `n` unread bytes as decoded.
    fn consume(self: Pin<&mut Self>, n: usize);

    /// Reads more: `Ok(true)` when [`unread`](Self::unread) has new bytes,
    /// `Ok(false)` at the end of the input. Called only once everything
    /// unread has been consumed.
    fn poll_fill(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<bool, Self::Error>>;
}

/// What a pump feeds: a [`Decoder`], or the client model, which decodes
/// with its own.
pub(crate) trait Feed {
    /// As [`Decoder::feed`]: `Ok(true)` when a frame is ready. `Ok(false)`
    /// means it has taken all of `input` it will take: the rest is dropped.
    fn feed(&mut self, input: &mut &[u8]) -> Result<bool, DecodeError>;
}

impl<B: sse_proto::DecodeBuf> Feed for Decoder<B> {
    #[inline]
    fn feed(&mut self, input: &mut &[u8]) -> Result<bool, DecodeError> {
        Self::feed(self, input)
    }
}

/// The client model as a [`Feed`], at one instant.
#[cfg(feature = "client")]
pub(crate) struct ClientFeed<'c, B> {
    pub(crate) client: &'c mut Client<B>,
    pub(crate) now: Instant,
}

#[cfg(feature = "client")]
impl<B: sse_proto::DecodeBuf> Feed for ClientFeed<'_, B> {
    #[inline]
    fn feed(&mut self, input: &mut &[u8]) -> Result<bool, DecodeError> {
        self.client.handle_body(self.now, input)
    }
}

/// What [`poll`] stopped for.
#[derive(Debug)]
pub(crate) enum Pumped<E> {
    /// A frame is ready: borrow it from the feed.
    Frame,
    /// The feed discarded an event (it goes on with the next).
    Decode(DecodeError),
    /// The source ended.
    End,
    /// The source failed.
    Failed(E),
}

/// Feeds `source` to `feed` until a frame is ready (borrow it from the
/// decoder or the client model), the input ends or fails.
#[inline]
pub(crate) fn poll<S: Source + ?Sized, F: Feed>(
    mut source: Pin<&mut S>,
    feed: &mut F,
    cx: &mut Context<'_>,
) -> Poll<Pumped<S::Error>> {
    loop {
        let unread = source.unread();
        if !unread.is_empty() {
            let mut input = unread;
            let ready = feed.feed(&mut input);
            // Taken, or (`Ok(false)`) dropped: either way done with it.
            let used = match ready {
                Ok(false) => unread.len(),
                _ => unread.len() - input.len(),
            };
            source.as_mut().consume(used);
            match ready {
                Ok(true) => return Poll::Ready(Pumped::Frame),
                Err(error) => return Poll::Ready(Pumped::Decode(error)),
                Ok(false) => {}
            }
        }
        match ready!(source.as_mut().poll_fill(cx)) {
            Ok(true) => {}
            Ok(false) => return Poll::Ready(Pumped::End),
            Err(error) => return Poll::Ready(Pumped::Failed(error)),
        }
    }
}
