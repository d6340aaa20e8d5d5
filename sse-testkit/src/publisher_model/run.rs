//! The property itself: the same operations on the `Publisher` and on the
//! model of the parent module, which this module sees whole, compared after
//! each; and the hand-built seeds.

use std::collections::VecDeque;

use sse_proto::publisher::{LagPolicy, Publisher, PublisherConfig, SubscribeError};
use sse_proto::{Event, EventBuf, EventId, EventType, Frame};

use super::{CHANNELS, Counters, ENTRY, Model, Published, RESET_LAGGED, Replay, Sub, channels};
use crate::fuzz_props::Input;

/// Operations per input, so that a roomy queue never fills.
const MAX_OPS: usize = 256;

/// An event as the publisher must encode it.
fn encoded(event_type: Option<&str>, id: Option<&str>, data: &str) -> Vec<u8> {
    let mut out = String::new();
    if let Some(event_type) = event_type {
        out += &format!("event: {event_type}\n");
    }
    if let Some(id) = id {
        out += &format!("id: {id}\n");
    }
    out += &format!("data: {data}\n\n");
    out.into_bytes()
}

/// A subscriber's `publish_with` event: `None` for some, as the salt says.
fn own_event(position: u64, subscriber: u32, salt: u8) -> Option<(String, Option<String>)> {
    if (subscriber + u32::from(salt)) % 3 == 0 {
        return None;
    }
    let data = format!("w{position}.{subscriber}");
    let id = (salt & 0x80 != 0).then(|| format!("y{subscriber}"));
    Some((data, id))
}

