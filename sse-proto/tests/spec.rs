//! One named test per rule of the WHATWG HTML "server-sent events" parsing
//! and dispatch algorithm, the spec's own examples, and the web-platform-tests
//! `eventsource/format-*` vectors. Every vector is fed whole, split in two at
//! every point and one byte at a time, and checked against the oracle too.

use sse_proto::{Decoder, EventId, Frame};
use sse_testkit::vectors::{Out, check, decode_chunks, decoder, feed, roomy};

/// `name: input => [expected frames];` becomes a test that runs `check`.
macro_rules! vectors {
    ($($(#[$meta:meta])* $name:ident: $input:expr => [$($out:expr),* $(,)?];)*) => {
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                check($input, &[$($out),*]);
            }
        )*
    };
}

fn ev(event_type: &str, data: &str, id: &str) -> Out {
    Out::event(event_type, data, id)
}

fn data(data: &str) -> Out {
    Out::data(data)
}

vectors! {
    // The byte order mark.
    bom_is_stripped_at_the_start: b"\xEF\xBB\xBFdata: a\n\n" => [data("a")];
    /// The second BOM is part of the first field name, so that line is an
    /// unknown field (web-platform-tests format-bom-2).
    bom_is_stripped_only_once: b"\xEF\xBB\xBF\xEF\xBB\xBFdata: 1\n\ndata: 2\n\n" => [data("2")];
    /// A BOM anywhere but the start of the stream is data.
    later_bom_is_data: b"data: \xEF\xBB\xBFx\n\n\xEF\xBB\xBFdata: y\n\n" => [data("\u{FEFF}x")];
    /// A prefix of a BOM that turns out not to be one begins a field name.
    partial_bom_is_a_field_name: b"\xEF\xBBdata: a\n\ndata: b\n\n" => [data("b")];
    partial_bom_line_without_colon: b"\xEF\n\ndata: b\n\n" => [data("b")];

    // Line ends.
    lines_end_with_lf: b"data: a\ndata: b\n\n" => [data("a\nb")];
    lines_end_with_crlf: b"data: a\r\ndata: b\r\n\r\n" => [data("a\nb")];
    lines_end_with_lone_cr: b"data: a\rdata: b\r\r" => [data("a\nb")];
    mixed_line_ends: b"data: a\r\ndata: b\rdata: c\n\r\n" => [data("a\nb\nc")];
    /// CR then LF is one line end, never a blank line in between.
    crlf_is_one_line_end: b"data: a\r\n\r\ndata: b\r\n\r\n" => [data("a"), data("b")];
    /// LF then CR is two line ends: the second one is a blank line.
    lf_cr_is_two_line_ends: b"data: a\n\rdata: b\n\n" => [data("a"), data("b")];
    cr_cr_lf_is_a_blank_line: b"data: a\r\r\n" => [data("a")];

    // Comments.
    comment_lines_are_reported: b": keep-alive\n:\n:no space\n:  two\n\n" => [
        Out::comment("keep-alive"), Out::comment(""), Out::comment("no space"), Out::comment(" two"),
    ];
    comment_inside_an_event_does_not_end_it: b"data: a\n: ping\ndata: b\n\n" => [
        Out::comment("ping"), data("a\nb"),
    ];

    // Field names and values.
    one_leading_space_is_stripped: b"data: a\n\n" => [data("a")];
    no_leading_space_is_fine: b"data:a\n\n" => [data("a")];
    only_one_leading_space_is_stripped: b"data:  a\n\n" => [data(" a")];
    tab_is_not_stripped: b"data:\ta\n\n" => [data("\ta")];
    trailing_space_is_kept: b"data: a \n\n" => [data("a ")];
    value_keeps_later_colons: b"data: a: b\n\n" => [data("a: b")];
    line_without_colon_is_a_name_with_empty_value: b"data\n\n" => [data("")];
    field_names_are_case_sensitive: b"Data: no\nDATA: no\ndata: yes\n\n" => [data("yes")];
    unknown_fields_are_ignored: b"foo: bar\ndata: a\nfoo\nretry-after: 5\ndatas: x\n\n" => [data("a")];
    name_with_trailing_space_is_unknown: b"data : a\ndata: b\n\n" => [data("b")];

    // data
    data_lines_are_joined_with_lf: b"data: a\ndata: b\ndata: c\n\n" => [data("a\nb\nc")];
    empty_data_lines_count: b"data\ndata\n\n" => [data("\n")];
    only_one_trailing_lf_is_removed: b"data: a\ndata:\n\n" => [data("a\n")];

    // event
    event_sets_the_type: b"event: add\ndata: 1\n\n" => [ev("add", "1", "")];
    type_defaults_to_message: b"data: 1\n\n" => [ev("message", "1", "")];
    empty_event_type_is_message: b"event:\ndata: 1\n\n" => [ev("message", "1", "")];
    last_event_line_wins: b"event: a\nevent: b\ndata: 1\n\n" => [ev("b", "1", "")];
    type_does_not_carry_over: b"event: a\ndata: 1\n\ndata: 2\n\n" => [ev("a", "1", ""), data("2")];
    type_of_an_empty_event_is_forgotten: b"event: a\n\ndata: 2\n\n" => [data("2")];

    // id
    id_sets_the_last_event_id: b"id: 7\ndata: a\n\n" => [ev("message", "a", "7")];
    id_persists_across_events: b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n" => [
        ev("message", "a", "1"), ev("message", "b", "1"), ev("message", "c", "2"),
    ];
    id_with_nul_is_ignored: b"id: 1\n\nid: 2\x003\ndata: a\n\n" => [ev("message", "a", "1")];
    empty_id_resets: b"id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n" => [
        ev("message", "a", "1"), data("b"), data("c"),
    ];
    id_applies_to_its_own_event_whatever_the_order: b"data: a\nid: 9\n\n" => [ev("message", "a", "9")];

    // retry
    retry_sets_the_reconnection_time: b"retry: 3000\n" => [Out::Retry(3000)];
    retry_with_leading_zeros: b"retry:03000\n" => [Out::Retry(3000)];
    retry_with_non_digits_is_ignored: b"retry: 30s\nretry: -1\nretry: 1.5\nretry:  30\nretry: 3 \n" => [];
    empty_retry_is_ignored: b"retry\nretry:\nretry: \n" => [];
    retry_saturates: b"retry: 99999999999999999999999999\n" => [Out::Retry(u64::MAX)];
    standalone_retry_block_takes_effect: b"retry: 1500\n\ndata: a\n\n" => [Out::Retry(1500), data("a")];
    retry_in_an_event_is_reported_before_it: b"data: a\nretry: 10\n\n" => [Out::Retry(10), data("a")];
    retry_in_an_unfinished_event_still_applies: b"data: a\nretry: 10\n" => [Out::Retry(10)];

    // Dispatch.
    blank_line_without_data_dispatches_nothing: b"\n\n\r\n\r" => [];
    id_only_block_updates_the_last_event_id: b"id: 5\n\ndata: a\n\n" => [ev("message", "a", "5")];
    unfinished_event_is_discarded: b"data: a\n\ndata: b\n" => [data("a")];
    unfinished_line_is_discarded: b"data: a\n\ndata: b" => [data("a")];
    unfinished_id_is_not_the_last_event_id: b"id: 1\ndata: a\n\nid: 2\n" => [ev("message", "a", "1")];
    /// A trailing CR ends the blank line; nothing more is needed to dispatch.
    trailing_cr_dispatches: b"data: x\r\r" => [data("x")];

    // UTF-8.
    utf8_text_is_kept: "data: caf\u{E9} \u{1F600}\n\n".as_bytes() => [data("caf\u{E9} \u{1F600}")];
    nul_in_data_is_kept: b"data: a\x00b\n\n" => [data("a\0b")];

    // The examples in the spec.
    spec_example_stock: b"data: YHOO\ndata: +2\ndata: 10\n\n" => [data("YHOO\n+2\n10")];
    spec_example_ids: b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n" => [
        Out::comment("test stream"), ev("message", "first event", "1"), data("second event"), data(" third event"),
    ];
    spec_example_empty_data: b"data\n\ndata\ndata\n\ndata:" => [data(""), data("\n")];
    spec_example_space: b"data:test\n\ndata: test\n\n" => [data("test"), data("test")];
    spec_example_types: b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n" => [
        ev("add", "73857293", ""), ev("remove", "2153", ""), ev("add", "113411", ""),
    ];
    spec_example_messages: b"data: This is the first message.\n\ndata: This is the second message, it\ndata: has two lines.\n\ndata: This is the third message.\n\n" => [
        data("This is the first message."), data("This is the second message, it\nhas two lines."), data("This is the third message."),
    ];

    // web-platform-tests, eventsource/format-*.
    wpt_format_bom: b"\xEF\xBB\xBFdata:1\n\n\xEF\xBB\xBFdata:2\n\ndata:3\n\n" => [data("1"), data("3")];
    wpt_format_comments: b"data:1\n\n:\n:line2\ndata:2\n\n:\n:line4\n:line5\ndata:3\n\n" => [
        data("1"), Out::comment(""), Out::comment("line2"), data("2"), Out::comment(""),
        Out::comment("line4"), Out::comment("line5"), data("3"),
    ];
    wpt_format_data_before_final_empty_line: b"retry:1000\ndata:test1\n\nid:test\ndata:test2" => [Out::Retry(1000), data("test1")];
    wpt_format_field_data: b"data:\n\ndata\ndata\n\ndata:test\n\n" => [data(""), data("\n"), data("test")];
    wpt_format_field_event: b"event:test\ndata:x\n\ndata:x\n\n" => [ev("test", "x", ""), data("x")];
    wpt_format_field_event_empty: b"event: \ndata:data\n\n" => [data("data")];
    wpt_format_field_id: b"id: 1\ndata: 1\n\ndata: 2\n\nid: 2\ndata:3\n\ndata:4\n\n" => [
        ev("message", "1", "1"), ev("message", "2", "1"), ev("message", "3", "2"), ev("message", "4", "2"),
    ];
    wpt_format_field_id_null: b"id:\x00\ndata:x\n\n" => [data("x")];
    wpt_format_field_parsing: b"data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n" => [
        data("\0\n 2\n1\n3\n\n4"),
    ];
    wpt_format_field_retry_bogus: b"retry:3000\nretry:1000x\ndata:x\n\n" => [Out::Retry(3000), data("x")];
    wpt_format_field_retry_empty: b"retry\ndata:test\n\n" => [data("test")];
    wpt_format_field_unknown: b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n" => [
        Out::comment("thisisacommentyay"), data("test\n\ntest"),
    ];
    wpt_format_leading_space: b"data:\ttest\rdata: \ndata:test\n\n" => [data("\ttest\n\ntest")];
    wpt_format_newlines: b"data:test\r\ndata\ndata:test\r\n\r" => [data("test\n\ntest")];
    wpt_format_null_character: b"data:\0\n\n\n\n" => [data("\0")];
    wpt_format_utf_8: "data:ok\u{2026}\n\n".as_bytes() => [data("ok\u{2026}")];
}

