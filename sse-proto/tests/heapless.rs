//! The fixed-capacity owned types (feature `heapless`): what a program
//! without a heap keeps across `decode` calls and encodes from. Named
//! behaviour tests, then properties. Runs without `alloc` in the library:
//! `cargo test -p sse-proto --no-default-features --features heapless`.
#![cfg(feature = "heapless")]

use proptest::prelude::*;
use sse_proto::{
    CapacityError, Decoder, EncodeError, Event, EventId, EventType, Frame, HeaplessEvent,
    HeaplessFrame, Text,
};

/// Room for a type and an id of 8 bytes and data of 32.
type Kept = HeaplessEvent<8, 8, 32>;

fn event<'a>(data: &'a str, event_type: &'a str, id: Option<&'a str>) -> Event<'a> {
    Event::new(data)
        .with_type(EventType::new(event_type).unwrap())
        .with_id_opt(id.map(|id| EventId::new(id).unwrap()))
}

#[test]
fn keeps_a_decoded_event_across_decode_calls() {
    let mut decoder = Decoder::new([0u8; 128]);
    let mut input: &[u8] = b"event: add\nid: 1\ndata: first\n\nid: 2\ndata: second\n\n";
    let mut kept: Vec<Kept> = Vec::new();
    while let Some(frame) = decoder.decode(&mut input) {
        if let Frame::Event(event) = frame.unwrap() {
            kept.push(event.try_into().unwrap());
        }
    }
    // The decoder's buffer now holds the second event; the first is intact.
    assert_eq!(kept[0].as_event(), event("first", "add", Some("1")));
    assert_eq!(kept[1].as_event(), event("second", "", Some("2")));
    assert_eq!(kept[0].data(), "first");
    assert_eq!(kept[0].event_type().as_text(), "add");
    assert_eq!(kept[1].id().map(|id| id.as_text()), Some(Text::new("2")));
}

#[test]
fn each_field_over_its_capacity_is_refused_whole() {
    let (data, event_type, id) = ("d".repeat(32), "t".repeat(8), "i".repeat(8));
    let fits = event(&data, &event_type, Some(&id));
    assert_eq!(Kept::try_from(fits).unwrap().as_event(), fits);
    let long_type = "t".repeat(9);
    assert_eq!(
        Kept::try_from(event("x", &long_type, None)),
        Err(CapacityError::EventTypeTooLong { len: 9 })
    );
    let long_id = "i".repeat(9);
    assert_eq!(
        Kept::try_from(event("x", "t", Some(&long_id))),
        Err(CapacityError::IdTooLong { len: 9 })
    );
    let long_data = "d".repeat(33);
    assert_eq!(
        Kept::try_from(event(&long_data, "t", None)),
        Err(CapacityError::DataTooLong { len: 33 })
    );
}

#[test]
fn setters_change_nothing_when_they_refuse() {
    let mut kept = Kept::try_from(event("data", "type", Some("id"))).unwrap();
    let before = kept.clone();
    let long = "x".repeat(33);
    assert!(kept.set_data(Text::new(&long)).is_err());
    assert!(
        kept.set_event_type(EventType::new(&long[..9]).unwrap())
            .is_err()
    );
    assert!(
        kept.set_id(Some(EventId::new(&long[..9]).unwrap()))
            .is_err()
    );
    assert_eq!(kept, before);
    kept.set_id(None).unwrap();
    kept.set_data(Text::from_bytes(b"\xFF")).unwrap();
    assert_eq!(kept.id(), None);
    assert_eq!(kept.data().as_bytes(), b"\xFF");
}

#[test]
fn the_message_type_takes_no_room() {
    type NoType = HeaplessEvent<0, 0, 4>;
    let kept = NoType::try_from(Event::new("abcd")).unwrap();
    assert!(kept.event_type().is_message());
    assert_eq!(
        NoType::try_from(event("abcd", "message", None))
            .unwrap()
            .as_event(),
        Event::new("abcd")
    );
    assert_eq!(
        NoType::try_from(event("abcd", "a", None)),
        Err(CapacityError::EventTypeTooLong { len: 1 })
    );
    assert_eq!(NoType::new().as_event(), Event::new(""));
}

#[test]
fn an_empty_id_is_not_no_id() {
    let reset = Kept::try_from(event("x", "", Some(""))).unwrap();
    assert_eq!(reset.id(), Some(EventId::new("").unwrap()));
    let none = Kept::try_from(event("x", "", None)).unwrap();
    assert_eq!(none.id(), None);
    assert_ne!(reset, none);
}

#[test]
fn frames_convert_both_ways() {
    type Kept = HeaplessFrame<8, 8, 16>;
    for frame in [
        Frame::Event(event("data", "t", Some("1"))),
        Frame::comment("keep-alive"),
        Frame::Retry(3000),
    ] {
        let kept = Kept::try_from(frame).unwrap();
        assert_eq!(kept.as_frame(), frame);
        assert_eq!(Frame::from(&kept), frame);
    }
    assert_eq!(
        Kept::try_from(Frame::comment("a comment longer than 16")),
        Err(CapacityError::DataTooLong { len: 24 })
    );
    let event = HeaplessEvent::try_from(event("x", "", None)).unwrap();
    assert_eq!(Kept::from(event.clone()), Kept::Event(event));
    assert_eq!(
        format!("{:?}", Kept::try_from(Frame::comment("hi")).unwrap()),
        "Comment(\"hi\")"
    );
}