/// `publisher`: a model-based run of the fan-out `Publisher`. Every live
/// subscriber gets exactly what the model says, in order: its initial
/// events first; when resuming, exactly the events it missed on its
/// channels, or the `sse-reset` (`history`) event in place of those the
/// history no longer holds (an unknown id gets it first; a reset only when
/// something on its channels after its id is gone, never two in a row,
/// never a silent gap); then every event published to any of its channels
/// once, shared or its own (`publish_with`), with the lag policy applied
/// exactly when its queue is full; after a `disconnect`, `disconnect_all` or
/// `close` the farewell and the end of the stream. After `close`, publishing
/// and subscribing are refused (`Closed`). `publish` reports the right
/// position and counts, `subscribers` lists exactly the model's live
/// subscribers, and every counter of `stats` and of each subscription's
/// `stats` matches the model.
///
/// Input layout: a configuration byte (bits 0-3: history of 0 to 15 events;
/// bit 4: ids not generated; bit 5: first id 1,000,000 rather than 1; bit 6:
/// a tight queue; bit 7: no `retry:` hint on a lag disconnect), a queue byte
/// (a tight queue holds `200 + 4 * byte` bytes, else 256 KiB), a policy
/// byte (bit 0: `DropOldest` rather than `Disconnect`; bits 1-4: a history
/// of `48 * n` bytes, or 1 MiB for 0), then up to 256 operations, an opcode
/// byte (modulo 6) and its arguments each:
///
/// - 0 subscribe: channels (bits 0-2 a mask of `a`, `b`, `c`, bit 3
///   reversed, bit 4 one repeated), initial events (bits 0-1 how many, bit
///   2 the last with an id), resume (low 2 bits: none; the last id read by
///   subscription `byte >> 2`; one of `""`, `"0"`, `"x0"`, `"x1"`, `"junk"`,
///   `"007"`; or the decimal position `first - 1 + (byte >> 2)`);
/// - 1 publish: channels, then flags (bit 2 its own id `x0` to `x3` from
///   bits 6-7, bit 3 an event type, bits 0-1 padding of 0 to 60 bytes);
/// - 2 `publish_with`: channels, then a salt (who gets nothing; bit 7 own
///   ids);
/// - 3 drop a subscription (chosen by the next byte);
/// - 4 read a subscription: which, then how many chunks (0: all there are);
/// - 5 end streams, with farewell none, an event or `retry: 500` (bits
///   2-3): bits 4-7 from 0 to 11 `disconnect` a channel (bits 0-1), 12 and
///   13 `disconnect_all`, 14 `close_with`, 15 `close` (no farewell).
///
/// With a tight queue an unread subscriber lags; both lag policies are
/// modelled exactly (queue cost as documented), and so is the history's
/// eviction by count and by bytes.
pub fn publisher(bytes: &[u8]) {
    let mut input = Input(bytes);
    let config = input.byte();
    let queue = input.byte();
    let policy = input.byte();
    let tight = config & 0x40 != 0;
    let history_bytes = match usize::from(policy >> 1 & 15) {
        0 => 1 << 20,
        n => 48 * n,
    };
    let mut model = Model {
        first: if config & 0x20 != 0 { 1_000_000 } else { 1 },
        history: usize::from(config & 15),
        history_bytes,
        generate_ids: config & 0x10 == 0,
        // The smallest queue the configuration allows (the largest event
        // and the lag reset, each with its slot), a few bytes more, and up
        // to a kilobyte on top.
        queue_bytes: if tight {
            128 + RESET_LAGGED.len() + 2 * ENTRY + 9 + 4 * usize::from(queue)
        } else {
            256 << 10
        },
        drop_oldest: policy & 1 != 0,
        retry: (config & 0x80 == 0).then(|| b"retry: 1000\n".to_vec()),
        events: Vec::new(),
        kept: VecDeque::new(),
        subs: Vec::new(),
        closed: false,
        counters: Counters::default(),
    };
    let publisher: Publisher<u32> = Publisher::with_config(
        PublisherConfig::new()
            .with_history(model.history, model.history_bytes)
            .with_max_event_bytes(128)
            .with_queue_bytes(model.queue_bytes)
            .with_lag_policy(if model.drop_oldest {
                LagPolicy::DropOldest
            } else {
                LagPolicy::Disconnect
            })
            .with_generate_ids(model.generate_ids)
            .with_first_id(model.first)
            .with_lag_retry(
                model
                    .retry
                    .is_some()
                    .then(|| core::time::Duration::from_secs(1)),
            ),
    )
    .expect("a valid configuration");

    let mut ops = 0;
    while !input.is_empty() && ops < MAX_OPS {
        ops += 1;
        match input.byte() % 6 {
            0 => subscribe(&mut model, &publisher, &mut input),
            1 => publish(&mut model, &publisher, &mut input),
            2 => publish_with(&mut model, &publisher, &mut input),
            3 => {
                if let Some(i) = model.pick(input.byte()) {
                    model.subs[i].handle = None;
                    model.subs[i].registered = false;
                }
            }
            4 => {
                let which = input.byte();
                let n = match input.byte() {
                    0 => usize::MAX,
                    n => usize::from(n % 8),
                };
                if let Some(i) = model.pick(which) {
                    model.read(i, n);
                }
            }
            _ => end_streams(&mut model, &publisher, input.byte()),
        }
        model.check_listing(&publisher);
    }

    // Everything still owed arrives.
    for i in 0..model.subs.len() {
        if model.subs[i].handle.is_some() {
            model.read(i, usize::MAX);
        }
    }
    for sub in &mut model.subs {
        sub.handle = None;
        sub.registered = false;
    }
    model.check_listing(&publisher);
}

fn subscribe(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let init = input.byte();
    let resume = input.byte();
    let index = model.subs.len() as u32;
    let count = usize::from(init & 3);
    let initial: Vec<(String, Option<String>)> = (0..count)
        .map(|k| {
            let data = format!("i{index}.{k}");
            let id = (init & 4 != 0 && k + 1 == count).then(|| format!("i{index}"));
            (data, id)
        })
        .collect();
    let arg = usize::from(resume >> 2);
    let last_event_id: Option<String> = match resume & 3 {
        0 => None,
        1 if model.subs.is_empty() => None,
        1 => model.subs[arg % model.subs.len()].last_id.clone(),
        2 => Some(["", "0", "x0", "x1", "junk", "007"][arg % 6].to_string()),
        _ => Some((model.first - 1 + arg as u64).to_string()),
    };

    let events = initial.iter().map(|(data, id)| {
        Event::new(data).with_id_opt(id.as_deref().map(|id| EventId::new(id).expect("an id")))
    });
    let subscribed = publisher
        .subscriber(index)
        .channels(&names)
        .initial_events(events)
        .last_event_id(last_event_id.as_deref())
        .subscribe();
    if model.closed {
        assert_eq!(
            subscribed.err(),
            Some(SubscribeError::Closed),
            "subscribing once closed"
        );
        return;
    }
    let handle = subscribed.expect("a valid subscription");
    assert_eq!(*handle.properties(), index);
    model.counters.subscribed += 1;
    let until = model.last();
    let replay = match last_event_id.as_deref() {
        None | Some("") => None,
        Some(id) => Some(match model.resolve(id) {
            Some(cursor) => Replay {
                cursor,
                until,
                reset_first: false,
                after_reset: false,
            },
            None => Replay {
                cursor: until,
                until,
                reset_first: true,
                after_reset: false,
            },
        }),
    };
    model.subs.push(Sub {
        handle: Some(handle),
        mask,
        initial: initial
            .iter()
            .map(|(data, id)| encoded(None, id.as_deref(), data))
            .collect(),
        replay,
        lag_reset: false,
        live: VecDeque::new(),
        registered: true,
        ended: false,
        last_id: None,
        delivered: 0,
        dropped: 0,
        resets: 0,
        lag_disconnected: false,
    });
}

