//! A reader that returns exactly the chunks (or errors) it is given, one
//! per read, then the end of the input: splits, stalls and errors on
//! demand for the reader tests. Each runtime's tests wrap it in a type that
//! implements the runtime's `AsyncRead` with [`Scripted::read`]
//! ([`TestRuntime::Scripted`](crate::rt::TestRuntime::Scripted)).

use std::collections::VecDeque;
use std::io;

/// A reader that returns `chunks`, one per read, then the end.
pub fn scripted(chunks: Vec<io::Result<Vec<u8>>>) -> Scripted {
    Scripted {
        chunks: chunks.into(),
    }
}

/// A reader of scripted chunks: see [`scripted`].
#[derive(Debug)]
pub struct Scripted {
    chunks: VecDeque<io::Result<Vec<u8>>>,
}

impl Scripted {
    /// The next chunk (as much of it as fits in `buf`; the rest comes
    /// next), or its error; `Ok(0)` at the end.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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
