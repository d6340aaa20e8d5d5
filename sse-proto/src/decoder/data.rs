//! The data of the event in progress: the last region of the decoder's
//! buffer, the only one that grows, in a buffer that can.

use super::scan::push;
use super::{DecodeBuf, Decoder};

impl<B: DecodeBuf> Decoder<B> {
    /// Appends `bytes` to the event's data (`window` starts with them, see
    /// [`push`]); false, changing nothing, past the limit or when the buffer
    /// cannot grow to take them.
    #[inline]
    pub(super) fn write_data(&mut self, bytes: &[u8], window: &[u8]) -> bool {
        if self.data_len + bytes.len() <= self.data_room {
            return push(
                self.buf.bytes_mut(),
                self.layout.data_off,
                self.data_room,
                &mut self.data_len,
                bytes,
                window,
            );
        }
        self.append_data(bytes)
    }

    /// [`write_data`](Self::write_data) past the room the buffer has now.
    #[cold]
    #[inline(never)]
    fn append_data(&mut self, bytes: &[u8]) -> bool {
        let need = self.data_len.saturating_add(bytes.len());
        if need > self.layout.data_cap {
            return false;
        }
        let at = self.layout.data_off + self.data_len;
        self.data_room = self.layout.data_room(self.buf.append(at, bytes));
        if self.data_room < need {
            return false;
        }
        self.data_len = need;
        true
    }

    /// The event's data is gone: a buffer that grew for it may shrink.
    #[inline]
    pub(super) fn release_data(&mut self) {
        if self.data_room > self.base_room {
            self.shrink_data();
        }
    }

    #[cold]
    #[inline(never)]
    fn shrink_data(&mut self) {
        self.data_room = self.layout.data_room(self.buf.shrink(self.layout.data_off));
    }
}