fn publish(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let flags = input.byte();
    let position = model.last() + 1;
    let own_id = (flags & 4 != 0).then(|| format!("x{}", flags >> 6));
    let event_type = (flags & 8 != 0).then_some("t");
    let data = format!("p{position}{}", "-".repeat(20 * usize::from(flags & 3)));
    let mut event =
        Event::new(&data).with_id_opt(own_id.as_deref().map(|id| EventId::new(id).expect("an id")));
    if let Some(event_type) = event_type {
        event = event.with_type(EventType::new(event_type).expect("a type"));
    }
    let sent = publisher.publish(event, &names);
    let Some(sent) = model.accepted(sent, position) else {
        return;
    };

    let generated = position.to_string();
    let id = own_id
        .as_deref()
        .or_else(|| model.generate_ids.then_some(generated.as_str()));
    let bytes = encoded(event_type, id, &data);
    let (mut reached, mut lagged) = (0, 0);
    for i in 0..model.subs.len() {
        if model.subs[i].registered && model.subs[i].mask & mask != 0 {
            let (queued, lag) = model.deliver(i, bytes.clone());
            reached += usize::from(queued);
            lagged += usize::from(lag);
        }
    }
    model.keep(mask, Published::Shared { bytes, own_id });
    assert_eq!(
        (sent.reached(), sent.lagged()),
        (reached, lagged),
        "publish counts"
    );
}

fn publish_with(model: &mut Model, publisher: &Publisher<u32>, input: &mut Input<'_>) {
    let (mask, names) = channels(input.byte());
    let salt = input.byte();
    let position = model.last() + 1;
    let sent = publisher.publish_with(
        |&subscriber| {
            let (data, id) = own_event(position, subscriber, salt)?;
            let event = EventBuf::new(data);
            Some(match id {
                Some(id) => event.with_id(id).expect("an id"),
                None => event,
            })
        },
        &names,
    );
    let Some(sent) = model.accepted(sent, position) else {
        return;
    };

    let (mut reached, mut lagged) = (0, 0);
    for i in 0..model.subs.len() {
        if !model.subs[i].registered || model.subs[i].mask & mask == 0 {
            continue;
        }
        let Some((data, own_id)) = own_event(position, i as u32, salt) else {
            continue;
        };
        let generated = position.to_string();
        let id = own_id
            .as_deref()
            .or_else(|| model.generate_ids.then_some(generated.as_str()));
        let (queued, lag) = model.deliver(i, encoded(None, id, &data));
        reached += usize::from(queued);
        lagged += usize::from(lag);
    }
    model.keep(mask, Published::PerSubscriber);
    assert_eq!(
        (sent.reached(), sent.lagged()),
        (reached, lagged),
        "publish_with counts"
    );
}

