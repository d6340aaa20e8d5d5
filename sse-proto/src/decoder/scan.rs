//! Matching field names a word at a time and copying short values as
//! fixed-size blocks: the decoder's hot loops, apart from the state machine
//! that uses them (the search for line ends is `crate::line_end`, shared
//! with the encoder).

use memchr::memchr;

use super::Field;

/// A field name and its colon as the low bytes of a little-endian word, and
/// the mask that keeps those bytes.
const fn name_pattern(name: &[u8]) -> (u64, u64) {
    let mut word = 0u64;
    let mut i = 0;
    while i < name.len() {
        word |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    (word, u64::MAX >> (64 - 8 * name.len()))
}

/// The known fields, each with its name and colon as a pattern.
const KNOWN_FIELDS: [(Field, usize, (u64, u64)); 4] = [
    (Field::Data, 5, name_pattern(b"data:")),
    (Field::Id, 3, name_pattern(b"id:")),
    (Field::Event, 6, name_pattern(b"event:")),
    (Field::Retry, 6, name_pattern(b"retry:")),
];

/// When `window` starts with `data:`, `id:`, `event:` or `retry:`, that
/// field and the length of its name and colon: a few word compares instead
/// of a search for the colon.
#[inline]
pub(super) fn known_field(window: &[u8]) -> Option<(Field, usize)> {
    let mut bytes = [0u8; 8];
    match window.get(..8) {
        Some(head) => bytes.copy_from_slice(head),
        None => {
            let head = bytes.get_mut(..window.len())?;
            head.copy_from_slice(window);
        }
    }
    let word = u64::from_le_bytes(bytes);
    KNOWN_FIELDS
        .iter()
        .find(|(_, _, (pattern, mask))| word & mask == *pattern)
        .map(|&(field, len, _)| (field, len))
}

/// Bytes with the high bit of each byte set, and with the low bit set.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const LOW_BITS: u64 = 0x0101_0101_0101_0101;

/// How many bytes [`push`] copies as one fixed-size block: a short value
/// in one block of 32, a value of up to 64 (a line of JSON) in one of 64.
const BLOCK: usize = 32;

/// Appends `bytes` to the region at `off` of capacity `cap` holding `len`
/// bytes; false if they do not fit.
///
/// `window` starts with `bytes`. A short value with a full block of input
/// behind it and a block of room in the region is copied as a whole block,
/// which the compiler turns into two vector moves instead of a call to
/// `memcpy`; the bytes past the value are scratch, never read.
#[inline]
pub(super) fn push(
    buf: &mut [u8],
    off: usize,
    cap: usize,
    len: &mut usize,
    bytes: &[u8],
    window: &[u8],
) -> bool {
    let new_len = *len + bytes.len();
    if new_len > cap {
        return false;
    }
    let at = off + *len;
    if bytes.len() <= 2 * BLOCK {
        if bytes.len() <= BLOCK && *len + BLOCK <= cap {
            if let (Some(src), Some(dst)) = (
                window.first_chunk::<BLOCK>(),
                buf.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<BLOCK>),
            ) {
                *dst = *src;
                *len = new_len;
                return true;
            }
        }
        if *len + 2 * BLOCK <= cap {
            if let (Some(src), Some(dst)) = (
                window.first_chunk::<{ 2 * BLOCK }>(),
                buf.get_mut(at..)
                    .and_then(<[u8]>::first_chunk_mut::<{ 2 * BLOCK }>),
            ) {
                *dst = *src;
                *len = new_len;
                return true;
            }
        }
    }
    match buf.get_mut(at..off + new_len) {
        Some(dst) => {
            copy(dst, bytes);
            *len = new_len;
            true
        }
        None => false,
    }
}

