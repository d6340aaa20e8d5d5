//! The drop-in path from reqwest-eventsource 0.6 (feature `reqwest`): code
//! written the way its documentation shows, changed only in its `use` lines
//! and its error-matching arms, runs against a local server.
//!
//! `println!` is shadowed so that the code prints into a list the test
//! reads, and stays as written. The README's migration guide quotes the two
//! functions between the `README` markers verbatim (tests/readme.rs checks).
#![cfg(feature = "reqwest")]

use std::cell::RefCell;

use sse_testkit::scripted_server::{Server, Step, response, stream_head, write};

thread_local! {
    static PRINTED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records a line instead of printing it.
macro_rules! println {
    ($($arg:tt)*) => {
        PRINTED.with(|printed| printed.borrow_mut().push(format!($($arg)*)))
    };
}

fn printed() -> Vec<String> {
    PRINTED.with(|printed| printed.take())
}

// README: after (begin)
use futures_lite::StreamExt; // was: use futures::stream::StreamExt;
use sse_tokio::reqwest::{Event, EventSource, RequestBuilderExt}; // was: use reqwest_eventsource::...

/// The example of reqwest-eventsource's documentation, unchanged.
async fn print_events(url: &str) {
    let mut es = EventSource::get(url);
    while let Some(event) = es.next().await {
        match event {
            Ok(Event::Open) => println!("Connection Open!"),
            Ok(Event::Message(message)) => println!("Message: {:#?}", message),
            Err(err) => {
                println!("Error: {}", err);
                es.close();
            }
        }
    }
}

/// A streaming API answer read to its end, with the error arms that
/// reqwest-eventsource users write, in our names.
async fn complete(client: &reqwest::Client, url: &str) -> Result<Vec<String>, sse_tokio::Error> {
    let mut es = client
        .post(url)
        .bearer_auth("secret")
        .body(r#"{"stream": true}"#)
        .eventsource()?;
    let mut words = Vec::new();
    while let Some(event) = es.next().await {
        match event {
            Ok(Event::Open) => {}
            Ok(Event::Message(message)) => words.push(message.data().to_owned()),
            // was: Err(reqwest_eventsource::Error::StreamEnded) => break,
            Err(sse_tokio::Error::StreamEnded) => break,
            // was: Err(reqwest_eventsource::Error::InvalidStatusCode(status, response)) => ...
            Err(sse_tokio::Error::Response(failed)) => {
                let body = String::from_utf8_lossy(failed.body());
                println!("{}: {}", failed.status(), body);
                es.close();
            }
            Err(err) => return Err(err),
        }
    }
    Ok(words)
}
// README: after (end)

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_documented_example_runs_unchanged() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![stream_head(), write("id: 1\ndata: hello\n\n")],
        _ => vec![response("204 No Content", &[], "")],
    });
    runtime().block_on(print_events(&server.url("/events")));
    let printed = printed();
    assert_eq!(printed.len(), 3, "{printed:#?}");
    assert_eq!(printed[0], "Connection Open!");
    assert!(printed[1].starts_with("Message: "), "{}", printed[1]);
    assert!(printed[1].contains("\"hello\""), "{}", printed[1]);
    assert_eq!(printed[2], "Error: the server ended the stream");
    // Closed on the error: no second connection.
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn the_example_reports_a_url_it_cannot_use_once() {
    runtime().block_on(print_events("not a url"));
    let printed = printed();
    assert_eq!(printed.len(), 1, "{printed:#?}");
    assert!(printed[0].starts_with("Error: "), "{}", printed[0]);
}

#[test]
fn a_streaming_answer_is_read_to_its_end_with_the_clients_settings() {
    let server = Server::start(|conn, _| match conn {
        0 => vec![
            stream_head(),
            write("data: one\n\n"),
            Step::Pause(std::time::Duration::from_millis(20)),
            write("data: two\n\n"),
        ],
        _ => vec![response("500 Internal Server Error", &[], "")],
    });
    // The application's client, with its own default header.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-app", "demo".parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let words = runtime()
        .block_on(complete(&client, &server.url("/v1/chat")))
        .unwrap();
    assert_eq!(words, ["one", "two"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.body, br#"{"stream": true}"#);
    assert_eq!(request.header("authorization"), Some("Bearer secret"));
    assert_eq!(request.header("x-app"), Some("demo"));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.header("cache-control"), Some("no-cache"));
}

#[test]
fn a_failed_response_carries_its_status_headers_and_body() {
    let server = Server::start(|_, _| {
        vec![response(
            "429 Too Many Requests",
            &[("x-request-id", "r7")],
            "{\"error\": \"quota\"}",
        )]
    });
    let client = reqwest::Client::new();
    let words = runtime()
        .block_on(complete(&client, &server.url("/v1/chat")))
        .unwrap();
    assert!(words.is_empty());
    assert_eq!(printed(), ["429 Too Many Requests: {\"error\": \"quota\"}"]);
    assert_eq!(server.requests().len(), 1);

    // The headers too, on the error itself.
    let mut es = EventSource::new(client.get(server.url("/"))).unwrap();
    let failed = runtime().block_on(async {
        match es.next().await {
            Some(Err(sse_tokio::Error::Response(failed))) => failed,
            other => panic!("expected a failed response, got {other:?}"),
        }
    });
    assert_eq!(failed.headers()["x-request-id"], "r7");
}

#[test]
fn a_streaming_body_cannot_be_sent_again() {
    let body = reqwest::Body::wrap(http_body_util::Full::new(bytes::Bytes::from("{}")));
    let request = reqwest::Client::new()
        .post("http://127.0.0.1:1/")
        .body(body);
    let Err(sse_tokio::Error::Transport(error)) = EventSource::new(request) else {
        panic!("expected an error");
    };
    assert!(
        error.is::<sse_tokio::reqwest::CannotCloneRequest>(),
        "{error}"
    );
}
