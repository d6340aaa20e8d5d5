//! The hubs under test, each a child process on a free loopback port: our
//! `sse serve`, nginx with the nchan module, the Node hub in
//! `benches/load/hub.js`, the floors (this binary in `--floor-server`
//! mode), and the `redis-server` our hubs share. Every child is killed, by
//! its process id, when its guard is dropped (panics included).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::system;
use crate::tls::Certificate;

/// How long a hub may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A kind of hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub(crate) enum HubKind {
    /// `sse serve`.
    Ours,
    /// nginx, one process, with the nchan module.
    Nchan,
    /// `benches/load/hub.js` on Node.
    Node,
    /// A tokio program that accepts sockets and keeps them in a `Vec`.
    FloorVec,
    /// A tokio program with a task per socket that read a 1 KiB head.
    FloorTask,
    /// A bare hyper 1 HTTP/1.1 connection per socket, serving a body that
    /// never yields.
    FloorHyper,
}

impl HubKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Nchan => "nchan",
            Self::Node => "node",
            Self::FloorVec => "floor-vec",
            Self::FloorTask => "floor-task",
            Self::FloorHyper => "floor-hyper",
        }
    }
}

/// Kills its child, by process id, and waits for it, when dropped.
pub(crate) struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    fn new(child: Child) -> Self {
        Self { child }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child has exited (and how).
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(error.to_string()),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this pid only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the benchmark found on this machine.
#[derive(Clone, Debug)]
pub(crate) struct Tools {
    pub(crate) sse: Option<PathBuf>,
    /// `sse serve --help`, to find the flags this build has.
    pub(crate) sse_help: String,
    pub(crate) sse_version: String,
    /// nginx and the nchan module's path.
    pub(crate) nginx: Option<(PathBuf, PathBuf)>,
    pub(crate) nginx_version: String,
    /// The nchan package's version, where dpkg knows it.
    pub(crate) nchan_version: String,
    pub(crate) node: Option<PathBuf>,
    pub(crate) node_version: String,
    pub(crate) hub_js: PathBuf,
    pub(crate) redis_server: Option<PathBuf>,
    pub(crate) redis_version: String,
    pub(crate) this: PathBuf,
}

/// Where the nchan module is on Debian and Ubuntu (`libnginx-mod-nchan`).
const NCHAN_MODULES: [&str; 2] = [
    "/usr/lib/nginx/modules/ngx_nchan_module.so",
    "/usr/share/nginx/modules/ngx_nchan_module.so",
];

impl Tools {
    pub(crate) fn discover(sse: Option<PathBuf>) -> Self {
        let nginx = find_program("nginx").and_then(|nginx| {
            let module = NCHAN_MODULES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())?;
            Some((nginx, module))
        });
        let nginx_version = nginx
            .as_ref()
            .map(|(nginx, _)| version_of(nginx, "-v").replace("nginx version: ", ""))
            .unwrap_or_default();
        let nchan_version = nginx
            .as_ref()
            .map(|_| {
                output_of(
                    Path::new("dpkg-query"),
                    &["-W", "-f=${Version}", "libnginx-mod-nchan"],
                )
            })
            .filter(|version| !version.contains("no packages") && !version.is_empty())
            .unwrap_or_default();
        let node = find_program("node");
        let node_version = node
            .as_ref()
            .map(|node| version_of(node, "--version"))
            .unwrap_or_default();
        let redis_server = std::env::var_os("SSE_REDIS_SERVER")
            .map(PathBuf::from)
            .or_else(|| find_program("redis-server"));
        let redis_version = redis_server
            .as_ref()
            .map(|redis| version_of(redis, "--version"))
            .unwrap_or_default();
        let (sse_help, sse_version) = match &sse {
            Some(sse) => (
                output_of(sse, &["serve", "--help"]),
                version_of(sse, "--version"),
            ),
            None => (String::new(), String::new()),
        };
        Self {
            sse,
            sse_help,
            sse_version,
            nginx,
            nginx_version,
            nchan_version,
            node,
            node_version,
            hub_js: Path::new(env!("CARGO_MANIFEST_DIR")).join("load/hub.js"),
            redis_server,
            redis_version,
            this: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("load")),
        }
    }

    /// Whether this kind of hub can run here.
    pub(crate) fn has(&self, kind: HubKind) -> bool {
        match kind {
            HubKind::Ours => self.sse.is_some(),
            HubKind::Nchan => self.nginx.is_some(),
            HubKind::Node => self.node.is_some() && self.hub_js.exists(),
            HubKind::FloorVec | HubKind::FloorTask | HubKind::FloorHyper => true,
        }
    }

    /// The placeholder of one of `sse serve`'s flags, when this build has it
    /// (`--write-timeout <SECONDS>` gives `Some("SECONDS")`).
    pub(crate) fn sse_flag(&self, flag: &str) -> Option<String> {
        self.sse_help.lines().find_map(|line| {
            let at = line.find(flag)?;
            let rest = &line[at + flag.len()..];
            if !(rest.starts_with(' ') || rest.starts_with('=') || rest.is_empty()) {
                return None;
            }
            let rest = rest.trim_start_matches([' ', '=']);
            Some(
                rest.strip_prefix('<')
                    .and_then(|r| r.split_once('>'))
                    .map(|(name, _)| name.to_string())
                    .unwrap_or_default(),
            )
        })
    }
}

