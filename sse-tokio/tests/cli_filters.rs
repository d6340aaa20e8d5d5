//! `sse decode` and `sse encode`, run as the binary users run.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "support/hub.rs"]
mod hub;

use hub::sse;

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn decode_prints_the_spec_examples_with_browser_names() {
    let output = sse(
        &["decode"],
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\nevent: add\ndata: 73857293\n\ndata: YHOO\ndata: +2\ndata: 10\n\n",
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        lines(&output),
        [
            r#"{"type":"message","data":"first event","lastEventId":"1"}"#,
            r#"{"type":"message","data":"second event","lastEventId":""}"#,
            r#"{"type":"message","data":" third event","lastEventId":""}"#,
            r#"{"type":"add","data":"73857293","lastEventId":""}"#,
            r#"{"type":"message","data":"YHOO\n+2\n10","lastEventId":""}"#,
        ]
    );
}

#[test]
fn decode_reads_invalid_utf8_as_a_browser_does() {
    let output = sse(&["decode"], b"data: a\xFFb\xE2\x82\n\n");
    assert_eq!(
        lines(&output),
        [
            r#"{"type":"message","data":"a\ufffdb\ufffd","lastEventId":""}"#
                .replace("\\ufffd", "\u{FFFD}")
        ]
    );
}

#[test]
fn decode_all_reports_comments_and_retry() {
    let output = sse(&["decode", "--all"], b": ping\nretry: 2500\n\n");
    assert_eq!(
        lines(&output),
        [r#"{"comment":"ping"}"#, r#"{"retry":2500}"#]
    );
}

/// An over-long event is reported and skipped; the events around it survive
/// and the exit code says something was lost.
#[test]
fn decode_reports_an_oversized_event_and_goes_on() {
    let output = sse(
        &["decode", "--max-event-size", "8"],
        b"data: ok\n\ndata: far too long\n\ndata: fine\n\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        lines(&output),
        [
            r#"{"type":"message","data":"ok","lastEventId":""}"#,
            r#"{"type":"message","data":"fine","lastEventId":""}"#
        ]
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("event data larger"),
        "{output:?}"
    );
}

/// `curl -N URL | sse decode` must print events as they arrive, not at EOF:
/// each event is read back before the next one is written.
#[test]
fn decode_is_live() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sse"))
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sse");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("read line")).is_err() {
                break;
            }
        }
    });
    // The events arrive in pieces, as from a network; the first ends in a lone
    // CR, so it must go out without waiting for the byte after it.
    let events: [&[&[u8]]; 2] = [
        &[b"data: o", b"ne\r", b"\r"],
        &[b"\nid: 2\ndata: tw", b"o\n\n"],
    ];
    for (i, pieces) in events.iter().enumerate() {
        for piece in *pieces {
            stdin.write_all(piece).expect("write");
            stdin.flush().expect("flush");
        }
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("event {i} was not printed while stdin stayed open"));
        assert!(
            line.contains(if i == 0 {
                r#""data":"one""#
            } else {
                r#""data":"two""#
            }),
            "{line}"
        );
    }
    drop(stdin);
    assert!(child.wait().expect("exit").success());
}

#[test]
fn encode_writes_events_comments_and_retry() {
    let output = sse(
        &["encode"],
        concat!(
            r#"{"type":"add","data":"a\nb","lastEventId":"7"}"#,
            "\n",
            r#"{"data":{"n":1}}"#,
            "\n",
            "\n",
            r#"{"comment":"keep-alive"}"#,
            "\n",
            r#"{"retry":3000}"#,
            "\n",
            r#"{"event":"x","id":"","data":""}"#,
            "\n",
        )
        .as_bytes(),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "event: add\nid: 7\ndata: a\ndata: b\n\ndata: {\"n\":1}\n\n: keep-alive\nretry: 3000\nevent: x\nid: \ndata: \n\n"
    );
}

/// A bad line is reported with its number and skipped; good lines still go out.
#[test]
fn encode_reports_bad_lines_and_goes_on() {
    let output = sse(
        &["encode"],
        concat!(
            "not json\n",
            r#"{"data":"ok"}"#,
            "\n",
            r#"{"evnt":"typo"}"#,
            "\n",
            r#"{"type":"a\nid: injected","data":"x"}"#,
            "\n",
            r#"{"lastEventId":"1\u0000"}"#,
            "\n",
            r#"{"retry":-5}"#,
            "\n",
            r#"[1,2]"#,
            "\n",
            r#"{"type":"t","event":"u"}"#,
            "\n",
        )
        .as_bytes(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "data: ok\n\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "line 1: not JSON",
        "line 3: unexpected key \"evnt\"",
        "line 4: type: field value contains a line break",
        "line 5: id: event id contains a NUL",
        "line 6: \"retry\" must be",
        "line 7: expected a JSON object",
        "line 8: give only one of",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in {stderr}"
        );
    }
}

/// `decode --all | encode | decode --all` gives the same lines: the filters
/// are each other's inverse on what they print.
#[test]
fn decode_and_encode_round_trip() {
    let input = b"\xEF\xBB\xBF: hi\r\nretry: 10\r\nid: 1\r\nevent: t\r\ndata: a\r\ndata:\r\n\r\ndata: b\r\r";
    let first = sse(&["decode", "--all"], input);
    let encoded = sse(&["encode"], &first.stdout);
    let second = sse(&["decode", "--all"], &encoded.stdout);
    assert!(first.status.success() && encoded.status.success() && second.status.success());
    assert_eq!(lines(&first).len(), 4);
    assert_eq!(lines(&second), lines(&first));
}