/// Invalid UTF-8 reads as U+FFFD, as in browsers, and the raw bytes stay
/// available to callers who want them.
#[test]
fn invalid_utf8_reads_as_replacement_characters() {
    let input = b"data: a\xFFb\xE2\x82\n\n";
    let (frames, _) = decode_chunks(&[input]);
    assert_eq!(
        frames,
        [Out::Event {
            event_type: b"message".to_vec(),
            data: b"a\xFFb\xE2\x82".to_vec(),
            id: Vec::new(),
        }]
    );
    let lossy: Vec<Out> = frames.into_iter().map(Out::lossy).collect();
    assert_eq!(lossy, [data("a\u{FFFD}b\u{FFFD}")]);

    let mut decoder = Decoder::new([0u8; 256]);
    let mut rest = &input[..];
    let Some(Ok(Frame::Event(event))) = decoder.decode(&mut rest) else {
        panic!("expected an event");
    };
    assert!(event.data().to_str().is_err());
    assert_eq!(event.data().to_string(), "a\u{FFFD}b\u{FFFD}");
}

/// Invalid UTF-8 never stalls the decoder: what follows it is decoded.
#[test]
fn invalid_utf8_does_not_stall() {
    check(
        b"data: \xC3\n\ndata: \xF0\x9F\n\ndata: ok\n\n",
        &[
            Out::Event {
                event_type: b"message".to_vec(),
                data: b"\xC3".to_vec(),
                id: Vec::new(),
            },
            Out::Event {
                event_type: b"message".to_vec(),
                data: b"\xF0\x9F".to_vec(),
                id: Vec::new(),
            },
            data("ok"),
        ],
    );
}