/// Asks the kernel to kill the child when the thread that started it
/// ends: a benchmark stopped by a signal, where no `Drop` runs, leaves no
/// hub behind either.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes one async-signal-safe system call.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn output_of(program: &Path, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map(|out| {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            text
        })
        .unwrap_or_default()
}

fn version_of(program: &Path, flag: &str) -> String {
    output_of(program, &[flag])
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A running hub.
pub(crate) struct Hub {
    pub(crate) kind: HubKind,
    pub(crate) addr: SocketAddr,
    /// The certificate it serves, when it serves TLS.
    pub(crate) tls: Option<Arc<Certificate>>,
    child: ChildGuard,
    dir: tempfile::TempDir,
}

/// How to start a hub.
#[derive(Clone, Debug, Default)]
pub(crate) struct HubOptions {
    /// Extra arguments for `sse serve`.
    pub(crate) ours_args: Vec<String>,
    /// A Redis URL and key prefix (ours only).
    pub(crate) redis: Option<(String, String)>,
    /// Serve HTTPS (HTTP/2 through ALPN, HTTP/1.1 as the fallback) with
    /// this certificate (ours and nchan).
    pub(crate) tls: Option<Arc<Certificate>>,
}

impl Hub {
    pub(crate) fn start(
        tools: &Tools,
        kind: HubKind,
        options: &HubOptions,
    ) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("load-{}-", kind.name()))
            .tempdir()
            .map_err(|error| format!("a temporary directory: {error}"))?;
        let stderr = std::fs::File::create(dir.path().join("stderr.log"))
            .map_err(|error| format!("a log file: {error}"))?;
        let mut command;
        let mut announces = true;
        let mut port = 0;
        let tls_files = match &options.tls {
            Some(certificate) => Some(write_certificate(dir.path(), certificate)?),
            None => None,
        };
        if tls_files.is_some() && !matches!(kind, HubKind::Ours | HubKind::Nchan) {
            return Err(format!("{}: not measured over TLS", kind.name()));
        }
        match kind {
            HubKind::Ours => {
                let sse = tools.sse.as_ref().ok_or("no sse binary")?;
                command = Command::new(sse);
                command.args(["serve", "--host", "127.0.0.1", "--port", "0"]);
                command.args(["--max-connections", "20000", "--log-level", "warn"]);
                // The load comes from eight loopback addresses: the
                // per-client caps meant for the internet would refuse it.
                for cap in [
                    "--max-streams-per-client",
                    "--max-pending",
                    "--max-pending-per-client",
                ] {
                    command.args([cap, "20000"]);
                }
                if let Some((url, prefix)) = &options.redis {
                    command.args(["--redis", url, "--redis-prefix", prefix]);
                }
                if let Some((cert, key)) = &tls_files {
                    command.arg("--tls-cert").arg(cert);
                    command.arg("--tls-key").arg(key);
                }
                command.args(&options.ours_args);
                // Settings from the caller's environment would change what
                // is measured.
                for (name, _) in std::env::vars_os() {
                    if name.to_string_lossy().starts_with("SSE_") {
                        command.env_remove(name);
                    }
                }
            }
            HubKind::Nchan => {
                let (nginx, module) = tools.nginx.as_ref().ok_or("no nginx with nchan")?;
                port = free_port()?;
                let config = nginx_config(dir.path(), module, port, tls_files.as_ref());
                std::fs::write(dir.path().join("nginx.conf"), config)
                    .map_err(|error| format!("nginx.conf: {error}"))?;
                command = Command::new(nginx);
                command.arg("-p").arg(dir.path());
                command.arg("-c").arg(dir.path().join("nginx.conf"));
                command.args(["-g", "daemon off; master_process off;"]);
                announces = false;
            }
            HubKind::Node => {
                let node = tools.node.as_ref().ok_or("no node")?;
                command = Command::new(node);
                command.arg(&tools.hub_js).arg("0");
            }
            HubKind::FloorVec | HubKind::FloorTask | HubKind::FloorHyper => {
                command = Command::new(&tools.this);
                command.args(["--floor-server", kind.name()]);
            }
        }
        command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(if announces {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(stderr);
        die_with_parent(&mut command);
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", kind.name()))?;
        let stdout = child.stdout.take();
        let mut child = ChildGuard::new(child);
        let addr = match stdout {
            Some(stdout) => read_address(stdout)
                .map_err(|error| failed(kind, &mut child, dir.path(), &error))?,
            None => SocketAddr::from(([127, 0, 0, 1], port)),
        };
        wait_until_listening(addr, &mut child)
            .map_err(|error| failed(kind, &mut child, dir.path(), &error))?;
        Ok(Self {
            kind,
            addr,
            tls: options.tls.clone(),
            child,
            dir,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.pid()
    }

    pub(crate) fn rss(&self) -> Result<u64, String> {
        system::rss_bytes(self.pid()).map_err(|error| format!("{} RSS: {error}", self.kind.name()))
    }

    /// CPU seconds the hub has used so far.
    pub(crate) fn cpu(&self) -> Result<f64, String> {
        system::cpu_seconds(self.pid())
            .map_err(|error| format!("{} CPU: {error}", self.kind.name()))
    }

    pub(crate) fn fds(&self) -> Result<u64, String> {
        system::fd_count(self.pid()).map_err(|error| format!("{} fds: {error}", self.kind.name()))
    }

    /// An error if the hub has exited, with the end of its log.
    pub(crate) fn check_alive(&mut self) -> Result<(), String> {
        match self.child.exited() {
            None => Ok(()),
            Some(status) => Err(failed(
                self.kind,
                &mut self.child,
                self.dir.path(),
                &format!("exited during the run ({status})"),
            )),
        }
    }
}

fn failed(kind: HubKind, child: &mut ChildGuard, dir: &Path, error: &str) -> String {
    let mut message = format!("{} hub: {error}", kind.name());
    if let Some(status) = child.exited() {
        let _ = write!(message, " (exited: {status})");
    }
    for log in ["stderr.log", "error.log"] {
        if let Ok(text) = std::fs::read_to_string(dir.join(log)) {
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(10)..] {
                let _ = write!(message, "\n  {log}: {line}");
            }
        }
    }
    message
}

/// Writes a certificate and its key into `dir` as PEM files; returns
/// their paths.
fn write_certificate(dir: &Path, certificate: &Certificate) -> Result<(PathBuf, PathBuf), String> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &certificate.cert_pem)
        .and_then(|()| std::fs::write(&key, &certificate.key_pem))
        .map_err(|error| format!("writing the test certificate: {error}"))?;
    Ok((cert, key))
}

