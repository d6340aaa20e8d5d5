//! The search both directions start every line with: the first CR or LF.
//!
//! Lines in an event stream are mostly short (field lines, JSON data), and
//! for a few dozen bytes the call to `memchr2` costs more than the search
//! itself. So the first [`SHORT`] bytes are looked at eight at a time in a
//! register, in blocks of 64 with the words at fixed offsets, with one test per word for any byte below 0x0E (CR, LF, and
//! rarely a tab or another control byte); `memchr2` takes the rest.

use memchr::memchr2;

/// How many bytes are searched a word at a time before `memchr2` takes over.
pub(crate) const SHORT: usize = 128;

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is below 0x0E, and perhaps of
/// some bytes above such a byte (a borrow can carry into them): the lowest
/// marked byte is always one below 0x0E, and every such byte is marked.
#[inline(always)]
const fn low_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW_BITS * 0x0E) & !word & HIGH_BITS
}

/// The offset of the first CR or LF in `haystack`.
///
/// Inlined into each of its callers where there is an operating system
/// (servers, where speed matters more than a few kilobytes of code); one
/// function on bare metal, where flash is scarce (it halves the growth of a
/// decoder-only program there, at a few percent of speed).
#[cfg_attr(not(target_os = "none"), inline(always))]
#[cfg_attr(target_os = "none", inline)]
pub(crate) fn find(haystack: &[u8]) -> Option<usize> {
    // Whole blocks of 64 bytes as arrays: the words are loaded at fixed
    // offsets, with no bounds check and no loop counter.
    let mut start = 0;
    while start < SHORT {
        let Some(block) = haystack.get(start..).and_then(<[u8]>::first_chunk::<64>) else {
            break;
        };
        for (i, word) in block.chunks_exact(8).enumerate() {
            let word = u64::from_le_bytes(word.first_chunk::<8>().copied().unwrap_or_default());
            let low = low_bytes(word);
            if low != 0 {
                return from_low_byte(
                    haystack,
                    start + i * 8 + (low.trailing_zeros() / 8) as usize,
                );
            }
        }
        start += 64;
    }
    if start == SHORT {
        let beyond = haystack.get(SHORT..).unwrap_or_default();
        return memchr2(b'\n', b'\r', beyond).map(|i| SHORT + i);
    }
    // Less than a block left: a word at a time.
    let tail = haystack.get(start..).unwrap_or_default();
    let mut rest = tail;
    while let Some((word, after)) = rest.split_first_chunk::<8>() {
        let low = low_bytes(u64::from_le_bytes(*word));
        if low != 0 {
            let at = haystack.len() - rest.len() + (low.trailing_zeros() / 8) as usize;
            return from_low_byte(haystack, at);
        }
        rest = after;
    }
    if rest.is_empty() {
        return None;
    }
    match haystack.last_chunk::<8>() {
        // The last eight bytes, overlapping bytes already found clean, so
        // the lowest marked byte is still one of `rest`.
        Some(last) => match low_bytes(u64::from_le_bytes(*last)) {
            0 => None,
            low => from_low_byte(
                haystack,
                haystack.len() - 8 + (low.trailing_zeros() / 8) as usize,
            ),
        },
        None => rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map(|i| haystack.len() - rest.len() + i),
    }
}

/// The first CR or LF at or after `at`, where `haystack` has its first byte
/// below 0x0E.
#[inline]
fn from_low_byte(haystack: &[u8], at: usize) -> Option<usize> {
    match haystack.get(at) {
        Some(b'\n' | b'\r') => Some(at),
        // Another control byte: the search takes over after it.
        _ => {
            let rest = haystack.get(at + 1..).unwrap_or_default();
            memchr2(b'\n', b'\r', rest).map(|i| at + 1 + i)
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{SHORT, find, low_bytes};

    /// Every byte below 0x0E is marked, in every lane, whatever is around
    /// it; the lowest mark is always such a byte.
    #[test]
    fn low_bytes_marks_every_low_byte() {
        for lane in 0..8 {
            for byte in 0..=255u8 {
                for filler in [0u8, 0x0D, 0x0E, b'x', 0x80, 0xFF] {
                    let mut bytes = [filler; 8];
                    bytes[lane] = byte;
                    let marks = low_bytes(u64::from_le_bytes(bytes));
                    for (i, &b) in bytes.iter().enumerate() {
                        if b < 0x0E {
                            assert_ne!(marks & (0x80 << (8 * i)), 0, "{bytes:?}");
                        }
                    }
                    if marks != 0 {
                        let lowest = (marks.trailing_zeros() / 8) as usize;
                        assert!(bytes[lowest] < 0x0E, "{bytes:?}");
                        assert!(bytes[..lowest].iter().all(|&b| b >= 0x0E));
                    } else {
                        assert!(bytes.iter().all(|&b| b >= 0x0E));
                    }
                }
            }
        }
    }

    /// The search finds what a plain search finds, for every length and
    /// position around the word and `memchr2` boundaries, next to other
    /// control bytes.
    #[test]
    fn agrees_with_a_plain_search() {
        for len in (0..=SHORT + 9).chain([200, 300]) {
            for at in 0..=len {
                for end in [b'\n', b'\r'] {
                    for other in [None, Some(b'\t'), Some(0x0C), Some(0)] {
                        let mut text = std::vec![b'x'; len];
                        if let (Some(other), Some(slot)) = (other, at.checked_sub(3)) {
                            text[slot] = other;
                        }
                        if let Some(slot) = text.get_mut(at) {
                            *slot = end;
                        }
                        if let Some(slot) = text.get_mut(at + 2) {
                            *slot = b'\n';
                        }
                        let plain = text.iter().position(|&b| b == b'\n' || b == b'\r');
                        assert_eq!(find(&text), plain, "{text:?}");
                    }
                }
            }
        }
    }
}