#[test]
fn encodes_into_a_heapless_vec_or_leaves_it_alone() {
    let kept = Kept::try_from(event("a\nb", "t", Some("7"))).unwrap();
    let wire = b"event: t\nid: 7\ndata: a\ndata: b\n\n";
    let mut buf: heapless::Vec<u8, 64> = heapless::Vec::from_slice(b": x\n").unwrap();
    assert_eq!(kept.as_event().encode_into(&mut buf), Ok(wire.len()));
    assert_eq!(&buf[4..], wire);

    let mut small: heapless::Vec<u8, 32> = heapless::Vec::from_slice(b": x\n").unwrap();
    assert_eq!(
        kept.as_event().encode_into(&mut small),
        Err(EncodeError::BufferTooSmall {
            required: wire.len()
        })
    );
    assert_eq!(small, b": x\n");
}

#[test]
fn errors_explain_themselves() {
    let message = CapacityError::IdTooLong { len: 300 }.to_string();
    assert!(
        message.contains("id") && message.contains("300"),
        "{message}"
    );
    let message = CapacityError::EventTypeTooLong { len: 9 }.to_string();
    assert!(message.contains("type"), "{message}");
}

/// The event type that an event built from `event_type` carries.
fn stored_type_len(event_type: &str) -> usize {
    if event_type == "message" {
        0
    } else {
        event_type.len()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// An event that fits is kept exactly; one that does not is refused
    /// with the first field (type, id, data) that is over, never cut.
    #[test]
    fn events_are_kept_exactly_or_refused(
        data in prop::collection::vec(any::<u8>(), 0..40),
        event_type in "[^\r\n]{0,10}",
        id in proptest::option::of("[^\r\n\0]{0,10}"),
    ) {
        let event = Event::from_text(Text::from_bytes(&data))
            .with_type(EventType::new(&event_type).unwrap())
            .with_id_opt(id.as_deref().map(|id| EventId::new(id).unwrap()));
        let expected = if stored_type_len(&event_type) > 8 {
            Err(CapacityError::EventTypeTooLong { len: event_type.len() })
        } else if id.as_ref().is_some_and(|id| id.len() > 8) {
            Err(CapacityError::IdTooLong { len: id.as_ref().map_or(0, String::len) })
        } else if data.len() > 32 {
            Err(CapacityError::DataTooLong { len: data.len() })
        } else {
            Ok(event)
        };
        let kept = Kept::try_from(event);
        prop_assert_eq!(kept.as_ref().map(HeaplessEvent::as_event).map_err(|e| *e), expected);
    }

    /// Encoding into a `heapless::Vec` writes what the slice encoder
    /// writes, or nothing when the frame does not fit.
    #[test]
    fn heapless_vec_encoding_agrees_with_the_slice_encoder(
        data in "(?s).{0,60}",
        prefix in prop::collection::vec(any::<u8>(), 0..16),
        retry in any::<u64>(),
    ) {
        for frame in [
            Frame::Event(event(&data, "t", Some("1"))),
            Frame::comment(&data),
            Frame::Retry(retry),
        ] {
            let mut expected = vec![0; frame.encoded_len()];
            frame.encode(&mut expected).unwrap();
            let mut buf: heapless::Vec<u8, 64> = heapless::Vec::from_slice(&prefix).unwrap();
            match frame.encode_into(&mut buf) {
                Ok(n) => {
                    prop_assert_eq!(n, expected.len());
                    prop_assert_eq!(&buf[..prefix.len()], &prefix[..]);
                    prop_assert_eq!(&buf[prefix.len()..], &expected[..]);
                }
                Err(error) => {
                    prop_assert!(prefix.len() + expected.len() > 64);
                    prop_assert_eq!(error, EncodeError::BufferTooSmall { required: expected.len() });
                    prop_assert_eq!(&buf[..], &prefix[..]);
                }
            }
        }
    }

    /// Decoded, kept, and encoded again: the same bytes on the wire.
    #[test]
    fn decoded_frames_kept_encode_to_the_same_bytes(
        data in "[a-z \n]{0,24}",
        event_type in "[a-z]{1,8}",
        id in proptest::option::of("[a-z0-9]{1,8}"),
    ) {
        let sent = Frame::Event(event(&data, &event_type, id.as_deref()));
        let mut wire = vec![0; sent.encoded_len()];
        sent.encode(&mut wire).unwrap();
        let mut decoder = Decoder::new([0u8; 256]);
        let mut input = &wire[..];
        let mut kept: Option<HeaplessFrame<8, 8, 32>> = None;
        while let Some(frame) = decoder.decode(&mut input) {
            kept = Some(frame.unwrap().try_into().unwrap());
        }
        let kept = kept.unwrap();
        let mut again = vec![0; kept.as_frame().encoded_len()];
        kept.as_frame().encode(&mut again).unwrap();
        prop_assert_eq!(again, wire);
    }
}