/// Reads the first line of a hub's stdout (`... listening on http://ADDR`),
/// then drains the rest in a thread so that the hub never blocks on it.
fn read_address(stdout: std::process::ChildStdout) -> Result<SocketAddr, String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read = reader.read_line(&mut line).map(|_| line);
        let _ = sender.send(read);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = receiver
        .recv_timeout(START_TIMEOUT)
        .map_err(|_| "did not say where it listens".to_string())?
        .map_err(|error| format!("stdout: {error}"))?;
    line.split_whitespace()
        .find_map(|word| {
            word.strip_prefix("http://")
                .or_else(|| word.strip_prefix("https://"))
        })
        .and_then(|addr| addr.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("no address in its first line: {line:?}"))
}

fn wait_until_listening(addr: SocketAddr, child: &mut ChildGuard) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.exited() {
            return Err(format!("exited before listening ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("not listening on {addr}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port that was free a moment ago, for servers that cannot be told to
/// pick one and say which (nginx, redis-server).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|error| format!("no free port: {error}"))
}

/// nginx as one process (no master), its pid file, logs and temporary
/// files in `dir`; nchan's subscriber (EventSource) and publisher
/// locations with the channel from `?channel=`; with `tls`, HTTPS with
/// HTTP/2 through ALPN.
fn nginx_config(dir: &Path, module: &Path, port: u16, tls: Option<&(PathBuf, PathBuf)>) -> String {
    let listen = match tls {
        Some((cert, key)) => format!(
            "listen 127.0.0.1:{port} ssl http2 backlog=4096;
        # TLS 1.3 as ours and as nginx's default from 1.23.4 (1.22's
        # default stops at TLS 1.2, whose reusable session tickets make
        # its handshakes look cheaper than a like-for-like comparison).
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate {};
        ssl_certificate_key {};",
            cert.display(),
            key.display()
        ),
        None => format!("listen 127.0.0.1:{port} backlog=4096;"),
    };
    let dir = dir.display();
    let module = module.display();
    format!(
        "load_module {module};
worker_processes 1;
worker_rlimit_nofile 20000;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 20000;
}}
http {{
    # Streams and publishes are not logged: a log line per publish would
    # be a cost the other hubs do not pay.
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        {listen}
        location = /events {{
            access_log off;
            nchan_subscriber eventsource;
            nchan_channel_id $arg_channel;
            nchan_subscriber_first_message newest;
        }}
        location = /publish {{
            access_log off;
            nchan_publisher;
            nchan_channel_id $arg_channel;
        }}
        location = /health {{
            return 200 ok;
        }}
    }}
}}
"
    )
}

