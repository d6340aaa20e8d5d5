//! A real headless Chromium, driven over the DevTools protocol, for tests of
//! pages a user opens in a browser.
//!
//! The browser is Debian's `chromium` (or the one `SSE_CHROMIUM` names),
//! started with a fresh profile and without any background networking, and
//! killed when the `Browser` is dropped.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A running headless Chromium.
pub(crate) struct Browser {
    child: Child,
    /// `127.0.0.1:port` of its DevTools endpoint.
    devtools: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium; fails with instructions when it is not installed.
    pub(crate) async fn launch() -> Self {
        Self::launch_with(&[]).await
    }

    /// [`launch`](Self::launch) with more command-line switches (for a
    /// certificate made by the test, `--ignore-certificate-errors`).
    pub(crate) async fn launch_with(switches: &[&str]) -> Self {
        let program = std::env::var("SSE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().expect("profile directory");
        let mut child = Command::new(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--window-size=900,700",
            ])
            .args(switches)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {program:?} ({error}): install Debian's chromium (`apt-get install chromium`, as .ci/run does) or set SSE_CHROMIUM")
            });
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let devtools = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.expect("read chromium's stderr") {
                // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/UUID"
                if let Some(rest) = line.split("ws://").nth(1) {
                    return rest.split('/').next().expect("host:port").to_string();
                }
            }
            panic!("chromium exited before it listened for DevTools");
        })
        .await
        .expect("chromium did not start within a minute");
        // Keep draining stderr so that chromium never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            devtools,
            _profile: profile,
        }
    }

    /// Opens a new tab at `url`.
    pub(crate) async fn open(&self, url: &str) -> Page {
        // PUT /json/new?URL answers with the new target and its socket.
        let mut stream = TcpStream::connect(&self.devtools)
            .await
            .expect("devtools endpoint");
        let request = format!(
            "PUT /json/new?{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            percent_encode(url),
            self.devtools
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("request a tab");
        // Chromium keeps the connection open, so read by Content-Length.
        let mut reader = BufReader::new(stream);
        let mut content_length = None;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.expect("devtools answer");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let mut body = vec![0; content_length.expect("devtools answer with a Content-Length")];
        reader
            .read_exact(&mut body)
            .await
            .expect("devtools answer body");
        let body = String::from_utf8(body).expect("UTF-8 answer");
        let target: Value = serde_json::from_str(&body).expect("devtools answers JSON");
        let socket_url = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("webSocketDebuggerUrl");
        let (socket, _) = tokio_tungstenite::connect_async(socket_url)
            .await
            .expect("page socket");
        let mut page = Page { socket, next_id: 0 };
        page.call("Page.enable", json!({})).await;
        page.call("Runtime.enable", json!({})).await;
        page
    }
}

/// Escapes what cannot stand in a request line.
fn percent_encode(url: &str) -> String {
    url.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b':'
            | b'/'
            | b'?'
            | b'&'
            | b'='
            | b'%'
            | b','
            | b'#' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Only the process this test started.
        let _ = self.child.start_kill();
    }
}

/// One tab.
pub(crate) struct Page {
    socket: Socket,
    next_id: u64,
}

impl Page {
    /// Sends a DevTools command and returns its result.
    pub(crate) async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(Message::text(command.to_string()))
            .await
            .expect("send to page");
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 30 s"))
                .expect("page socket open")
                .expect("page message");
            let Message::Text(text) = message else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).expect("JSON from the page");
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression (awaiting promises) and returns its value.
    pub(crate) async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is truthy, for up to `timeout`; an
    /// expression that throws (the page is still loading) counts as falsy.
    pub(crate) async fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        let guarded = format!(
            "(() => {{ try {{ return ({expression}); }} catch (e) {{ return null; }} }})()"
        );
        loop {
            let value = self.eval(&guarded).await;
            if !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0)
            {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("`{expression}` still falsy after {timeout:?}: {value}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG screenshot of the tab.
    pub(crate) async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artefact directory");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}