/// The event is ready as soon as the blank line ends, even when that line
/// ends with a lone CR: the decoder does not wait for a possible LF.
#[test]
fn lone_cr_dispatches_without_waiting_for_the_next_byte() {
    let mut decoder = decoder(roomy(), 64);
    assert_eq!(feed(&mut decoder, &[b"data: x\r", b"\r"]), [data("x")]);
    // The LF that may follow belongs to the blank line, not a new one.
    assert_eq!(
        feed(&mut decoder, &[b"\n", b"data: y\r\n\r\n"]),
        [data("y")]
    );
}

/// A CR at the end of one chunk and an LF at the start of the next are one
/// line end, not a line end followed by a blank line.
#[test]
fn crlf_split_across_chunks_is_one_line_end() {
    let mut decoder = decoder(roomy(), 64);
    assert_eq!(
        feed(
            &mut decoder,
            &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]
        ),
        [data("a\nb")]
    );
}

#[test]
fn bom_split_across_chunks_is_stripped() {
    let mut decoder = decoder(roomy(), 64);
    assert_eq!(
        feed(&mut decoder, &[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]),
        [data("a")]
    );
}

/// Comments are skipped without being stored unless the caller asks for them.
#[test]
fn comments_are_skipped_unless_asked_for() {
    let mut decoder = Decoder::new([0u8; 512]);
    assert_eq!(
        feed(&mut decoder, &[b": ping\ndata: a\n: pong\n\n"]),
        [data("a")]
    );
}