/// The benchmark's own `redis-server`, on a free port, its files in a
/// temporary directory, as a production Redis would run (append-only file,
/// fsync every second).
pub(crate) struct RedisServer {
    child: ChildGuard,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    pub(crate) fn start(tools: &Tools) -> Result<Self, String> {
        let program = tools.redis_server.as_ref().ok_or("no redis-server")?;
        let port = free_port()?;
        let dir = tempfile::tempdir().map_err(|error| format!("a temporary directory: {error}"))?;
        let mut command = Command::new(program);
        die_with_parent(&mut command);
        let child = command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(dir.path())
            .args(["--appendonly", "yes", "--save", "", "--loglevel", "warning"])
            .args(["--maxclients", "1000"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start redis-server: {error}"))?;
        let mut child = ChildGuard::new(child);
        wait_until_listening(SocketAddr::from(([127, 0, 0, 1], port)), &mut child)
            .map_err(|error| format!("redis-server: {error}"))?;
        Ok(Self {
            child,
            port,
            _dir: dir,
        })
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// CPU seconds redis-server has used so far.
    pub(crate) fn cpu(&self) -> Result<f64, String> {
        system::cpu_seconds(self.child.pid()).map_err(|error| format!("redis-server CPU: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_found_in_help() {
        let tools = Tools {
            sse_help:
                "  --keepalive <SECONDS>  Seconds\n  --write-timeout <MS>  x\n  --ids  Give\n"
                    .into(),
            ..Tools::discover(None)
        };
        assert_eq!(tools.sse_flag("--write-timeout").as_deref(), Some("MS"));
        assert_eq!(tools.sse_flag("--keepalive").as_deref(), Some("SECONDS"));
        assert_eq!(tools.sse_flag("--ids").as_deref(), Some(""));
        assert_eq!(tools.sse_flag("--write"), None);
    }
}
