//! A reader that returns exactly the chunks (or errors) it is given, one
//! per read, then the end of the input: splits, stalls and errors on
//! demand for the reader tests. Each runtime's `rt` module implements its
//! `AsyncRead` with [`Scripted::read`].
//!
//! This file is shared by `sse-tokio` and `sse-smol` (`#[path]`).

use std::collections::VecDeque;
use std::io;

pub(crate) fn scripted(chunks: Vec<io::Result<Vec<u8>>>) -> Scripted {
    Scripted {
        chunks: chunks.into(),
    }
}

pub(crate) struct Scripted {
    chunks: VecDeque<io::Result<Vec<u8>>>,
}

impl Scripted {
    /// The next chunk (as much of it as fits in `buf`; the rest comes
    /// next), or its error; `Ok(0)` at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.chunks.pop_front() {
            None => Ok(0),
            Some(Err(error)) => Err(error),
            Some(Ok(mut chunk)) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.chunks.push_front(Ok(chunk.split_off(n)));
                }
                Ok(n)
            }
        }
    }
}
