//! [`DecodeBuf`], what a decoder keeps its state in, and [`GrowableBuf`],
//! a heap buffer that grows with the event in progress.

/// The buffer a [`Decoder`](crate::Decoder) keeps its state in.
///
/// Every `AsRef<[u8]> + AsMut<[u8]>` type is one, fixed: arrays, slices, a
/// `Vec<u8>` or `Box<[u8]>` of the length wanted, `&mut` of any of them.
/// A fixed buffer never changes size: its length decides the largest
/// event. A growable one (such as [`GrowableBuf`]) says how long it may
/// become with [`max_len`](Self::max_len), and the decoder lays its regions
/// out over that length, asks it to [`append`](Self::append) past its end
/// only when the data of an event needs the room, and lets it
/// [`shrink`](Self::shrink) once that event is over.
pub trait DecodeBuf {
    /// The bytes the buffer holds now.
    fn bytes(&self) -> &[u8];

    /// The bytes the buffer holds now, to write.
    fn bytes_mut(&mut self) -> &mut [u8];

    /// The length the buffer may grow to; the decoder's limits are fitted
    /// into this. For a fixed buffer, its length.
    fn max_len(&self) -> usize {
        self.bytes().len()
    }

    /// Grows the buffer to at least `min_len` bytes (never past
    /// [`max_len`](Self::max_len)) if it can, keeping its contents, and
    /// returns its length. A fixed buffer stays as it is.
    fn grow(&mut self, min_len: usize) -> usize {
        let _ = min_len;
        self.bytes().len()
    }

