//! `sse serve` as users run it: the real binary on a free port of
//! 127.0.0.1 (the test kit's `process::Server`, with its raw HTTP/1.1
//! client), and `sse`'s other commands as processes.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) use sse_testkit::process::Server;

/// A running `sse serve`: the test kit's [`Server`] with the real binary.
pub(crate) struct Hub(Server);

impl core::ops::Deref for Hub {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.0
    }
}

impl Hub {
    /// Starts `sse serve --port 0` with `args` and waits until it listens.
    pub(crate) fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// [`start`](Self::start) with environment variables set for it.
    pub(crate) fn start_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sse"));
        command
            .args(["serve", "--port", "0", "--log-level", "warn"])
            .args(args)
            .envs(env.iter().copied());
        Self(Server::start(command, "sse: listening on http://"))
    }

    /// Starts `sse serve --port 0` over TLS with `args` (which give the
    /// certificate) and waits until it listens; the raw client of the
    /// test kit speaks only cleartext, so talk to it with curl or a
    /// browser.
    pub(crate) fn start_tls(args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sse"));
        command
            .args(["serve", "--port", "0", "--log-level", "warn"])
            .args(args);
        Self(Server::start(command, "sse: listening on https://"))
    }

    /// Sends SIGINT (Ctrl-C) and waits for the hub to exit.
    pub(crate) fn interrupt(self) -> std::process::ExitStatus {
        self.0.interrupt()
    }

    /// Sends `signal` (`-TERM`, say) and waits up to 20 s for the hub to
    /// exit.
    pub(crate) fn signal(self, signal: &str) -> std::process::ExitStatus {
        self.0.signal(signal)
    }

    /// Kills the hub at once, as `kill -9` does (SIGKILL: no shutdown, no
    /// flush), and waits until it is gone.
    pub(crate) fn kill(self) {
        self.0.kill();
    }
}

/// Runs `sse` with `args` and returns its output.
pub(crate) fn sse(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sse"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sse");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("sse runs")
}

/// Starts `sse` with `args` in the background, output piped.
pub(crate) fn spawn_sse(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sse"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sse")
}

/// Waits for a child to exit within `timeout` and returns its output.
pub(crate) fn finish(child: Child, timeout: Duration) -> std::process::Output {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(output) => output.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("sse (pid {id}) did not finish within {timeout:?}");
        }
    }
}
