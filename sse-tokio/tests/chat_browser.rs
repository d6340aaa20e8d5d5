//! The chat page of `sse serve` in a real headless Chromium: two tabs, a
//! message typed in one appears in the other. Screenshots of both tabs are
//! saved under `target/test-artifacts/`.
#![cfg(feature = "cli")]

#[path = "support/browser.rs"]
mod browser;
#[path = "support/hub.rs"]
mod hub;

use std::path::PathBuf;
use std::time::Duration;

use browser::{Browser, Page};
use hub::Hub;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// Where test artefacts go: `target/test-artifacts`.
fn artefacts() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .join("test-artifacts")
}

/// Types `text` into the element `selector` as a user would, then presses
/// Enter, which submits the form.
async fn type_and_send(page: &mut Page, name: &str, text: &str) {
    page.eval(&format!(
        "document.getElementById('name').value = {}; true",
        json!(name)
    ))
    .await;
    page.eval("document.getElementById('text').focus(); true")
        .await;
    page.call("Input.insertText", json!({ "text": text })).await;
    for kind in ["keyDown", "keyUp"] {
        page.call(
            "Input.dispatchKeyEvent",
            json!({ "type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r" }),
        )
        .await;
    }
}

/// The texts of the messages shown in a tab.
const MESSAGES: &str =
    "[...document.querySelectorAll('#messages .message')].map(li => li.textContent).join('\\n')";

#[tokio::test(flavor = "multi_thread")]
async fn a_message_typed_in_one_tab_appears_in_the_other() {
    let hub = Hub::start(&["--ids"]);
    let browser = Browser::launch().await;
    let mut alice = browser.open(&hub.url("/")).await;
    let mut bob = browser.open(&hub.url("/")).await;
    for page in [&mut alice, &mut bob] {
        page.wait_for(
            "document.getElementById('status').dataset.state === 'open'",
            WAIT,
        )
        .await;
    }
    hub.wait_for_subscribers("chat", 2);

    type_and_send(&mut alice, "Alice", "Hello from Alice").await;
    let seen = bob
        .wait_for(
            &format!("{MESSAGES}.includes('Hello from Alice') && {MESSAGES}"),
            WAIT,
        )
        .await;
    assert!(
        seen.as_str().unwrap_or_default().contains("Alice"),
        "{seen}"
    );
    // The sender sees her own message, marked as hers, and the field is clear.
    alice
        .wait_for(
            "document.querySelector('#messages .mine .text')?.textContent === 'Hello from Alice'",
            WAIT,
        )
        .await;
    assert_eq!(
        alice.eval("document.getElementById('text').value").await,
        ""
    );

    type_and_send(&mut bob, "Bob", "Hi Alice <b>not bold</b>").await;
    let seen = alice
        .wait_for(
            &format!("{MESSAGES}.includes('Hi Alice') && {MESSAGES}"),
            WAIT,
        )
        .await;
    assert!(
        seen.as_str()
            .unwrap_or_default()
            .contains("<b>not bold</b>"),
        "text is shown as text, not HTML: {seen}"
    );
    assert_eq!(
        alice
            .eval("document.querySelectorAll('#messages b').length")
            .await,
        0
    );

    let dir = artefacts();
    alice.screenshot(&dir.join("chat-alice.png")).await;
    bob.screenshot(&dir.join("chat-bob.png")).await;
    assert!(
        std::fs::metadata(dir.join("chat-bob.png"))
            .expect("screenshot saved")
            .len()
            > 1000
    );
}

/// Closing the channel from the server side stops the page from reconnecting.
#[tokio::test(flavor = "multi_thread")]
async fn closing_the_channel_stops_the_page() {
    let hub = Hub::start(&[]);
    let browser = Browser::launch().await;
    let mut page = browser.open(&hub.url("/")).await;
    page.wait_for(
        "document.getElementById('status').dataset.state === 'open'",
        WAIT,
    )
    .await;
    hub.wait_for_subscribers("chat", 1);
    let closed = hub.request("POST", "/channels/chat/close", &[], b"");
    assert_eq!(closed.json()["closed"], 1);
    page.wait_for(
        "document.getElementById('status').dataset.state === 'closed'",
        WAIT,
    )
    .await;
    // It stays away: no new subscriber shows up.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    hub.wait_for_subscribers("chat", 0);
}