/// Ends streams: `disconnect` one channel's, `disconnect_all` or `close`.
/// Each subscriber still registered and not ended gets the farewell after
/// what is queued for it, once, and its stream ends; disconnected ones are
/// unregistered, closed ones stay listed until dropped.
fn end_streams(model: &mut Model, publisher: &Publisher<u32>, byte: u8) {
    let bit = usize::from(byte & 3) % 3;
    let action = byte >> 4;
    let (farewell, bytes): (Option<Frame<'_>>, Option<&[u8]>) = match (byte >> 2 & 3) % 3 {
        _ if action == 15 => (None, None),
        0 => (None, None),
        1 => (
            Some(
                Event::new("bye")
                    .with_type(EventType::new("bye").expect("a type"))
                    .into(),
            ),
            Some(b"event: bye\ndata: bye\n\n"),
        ),
        _ => (Some(Frame::Retry(500)), Some(b"retry: 500\n")),
    };
    let (mask, close) = match action {
        0..=11 => (1 << bit, false),
        12 | 13 => (7, false),
        _ => (7, true),
    };
    let ended = match action {
        0..=11 => publisher.disconnect(CHANNELS[bit], farewell),
        12 | 13 => publisher.disconnect_all(farewell),
        14 => publisher.close_with(farewell).map(|()| 0),
        _ => {
            publisher.close();
            Ok(0)
        }
    }
    .expect("a valid farewell");
    let mut expected = 0;
    for sub in &mut model.subs {
        if sub.registered && !sub.ended && sub.mask & mask != 0 {
            sub.live.extend(bytes.map(<[u8]>::to_vec));
            sub.registered = close;
            sub.ended = true;
            expected += 1;
        }
    }
    if close {
        model.closed = true;
    } else {
        assert_eq!(ended, expected, "disconnected count");
    }
}