    /// Writes `bytes` at `at` (no further than its length now), growing
    /// the buffer to end with them if it must and can, and returns its
    /// length: at least `at + bytes.len()` when they were written. By
    /// default, [`grow`](Self::grow) and a copy; a fixed buffer that is too
    /// short writes nothing.
    fn append(&mut self, at: usize, bytes: &[u8]) -> usize {
        let end = at.saturating_add(bytes.len());
        let len = self.grow(end);
        match self.bytes_mut().get_mut(at..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                len
            }
            None => len.min(at),
        }
    }

    /// The decoder holds nothing past the first `in_use` bytes: the buffer
    /// may give memory back, down to no fewer than `in_use` bytes. Returns
    /// its length.
    fn shrink(&mut self, in_use: usize) -> usize {
        let _ = in_use;
        self.bytes().len()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized> DecodeBuf for T {
    fn bytes(&self) -> &[u8] {
        self.as_ref()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.as_mut()
    }
}

#[cfg(feature = "alloc")]
pub use growable::GrowableBuf;

#[cfg(feature = "alloc")]
mod growable {
    use alloc::vec::Vec;
    use core::fmt;

    use super::DecodeBuf;

    /// A heap buffer for a [`Decoder`](crate::Decoder) that starts small,
    /// grows as the data of an event grows (doubling, up to its most), and
    /// gives the memory back after an event that made it large.
    ///
    /// It keeps up to [`keep_len`](Self::keep_len) bytes between events, so
    /// that a stream of events of a few KiB costs no allocation per event;
    /// past that, it shrinks back to its starting length as soon as the
    /// event that needed the room is over. A stream of small events never
    /// touches more than it needs, however high the limit.
    /// [`Decoder::with_capacity`](crate::Decoder::with_capacity) builds a
    /// decoder on one.
    ///
    /// ```
    /// use sse_proto::{Decoder, Frame, GrowableBuf, Limits};
    ///
    /// let mut decoder = Decoder::with_capacity(16 << 20, Limits::new());
    /// let start = decoder.buffer_len();
    /// let big = format!("data: {}\n\n", "x".repeat(1 << 20));
    /// let mut input = big.as_bytes();
    /// let frame = decoder.decode(&mut input).unwrap().unwrap();
    /// assert!(matches!(frame, Frame::Event(e) if e.data().len() == 1 << 20));
    /// assert!(decoder.buffer_len() > 1 << 20);
    /// // The next call finds the event taken, and the room goes back.
    /// assert!(decoder.decode(&mut &b": ping\n"[..]).is_none());
    /// assert_eq!(decoder.buffer_len(), start);
    /// # let _: Decoder<GrowableBuf> = decoder;
    /// ```
    pub struct GrowableBuf {
        buf: Vec<u8>,
        start_len: usize,
        keep_len: usize,
        max_len: usize,
    }

    impl GrowableBuf {
        /// How much a buffer keeps between events by default, in bytes: a
        /// stream of events of up to about this much data reuses the
        /// buffer it grew.
        pub const DEFAULT_KEEP_LEN: usize = 32 * 1024;

        /// A buffer of `start_len` zeroed bytes that may grow to
        /// `max_len` (at least `start_len`).
        pub fn new(start_len: usize, max_len: usize) -> Self {
            let max_len = max_len.max(start_len);
            Self {
                buf: alloc::vec![0; start_len],
                start_len,
                keep_len: Self::DEFAULT_KEEP_LEN.clamp(start_len, max_len),
                max_len,
            }
        }

        /// Keeps up to `len` bytes between events instead of
        /// [`DEFAULT_KEEP_LEN`](Self::DEFAULT_KEEP_LEN) (never less than
        /// the starting length).
        #[must_use]
        pub fn with_keep_len(mut self, len: usize) -> Self {
            self.keep_len = len.max(self.start_len);
            self
        }

        /// The length it keeps between events.
        pub fn keep_len(&self) -> usize {
            self.keep_len
        }

        /// Its length now.
        pub fn len(&self) -> usize {
            self.buf.len()
        }

        /// Whether it has no bytes at all.
        pub fn is_empty(&self) -> bool {
            self.buf.is_empty()
        }

        /// Makes room for `len` bytes in all. The capacity doubles, so that
        /// the copies of a growing event add up to about its size (and the
        /// allocator often grows a large block in place); it stops at the
        /// keep length while `len` fits in it, so that what grew is kept
        /// between events rather than given back after each.
        fn reserve_for(&mut self, len: usize) {
            if len <= self.buf.capacity() {
                return;
            }
            let current = self.buf.len();
            let mut capacity = len.max(current.saturating_mul(2)).min(self.max_len);
            if len <= self.keep_len {
                capacity = capacity.min(self.keep_len);
            }
            self.buf.reserve_exact(capacity - current);
        }
    }

    impl DecodeBuf for GrowableBuf {
        fn bytes(&self) -> &[u8] {
            &self.buf
        }

        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.buf
        }

        fn max_len(&self) -> usize {
            self.max_len
        }

        fn grow(&mut self, min_len: usize) -> usize {
            let target = min_len.min(self.max_len);
            if target > self.buf.len() {
                self.reserve_for(target);
                self.buf.resize(target, 0);
            }
            self.buf.len()
        }

        fn append(&mut self, at: usize, bytes: &[u8]) -> usize {
            let end = at.saturating_add(bytes.len());
            if at > self.buf.len() || end > self.max_len {
                return self.buf.len().min(at);
            }
            if end > self.buf.len() {
                self.reserve_for(end);
                // What lies past `at` is the decoder's scratch: the bytes
                // are appended, not written over zeroes.
                self.buf.truncate(at);
                self.buf.extend_from_slice(bytes);
            } else if let Some(dst) = self.buf.get_mut(at..end) {
                dst.copy_from_slice(bytes);
            }
            self.buf.len()
        }

        fn shrink(&mut self, in_use: usize) -> usize {
            if self.buf.len() > self.keep_len {
                // A new allocation and a free, not a `realloc` in place: a
                // large block shrunk in place by the allocator (`mremap` in
                // glibc) stays a mapping of its own, whose every page faults
                // in afresh when the next large event grows it; freed, it
                // goes back to the allocator, which can hand the same
                // memory to the next large event.
                let keep = self.start_len.max(in_use).min(self.buf.len());
                let mut small = alloc::vec![0; keep];
                small.copy_from_slice(self.buf.get(..keep).unwrap_or_default());
                self.buf = small;
            }
            self.buf.len()
        }
    }

    impl fmt::Debug for GrowableBuf {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("GrowableBuf")
                .field("len", &self.buf.len())
                .field("start_len", &self.start_len)
                .field("keep_len", &self.keep_len)
                .field("max_len", &self.max_len)
                .finish()
        }
    }
}