#[test]
fn last_event_id_can_be_seeded_to_resume() {
    let mut decoder = decoder(roomy(), 64);
    decoder
        .set_last_event_id(Some(EventId::new("41").unwrap()))
        .unwrap();
    assert_eq!(decoder.last_event_id().unwrap().as_text(), "41");
    assert_eq!(
        feed(&mut decoder, &[b"data: a\n\nid: 42\ndata: b\n\n"]),
        [ev("message", "a", "41"), ev("message", "b", "42")]
    );
    decoder.set_last_event_id(None).unwrap();
    assert_eq!(decoder.last_event_id(), None);
}

/// The last event id is the one of the last dispatched event: an id line in
/// an event that never completes does not count.
#[test]
fn last_event_id_follows_dispatch() {
    let mut decoder = decoder(roomy(), 64);
    feed(&mut decoder, &[b"id: 1\ndata: a\n\nid: 2\ndata: b\n"]);
    assert_eq!(decoder.last_event_id().unwrap().as_text(), "1");
    assert!(decoder.finish(), "an unfinished event was discarded");
    assert_eq!(decoder.last_event_id().unwrap().as_text(), "1");
}

/// `finish` says whether an unfinished event was discarded, and readies the
/// decoder for a new stream, which may start with a BOM again.
#[test]
fn finish_discards_and_starts_a_new_stream() {
    let mut decoder = decoder(roomy(), 64);
    feed(&mut decoder, &[b"data: a\n\n"]);
    assert!(!decoder.finish());
    feed(&mut decoder, &[b"data: half"]);
    assert!(decoder.finish());
    assert_eq!(
        feed(&mut decoder, &[b"\xEF\xBB\xBFdata: b\n\n"]),
        [data("b")]
    );
    assert!(!decoder.finish());
}

/// What `decode` yields borrows the decoder; a second call reuses the buffer
/// and the next event starts empty.
#[test]
fn each_event_starts_empty() {
    let mut decoder = decoder(roomy(), 64);
    assert_eq!(
        feed(
            &mut decoder,
            &[b"event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n"]
        ),
        [ev("a", "1\n2", ""), data("3")]
    );
}