/// Hand-built inputs, one per kind of operation, for the seed corpus
/// (`fuzz/corpus/publisher/`; see `fuzz/README.md`).
pub fn seeds() -> Vec<Vec<u8>> {
    // Opcodes.
    const SUB: u8 = 0;
    const PUB: u8 = 1;
    const WITH: u8 = 2;
    const DROP: u8 = 3;
    const READ: u8 = 4;
    const END: u8 = 5;
    let fan_out = [
        &[8, 0, 0][..], // history 8, roomy queues
        &[SUB, 1, 0, 0],
        &[SUB, 0x0e, 2, 0], // b and c, reversed; two initial events
        &[SUB, 0x17, 7, 0], // all three, one repeated; three initial, the last with an id
        &[PUB, 1, 0],
        &[PUB, 6, 8 | 1],    // typed, padded
        &[PUB, 7, 0x44 | 2], // own id x1
        &[READ, 0, 0, READ, 1, 1, READ, 1, 0, READ, 2, 0],
    ];
    let resume = [
        &[4, 0, 0][..], // history 4
        &[SUB, 1, 0, 0],
        &[PUB, 1, 0, PUB, 1, 0, PUB, 2, 0],
        &[READ, 0, 2, DROP, 0],
        &[PUB, 1, 0, PUB, 3, 0, PUB, 1, 0, PUB, 1, 0, PUB, 2, 0],
        &[SUB, 1, 0, 1], // resumes from subscription 0's last id
        &[PUB, 1, 0, READ, 0, 0],
        &[SUB, 3, 0, 1 | 4 << 2], // from the id of the first resumed
        &[READ, 1, 0],
    ];
    let per_subscriber = [
        &[0x1a, 0, 0][..], // history 10, no generated ids
        &[SUB, 3, 0, 0, SUB, 1, 0, 0, SUB, 2, 0, 0],
        &[PUB, 1, 0x04], // own id x0
        &[WITH, 3, 1],
        &[READ, 0, 0, DROP, 0],
        &[WITH, 1, 0x80], // own ids
        &[PUB, 1, 0x44],
        &[SUB, 3, 0, 1],          // resumes from x0: a gap
        &[SUB, 1, 0, 2 | 2 << 2], // "x0"
        &[SUB, 1, 0, 2 | 4 << 2], // "junk": unknown
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    let lag = [
        &[0x4f, 0, 0][..], // history 15, queues of 200 bytes
        &[SUB, 1, 1, 0, SUB, 1, 0, 0],
        &[PUB, 1, 3, READ, 1, 0, PUB, 1, 3, READ, 1, 0, PUB, 1, 3],
        &[READ, 0, 0, READ, 1, 0],
        &[SUB, 1, 0, 1 | 1 << 2], // the fast one's id
        &[SUB, 1, 0, 1],          // the lagged one's
        &[READ, 2, 0, READ, 3, 0],
    ];
    let disconnect = [
        &[0x02, 0, 0][..],
        &[SUB, 1, 0, 0, SUB, 3, 0, 0, SUB, 2, 0, 0],
        &[PUB, 1, 0],
        &[END, 4], // a, farewell event
        &[PUB, 3, 0],
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0],
        &[SUB, 1, 0, 1],
        &[END, 8 | 1], // b, retry hint
        &[END, 0],     // a, no farewell
        &[READ, 3, 0],
    ];
    let ids = [
        &[0x23, 0, 0][..], // history 3, first id 1,000,000
        &[SUB, 7, 0, 0],
        &[PUB, 1, 0, PUB, 2, 0, PUB, 4, 0, PUB, 1, 0, PUB, 2, 0],
        &[SUB, 7, 0, 3],          // "999999": everything, mostly gone
        &[SUB, 7, 0, 3 | 3 << 2], // "1000002"
        &[SUB, 7, 0, 3 | 9 << 2], // past the last: unknown
        &[SUB, 7, 0, 2 | 1 << 2], // "0": unknown here
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    let drop_oldest = [
        &[0x4f, 0, 1][..], // history 15, queues of 200 bytes, DropOldest
        // One initial event; none; three, the last with an id.
        &[SUB, 1, 1, 0, SUB, 1, 0, 0, SUB, 1, 7, 0],
        // Padded events: the second makes room for itself and a reset, the
        // third merges into it; the third subscriber's initial events leave
        // no room, so each event is the one dropped.
        &[PUB, 1, 3, READ, 1, 0, PUB, 1, 3, READ, 1, 0],
        &[PUB, 1, 3, READ, 1, 0],
        &[PUB, 1, 3, READ, 0, 2], // the initial event and the reset
        &[WITH, 1, 1, PUB, 1, 0, PUB, 1, 3, PUB, 1, 3],
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0],
        &[SUB, 1, 0, 1 | 1 << 2], // resumes from the fast one's id
        &[PUB, 1, 3, PUB, 1, 3, PUB, 1, 3, READ, 3, 0],
    ];
    let close = [
        &[0x05, 0, 0][..], // history 5
        &[SUB, 1, 1, 0, SUB, 6, 0, 0],
        &[PUB, 1, 0, PUB, 6, 0],
        &[END, 0xc0 | 8], // disconnect_all, retry hint
        &[READ, 0, 0, READ, 1, 0],
        &[SUB, 1, 0, 1, SUB, 7, 0, 0], // one resumes from the first's id
        &[PUB, 3, 0, WITH, 7, 1],
        &[END, 0xe0 | 4],                       // close_with, farewell event
        &[PUB, 1, 0, WITH, 1, 0, SUB, 1, 0, 0], // all refused
        &[END, 1],                              // disconnect b: none left
        &[READ, 2, 0, DROP, 2, END, 0xf0],      // close again: nothing more
        &[READ, 3, 1, END, 0xc4],
    ];
    let history_bytes = [
        &[0x0f, 0, 4 << 1][..], // history 15 events but 192 bytes
        &[SUB, 7, 0, 0],
        &[
            PUB, 1, 0, PUB, 2, 0, PUB, 4, 3, PUB, 1, 0, WITH, 2, 1, PUB, 1, 0,
        ],
        &[READ, 0, 3],
        &[SUB, 7, 0, 1],          // from the first's last id: a gap
        &[SUB, 1, 0, 3 | 4 << 2], // "4"
        &[SUB, 2, 0, 3 | 5 << 2], // "5"
        &[PUB, 1, 3 | 0x04],      // own id x0, padded: most evicted
        &[SUB, 1, 0, 2 | 2 << 2], // "x0"
        &[READ, 0, 0, READ, 1, 0, READ, 2, 0, READ, 3, 0, READ, 4, 0],
    ];
    [
        &fan_out[..],
        &resume,
        &per_subscriber,
        &lag,
        &disconnect,
        &ids,
        &drop_oldest,
        &close,
        &history_bytes,
    ]
    .iter()
    .map(|parts| parts.concat())
    .collect()
}
