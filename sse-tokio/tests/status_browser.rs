//! The status page of `sse serve` in a real headless Chromium: it asks for
//! the metrics token, then shows the hub's live figures, which change as
//! events are published (waiting up to 15 s for the page to show it). A
//! screenshot is saved under `target/test-artifacts/`.
#![cfg(feature = "cli")]

#[path = "support/browser.rs"]
mod browser;
#[path = "support/hub.rs"]
mod hub;

use std::path::PathBuf;
use std::time::Duration;

use browser::Browser;
use hub::Hub;
use serde_json::json;

/// How long the page may take to show a change.
const CHANGE: Duration = Duration::from_secs(15);

fn artefacts() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .join("test-artifacts")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_figures_that_move_with_traffic() {
    let hub = Hub::start(&["--metrics-token", "m-s3cret"]);
    let browser = Browser::launch().await;
    let mut page = browser.open(&hub.url("/status")).await;

    // Without the token the page asks for it.
    page.wait_for(
        "document.getElementById('state').dataset.state === 'refused'",
        CHANGE,
    )
    .await;
    page.eval("document.getElementById('token').value = 'm-s3cret'; true")
        .await;
    page.eval("document.getElementById('login').requestSubmit(); true")
        .await;
    page.wait_for(
        "document.getElementById('state').dataset.state === 'open'",
        CHANGE,
    )
    .await;
    let published = "document.getElementById('published').dataset.value";
    page.wait_for(&format!("{published} === '0'"), CHANGE).await;

    // Traffic: a subscriber on a channel, and events published to it.
    let mut stream = hub.open_stream("/events?channel=room", &[]);
    stream.read_until("retry:");
    for n in 0..3 {
        let body = format!("event {n}");
        let response = hub.request("POST", "/publish?channel=room", &[], body.as_bytes());
        assert_eq!(response.status, 200);
    }
    stream.read_until("data: event 2");

    let shown = page
        .wait_for(&format!("{published} === '3' && {published}"), CHANGE)
        .await;
    assert_eq!(shown, json!("3"));
    page.wait_for(
        "document.getElementById('streams').dataset.value === '1'",
        CHANGE,
    )
    .await;
    let channels = page
        .wait_for(
            "[...document.querySelectorAll('#channels td')].map(td => td.textContent).join(' ').includes('room') \
             && [...document.querySelectorAll('#channels td')].map(td => td.textContent).join(' ')",
            CHANGE,
        )
        .await;
    assert!(
        channels.as_str().unwrap_or_default().contains("room 1"),
        "{channels}"
    );
    // The chart has points.
    page.wait_for(
        "Number(document.getElementById('chart').dataset.points) >= 2",
        CHANGE,
    )
    .await;

    let path = artefacts().join("status.png");
    page.screenshot(&path).await;
    assert!(std::fs::metadata(&path).expect("screenshot saved").len() > 1000);
    drop(stream);
}
