//! A real `redis-server` for the tests: on a free port of 127.0.0.1, with a
//! temporary directory and an append-only file (so a restart keeps the
//! data, as a production Redis would), stopped by its process id when the
//! test ends. Debian's `redis-server` (`.ci/deps` installs it), or the one
//! `SSE_REDIS_SERVER` names.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) Redis.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// Serving TLS only, with a certificate made for the test.
    tls: bool,
}

impl RedisServer {
    /// Starts Redis on a free port and waits until it answers.
    pub(crate) fn start() -> Self {
        // The port is free when this returns; Redis binds it right after.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self {
            child: None,
            port,
            dir: tempfile::tempdir().expect("a directory for Redis"),
            tls: false,
        };
        server.restart();
        server
    }

    /// Starts Redis serving TLS only (`rediss://`), with a self-signed
    /// certificate for 127.0.0.1 made now; [`ca_file`](Self::ca_file) is
    /// what clients must trust.
    pub(crate) fn start_tls() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("a directory for Redis");
        let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .expect("a certificate");
        std::fs::write(
            dir.path().join("cert.pem"),
            pem("CERTIFICATE", key.cert.der()),
        )
        .expect("write the certificate");
        let private = key.signing_key.serialize_der();
        std::fs::write(dir.path().join("key.pem"), pem("PRIVATE KEY", &private))
            .expect("write the key");
        let mut server = Self {
            child: None,
            port,
            dir,
            tls: true,
        };
        server.restart();
        server
    }

    /// The certificate a TLS server presents, to trust (`SSL_CERT_FILE`).
    pub(crate) fn ca_file(&self) -> std::path::PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// `redis://127.0.0.1:port` (`rediss://` over TLS).
    pub(crate) fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Starts Redis again on the same port and directory (after
    /// [`stop`](Self::stop)), and waits until it answers with its data loaded.
    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "Redis is already running");
        let program = std::env::var("SSE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let mut command = Command::new(&program);
        command.args(["--bind", "127.0.0.1"]);
        if self.tls {
            let cert = self.ca_file();
            command
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .arg("--tls-cert-file")
                .arg(&cert)
                .arg("--tls-key-file")
                .arg(self.dir.path().join("key.pem"))
                .arg("--tls-ca-cert-file")
                .arg(&cert)
                .args(["--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &self.port.to_string()]);
        }
        let child = command
            .arg("--dir")
            .arg(self.dir.path())
            .args([
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {program:?} ({error}): install Debian's redis-server (`apt-get install redis-server`, as .ci/deps does) or set SSE_REDIS_SERVER")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.ping() {
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("redis-server exited at start: {status}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops Redis (SIGTERM, so it writes its append-only file) and waits
    /// for it to exit; the data stays for [`restart`](Self::restart).
    pub(crate) fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Only the process this test started, by its id.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("redis-server did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether Redis answers `PING` with `PONG` (not `LOADING`); over TLS,
    /// whether it accepts connections.
    fn ping(&self) -> bool {
        let Ok(mut socket) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls {
            return true;
        }
        let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
        if socket.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 64];
        matches!(socket.read(&mut reply), Ok(n) if reply[..n].starts_with(b"+PONG"))
    }

    /// Runs one command with `redis-cli`-free raw RESP and returns the raw
    /// reply (for the tests' own checks, such as `CONFIG SET`).
    pub(crate) fn command(&self, args: &[&str]) -> String {
        let mut socket = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to Redis");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        socket.write_all(request.as_bytes()).expect("send");
        let mut reply = [0u8; 4096];
        let n = socket.read(&mut reply).expect("reply");
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }
}

/// DER bytes as PEM.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
