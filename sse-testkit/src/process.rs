//! Servers as users run them: a process this test started, on a free port
//! of 127.0.0.1, stopped (by its process id) when the test ends; and a raw
//! HTTP/1.1 client that shows exactly what the server answers, blocking,
//! with generous time limits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The command of the example `name` of `package`, built with `features`:
/// the binary `cargo test` built next to this test's (in
/// `target/<profile>/examples/`), or, when this test was built alone, one
/// built now with cargo.
pub fn example(package: &str, name: &str, features: &str) -> Command {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("a test binary in target/<profile>/deps");
    let path: PathBuf = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                package,
                "--example",
                name,
                "--features",
                features,
            ])
            .status()
            .expect("run cargo");
        assert!(status.success(), "cargo could not build the example {name}");
    }
    Command::new(path)
}

/// A server process this test started, and a raw HTTP/1.1 client for it.
pub struct Server {
    child: Child,
    /// `127.0.0.1:port`.
    pub address: String,
}

impl Server {
    /// Starts `command` (its stdout piped, stdin closed) and waits for the
    /// first line it prints, which must be `prefix` and then the address it
    /// listens on (`sse: listening on http://` and `127.0.0.1:port`).
    pub fn start(mut command: Command, prefix: &str) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the server's first line");
        let address = line
            .trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Self { child, address }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL: no shutdown, no flush), and
    /// waits until it is gone.
    pub fn kill(mut self) {
        self.child.kill().expect("kill -9 the server");
        let status = self.child.wait().expect("wait for the server");
        assert!(!status.success(), "{status:?}");
    }

    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends SIGINT (Ctrl-C) and waits for the hub to exit.
    pub fn interrupt(self) -> std::process::ExitStatus {
        self.signal("-INT")
    }

    /// Sends `signal` (`-TERM`, say) and waits up to 20 s for the hub to
    /// exit.
    pub fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the hub") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the hub did not stop within 20 s of {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `channel` has `count` subscribers.
    pub fn wait_for_subscribers(&self, channel: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let response =
                self.request("GET", &format!("/channels/{channel}/subscribers"), &[], b"");
            let listed = serde_json::from_str::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|body| body["subscribers"].as_array().map(Vec::len));
            if listed == Some(count) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{channel} never had {count} subscribers: {}",
                response.body
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `GET path` until `ready` accepts the response (a health check
    /// that says the Redis link is down, say), and returns it. An exchange
    /// that fails (a connection the server had no room for) counts as not
    /// ready yet.
    pub fn wait_for(&self, path: &str, what: &str, ready: impl Fn(&Response) -> bool) -> Response {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let last = match self.try_request("GET", path, &[], b"") {
                Ok(response) if ready(&response) => return response,
                Ok(response) => format!("{response:?}"),
                Err(error) => error.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "{what}: not within 20 s; last {path}: {last}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One request, read to the end of the response; panics if the
    /// exchange fails.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// One request, read to the end of the response, or why the exchange
    /// failed (a server that closes connections it has no room for resets
    /// them).
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut stream = TcpStream::connect(&self.address)?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.address,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(Response::parse(&raw))
    }

    /// Opens a stream and returns the socket after the response head.
    pub fn open_stream(&self, path: &str, headers: &[(&str, &str)]) -> Stream {
        let mut socket = TcpStream::connect(&self.address).expect("connect to the hub");
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut head = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n", self.address);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        socket.write_all(head.as_bytes()).expect("send head");
        Stream {
            socket,
            received: Vec::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only the process this test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response, whole.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked, as text.
    pub body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let chunked = text
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The first value of the header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// An open event stream, read raw.
pub struct Stream {
    socket: TcpStream,
    received: Vec<u8>,
}

impl Stream {
    /// Reads until what was received contains `needle`; returns it all.
    pub fn read_until(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&self.received).into_owned();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "never received {needle:?}; got {text:?}"
            );
            match self.socket.read(&mut buf) {
                Ok(0) => panic!("the stream ended before {needle:?}; got {text:?}"),
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) => panic!("reading the stream: {e}; got {text:?}"),
            }
        }
    }

    /// Reads until the server ends the response body (the last chunk of
    /// the chunked encoding; the connection itself may stay open for the
    /// next request) or closes the connection; returns all received.
    pub fn read_to_end(&mut self) -> String {
        const LAST_CHUNK: &[u8] = b"\r\n0\r\n\r\n";
        let mut buf = [0u8; 4096];
        while !self.received.ends_with(LAST_CHUNK) {
            match self.socket.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) => panic!(
                    "the response never ended: {e}; got {:?}",
                    String::from_utf8_lossy(&self.received)
                ),
            }
        }
        String::from_utf8_lossy(&self.received).into_owned()
    }
}
