//! [`Text`]: the bytes of a field value, read as UTF-8 the way browsers read it.

use core::fmt::{self, Write as _};
use core::str::{Utf8Chunks, Utf8Error};

/// The value of a field as it travels in an event stream.
///
/// The spec says an event stream is UTF-8, and a browser decodes it with
/// replacement: every invalid sequence becomes U+FFFD. `Text` keeps the bytes
/// exactly as they arrived and offers both readings without allocating:
///
/// - [`to_str`](Self::to_str) borrows the text when it is valid UTF-8 (the
///   usual case);
/// - [`Display`](fmt::Display) writes what a browser would show, with U+FFFD
///   for invalid sequences, and [`chunks`](Self::chunks) yields the same
///   reading piece by piece;
/// - [`as_bytes`](Self::as_bytes) gives the raw bytes.
///
/// ```
/// use sse_proto::Text;
///
/// let text = Text::from_bytes(b"caf\xC3\xA9 \xFF!");
/// assert!(text.to_str().is_err());
/// assert_eq!(format!("{text}"), "café \u{FFFD}!");
/// assert_eq!(text.as_bytes(), b"caf\xC3\xA9 \xFF!");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// Text from a string.
    pub const fn new(text: &'a str) -> Self {
        Self(text.as_bytes())
    }

    /// Text from raw bytes, which need not be valid UTF-8.
    pub const fn from_bytes(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The length in bytes.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text as a string slice, if it is valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, Utf8Error> {
        core::str::from_utf8(self.0)
    }

    /// The text in valid pieces and invalid byte runs. Each non-empty invalid
    /// run stands for one U+FFFD in the browser's reading.
    pub fn chunks(&self) -> Utf8Chunks<'a> {
        self.0.utf8_chunks()
    }

    /// The browser's reading, borrowed when the text is valid UTF-8.
    #[cfg(feature = "alloc")]
    pub fn to_string_lossy(&self) -> alloc::borrow::Cow<'a, str> {
        alloc::string::String::from_utf8_lossy(self.0)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Self::new(text)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Display for Text<'_> {
    /// Writes the text as a browser decodes it: U+FFFD for each invalid
    /// sequence. Padding and alignment apply when the text is valid UTF-8.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Ok(text) = self.to_str() {
            return f.pad(text);
        }
        for chunk in self.chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Text<'_> {
    /// Like a string's `Debug`, with invalid bytes shown as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for chunk in self.chunks() {
            for c in chunk.valid().chars() {
                if c == '\'' {
                    f.write_char(c)?;
                } else {
                    write!(f, "{}", c.escape_debug())?;
                }
            }
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02X}")?;
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Text;
    use std::format;

    #[test]
    fn display_replaces_each_maximal_invalid_subpart_once() {
        // E2 82 is a truncated three-byte sequence: one U+FFFD, as in browsers.
        let text = Text::from_bytes(b"a\xE2\x82b\xFF\xFEc");
        assert_eq!(format!("{text}"), "a\u{FFFD}b\u{FFFD}\u{FFFD}c");
    }

    #[test]
    fn debug_escapes_invalid_bytes() {
        let text = Text::from_bytes(b"a\"\n\xFF'");
        assert_eq!(format!("{text:?}"), r#""a\"\n\xFF'""#);
    }

    #[test]
    fn display_pads_valid_text() {
        assert_eq!(format!("[{:>4}]", Text::new("ab")), "[  ab]");
    }
}
