//! A scripted HTTP/1.1 server on 127.0.0.1 for the client and reader
//! suites.
//!
//! It runs on std threads with blocking sockets, so every runtime's tests
//! share it unchanged. A script says, for each connection, what to write,
//! in which pieces, when to pause, and whether to stall; the connection is
//! closed after the last step. Every request is recorded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Which connection it came on, from 0.
    pub conn: usize,
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub path: String,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes of it).
    pub body: Vec<u8>,
    /// When its head was read.
    pub at: Instant,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One step of a connection's script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes in one write.
    Write(Vec<u8>),
    /// Write these bytes one at a time, pausing between writes so that
    /// each is likely to arrive on its own.
    Trickle(Vec<u8>),
    /// Wait.
    Pause(Duration),
    /// Say nothing more, keeping the connection open, until the server is
    /// dropped.
    Stall,
}

/// Writes `bytes` in one step.
pub fn write(bytes: impl AsRef<[u8]>) -> Step {
    Step::Write(bytes.as_ref().to_vec())
}

/// The head of a `200` event-stream response whose body runs until the
/// connection closes.
pub fn stream_head() -> Step {
    write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\r\n")
}

/// A whole response with a `Content-Length` body, and `Connection: close`:
/// the server answers one request per connection and then closes it, so a
/// client must not keep it for its next request (one that did would race
/// the close and see the connection reset).
pub fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Step {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    write(format!("{head}\r\n{body}"))
}

type Script = dyn Fn(usize, &Request) -> Vec<Step> + Send + Sync;

#[derive(Default)]
struct Log {
    requests: Vec<Request>,
    /// When each connection was closed by the server, by connection.
    closed: Vec<(usize, Instant)>,
}

/// The server; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves plain HTTP; `script(conn, request)` says what to answer.
    pub fn start(script: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static) -> Self {
        Self::serve(Arc::new(script), |stream| Box::new(stream))
    }

    /// Serves HTTPS with `config`.
    #[cfg(feature = "rustls")]
    pub fn start_tls(
        config: Arc<rustls::ServerConfig>,
        script: impl Fn(usize, &Request) -> Vec<Step> + Send + Sync + 'static,
    ) -> Self {
        Self::serve(Arc::new(script), move |stream| {
            let conn = rustls::ServerConnection::new(Arc::clone(&config)).expect("TLS server");
            Box::new(rustls::StreamOwned::new(conn, stream))
        })
    }

    fn serve(
        script: Arc<Script>,
        wrap: impl Fn(TcpStream) -> Box<dyn ReadWrite> + Send + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (Arc::clone(&log), Arc::clone(&stop));
        thread::spawn(move || {
            for (conn, stream) in listener.incoming().enumerate() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                stream.set_nodelay(true).ok();
                let (script, log, stop) =
                    (Arc::clone(&script), Arc::clone(&log2), Arc::clone(&stop2));
                let stream = wrap(stream);
                thread::spawn(move || handle(conn, stream, &*script, &log, &stop));
            }
        });
        Self { addr, log, stop }
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests so far, in the order they were read.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().requests.clone()
    }

    /// When the server closed connection `conn`, if it has.
    pub fn closed_at(&self, conn: usize) -> Option<Instant> {
        let log = self.log.lock().unwrap();
        log.closed
            .iter()
            .find(|(c, _)| *c == conn)
            .map(|(_, at)| *at)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A plain TCP server for one connection: no HTTP, just `steps`.
pub fn raw(steps: Vec<Step>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            stream.set_nodelay(true).ok();
            run(&mut stream, steps, &AtomicBool::new(true));
        }
    });
    addr
}

/// A connection: plain TCP or TLS.
trait ReadWrite: Read + Write + Send {
    /// Ends the stream cleanly (for TLS, with a `close_notify`).
    fn close(&mut self) {}
}

impl ReadWrite for TcpStream {}

#[cfg(feature = "rustls")]
impl ReadWrite for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
    }
}

fn handle(
    conn: usize,
    stream: Box<dyn ReadWrite>,
    script: &Script,
    log: &Mutex<Log>,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(conn, &mut reader) else {
        return;
    };
    log.lock().unwrap().requests.push(request.clone());
    let mut stream = reader.into_inner();
    run(&mut stream, script(conn, &request), stop);
    stream.close();
    log.lock().unwrap().closed.push((conn, Instant::now()));
}

/// Plays `steps` on `stream`, until one fails.
fn run(stream: &mut impl Write, steps: Vec<Step>, stop: &AtomicBool) {
    for step in steps {
        let written = match step {
            Step::Write(bytes) => stream.write_all(&bytes).and_then(|()| stream.flush()),
            Step::Trickle(bytes) => bytes.iter().try_for_each(|byte| {
                stream.write_all(&[*byte])?;
                stream.flush()?;
                thread::sleep(Duration::from_millis(1));
                Ok(())
            }),
            Step::Pause(time) => {
                thread::sleep(time);
                Ok(())
            }
            Step::Stall => {
                while !stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(10));
                }
                Ok(())
            }
        };
        if written.is_err() {
            break;
        }
    }
}

fn read_request(conn: usize, reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut request = Request {
        conn,
        method,
        path,
        headers,
        body: Vec::new(),
        at: Instant::now(),
    };
    let len = request
        .header("content-length")
        .map_or(Ok(0), str::parse)
        .ok()?;
    request.body = vec![0; len];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}
