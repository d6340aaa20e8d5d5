//! A naive event-stream decoder written straight from the WHATWG HTML text
//! ("9.2.5 Parsing an event stream", "9.2.6 Interpreting an event stream"),
//! sharing no code with `sse_proto::Decoder`. It works on a whole input,
//! allocates freely and has no limits: it is a test oracle, not a decoder.

use crate::vectors::Out;

/// Decodes a complete stream as the spec describes; returns the frames and
/// the last event ID string at the end.
pub fn decode(input: &[u8]) -> (Vec<Out>, String) {
    // "streams must be decoded using the UTF-8 decode algorithm", which
    // replaces invalid sequences with U+FFFD and strips one leading BOM.
    let decoded = String::from_utf8_lossy(input);
    let text = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);

    // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE
    // FEED (CRLF) character pair, a single U+000A LINE FEED (LF) character, or
    // a single U+000D CARRIAGE RETURN (CR) character." A last line without a
    // line end never completes.
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\n' => lines.push(std::mem::take(&mut line)),
            c => line.push(c),
        }
    }

    let mut out = Vec::new();
    let mut data = String::new();
    let mut event_type = String::new();
    let mut last_event_id_buffer = String::new();
    let mut last_event_id = String::new();
    for line in lines {
        if line.is_empty() {
            // "If the line is empty (a blank line): Dispatch the event."
            last_event_id = last_event_id_buffer.clone();
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            let kind = if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type.clone()
            };
            out.push(Out::event(&kind, &data, &last_event_id_buffer));
            data.clear();
            event_type.clear();
        } else if let Some(comment) = line.strip_prefix(':') {
            // "If the line starts with a U+003A COLON character (:): Ignore
            // the line." Reported here, one leading space removed, as the
            // decoder reports comments.
            out.push(Out::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).into(),
            ));
        } else {
            // "If the line contains a U+003A COLON character: collect the
            // characters before the first colon as the field name, after it
            // as the value; if the value starts with a U+0020 SPACE, remove
            // it. Otherwise the whole line is the field name and the value is
            // the empty string."
            let (name, value) = match line.find(':') {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
                }
                None => (line.as_str(), ""),
            };
            match name {
                "event" => event_type = value.to_string(),
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                // "If the field value does not contain U+0000 NULL, then set
                // the last event ID buffer to the field value."
                "id" if !value.contains('\0') => last_event_id_buffer = value.to_string(),
                // "If the field value consists of only ASCII digits, then
                // interpret it as an integer in base ten" (browsers ignore an
                // empty value).
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    let ms = value.bytes().fold(0u64, |ms, b| {
                        ms.saturating_mul(10).saturating_add(u64::from(b - b'0'))
                    });
                    out.push(Out::Retry(ms));
                }
                _ => {}
            }
        }
    }
    (out, last_event_id)
}
