//! The examples that show the hub in an application, run as users run
//! them: `hub_in_axum` mounts the hub under `/hub` in an axum app.
#![cfg(feature = "hub")]

use sse_testkit::process::{Server, example};

#[test]
fn the_hub_mounts_in_an_axum_application_under_a_prefix() {
    let mut command = example("sse-tokio", "hub_in_axum", "hub");
    command.arg("127.0.0.1:0");
    let app = Server::start(command, "listening on http://");

    let own = app.request("GET", "/", &[], b"");
    assert_eq!(own.status, 200);
    assert!(own.body.contains("my application"), "{}", own.body);
    let page = app.request("GET", "/hub", &[], b"");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("new EventSource(url)"), "the chat page");

    let mut stream = app.open_stream("/hub/events?channel=news", &[("user-agent", "example/1")]);
    stream.read_until("retry:");
    let listed = app.wait_for(
        "/hub/channels/news/subscribers",
        "one subscriber",
        |response| response.json()["subscribers"].as_array().map(Vec::len) == Some(1),
    );
    let subscriber = &listed.json()["subscribers"][0];
    assert_eq!(subscriber["userAgent"], "example/1");
    assert!(
        subscriber["remote"]
            .as_str()
            .is_some_and(|remote| remote.starts_with("127.0.0.1:")),
        "the client's address reaches the hub: {subscriber}"
    );

    let published = app.request("POST", "/hub/publish?channel=news", &[], b"hello");
    assert_eq!(published.status, 200, "{published:?}");
    assert_eq!(published.json()["subscribers"], 1);
    stream.read_until("data: hello\n\n");
    assert_eq!(
        app.request("GET", "/hub/health", &[], b"").json()["published"],
        1
    );
}