/// Copies `src` into `dst`, of the same length. Up to 64 bytes as two
/// fixed-size copies that may overlap (moves, not a call to `memcpy`): the
/// end of a chunk leaves short pieces with nothing to read past them.
#[inline]
fn copy(dst: &mut [u8], src: &[u8]) {
    /// The first and the last `N` bytes, which cover `src` when it holds
    /// `N` to `2 * N` of them.
    #[inline(always)]
    fn ends<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    if dst.len() != src.len() {
        return;
    }
    match src.len() {
        0 => {}
        1 => dst.copy_from_slice(src),
        2..=3 => ends::<2>(dst, src),
        4..=7 => ends::<4>(dst, src),
        8..=15 => ends::<8>(dst, src),
        16..=31 => ends::<16>(dst, src),
        32..=64 => ends::<32>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Whether `value` holds a NUL byte. Ids are short: up to 16 bytes are
/// tested as two words in registers, no call.
#[inline]
pub(super) fn has_nul(value: &[u8]) -> bool {
    const fn has_zero(word: u64) -> bool {
        word.wrapping_sub(LOW_BITS) & !word & HIGH_BITS != 0
    }
    match (value.first_chunk::<8>(), value.last_chunk::<8>()) {
        (Some(first), Some(last)) if value.len() <= 16 => {
            has_zero(u64::from_le_bytes(*first)) | has_zero(u64::from_le_bytes(*last))
        }
        (None, _) => value.iter().fold(false, |nul, &b| nul | (b == 0)),
        _ => memchr(0, value).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::{BLOCK, Field, has_nul, known_field, push};

    /// Short copies by their two ends cover every byte, for every length.
    #[test]
    fn copies_of_every_short_length_are_exact() {
        let src: [u8; 200] = core::array::from_fn(|i| i as u8 ^ 0x5A);
        for len in 0..200 {
            let mut dst = [0u8; 200];
            super::copy(&mut dst[..len], &src[..len]);
            assert_eq!(dst[..len], src[..len], "{len}");
            assert!(dst[len..].iter().all(|&b| b == 0), "{len}");
        }
    }

    #[test]
    fn has_nul_finds_nul_anywhere() {
        for len in 0..40 {
            let clean = [0x80u8; 40];
            assert!(!has_nul(&clean[..len]));
            for at in 0..len {
                let mut value = clean;
                value[at] = 0;
                assert!(has_nul(&value[..len]), "{len} {at}");
            }
        }
    }

    #[test]
    fn known_fields_need_their_colon() {
        assert_eq!(known_field(b"data: x"), Some((Field::Data, 5)));
        assert_eq!(known_field(b"data:"), Some((Field::Data, 5)));
        assert_eq!(known_field(b"id:7\n"), Some((Field::Id, 3)));
        assert_eq!(known_field(b"event:add"), Some((Field::Event, 6)));
        assert_eq!(known_field(b"retry:10"), Some((Field::Retry, 6)));
        for other in [
            &b"data"[..],
            b"dat:",
            b"Data: x",
            b"datas: x",
            b"id",
            b"ids:",
            b"event\n:",
            b"retry",
            b": comment",
            b"",
        ] {
            assert_eq!(known_field(other), None, "{other:?}");
        }
    }

    /// A short value is copied as a whole block only with a block of input
    /// behind it and a block of room, and never past its region.
    #[test]
    fn push_copies_blocks_only_inside_the_region() {
        for cap in [
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            2 * BLOCK - 1,
            2 * BLOCK,
            2 * BLOCK + 1,
        ] {
            for value_len in 0..=2 * BLOCK + 1 {
                for extra in [0, BLOCK, 2 * BLOCK] {
                    let window: [u8; 5 * BLOCK] = core::array::from_fn(|i| i as u8 + 1);
                    let window = &window[..value_len + extra];
                    let value = &window[..value_len];
                    // Region at 4..4 + cap, guarded on both sides.
                    let mut buf = [0xEEu8; 4 + 3 * BLOCK + 4];
                    let mut len = 0;
                    let fits = push(&mut buf, 4, cap, &mut len, value, window);
                    assert_eq!(fits, value_len <= cap);
                    if fits {
                        assert_eq!(len, value_len);
                        assert_eq!(&buf[4..4 + len], value);
                    }
                    assert!(buf[..4].iter().all(|&b| b == 0xEE));
                    assert!(
                        buf[4 + cap..].iter().all(|&b| b == 0xEE),
                        "wrote past the region"
                    );
                }
            }
        }
    }
}
