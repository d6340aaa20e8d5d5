//! The example that serves the hub alone on smol, run as users run it.
#![cfg(feature = "hub")]

use sse_testkit::process::{Server, example};

#[test]
fn the_hub_serves_alone_on_smol() {
    let mut command = example("sse-smol", "smol_hub", "hub");
    command.arg("127.0.0.1:0");
    let hub = Server::start(command, "listening on http://");

    let page = hub.request("GET", "/", &[], b"");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("new EventSource(url)"), "the chat page");

    let mut stream = hub.open_stream("/events?channel=news", &[]);
    stream.read_until("retry:");
    hub.wait_for_subscribers("news", 1);
    let published = hub.request(
        "POST",
        "/publish",
        &[("content-type", "application/json")],
        br#"{"channel":"news","event":"update","data":{"n":1}}"#,
    );
    assert_eq!(published.status, 200, "{published:?}");
    assert_eq!(published.json()["subscribers"], 1);
    let got = stream.read_until("data: {\"n\":1}\n\n");
    assert!(got.contains("event: update\nid: 1\n"), "{got}");
    let listed = hub
        .request("GET", "/channels/news/subscribers", &[], b"")
        .json();
    assert!(
        listed["subscribers"][0]["remote"]
            .as_str()
            .is_some_and(|remote| remote.starts_with("127.0.0.1:")),
        "{listed}"
    );
}
