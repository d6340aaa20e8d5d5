//! Idle streams (what each costs the hub, and how long one takes to open;
//! in clear text, over TLS, over HTTP/2) and churn (streams opened and
//! closed as fast as a few clients can, with the hub's descriptors and
//! memory watched for a leak).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::client::{self, SocketOptions};
use crate::fanout;
use crate::hubs::Hub;
use crate::system::{self, PROGRESS, Progress};
use crate::tls::{Http2Streams, TlsClient};

/// How long the hub is left alone before its memory is read.
const SETTLE: Duration = Duration::from_secs(2);

/// What holding idle streams cost.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdleOutcome {
    /// Hub RSS growth per stream, in bytes.
    pub(crate) rss_per_stream: f64,
    /// Kernel TCP buffer memory growth per stream (`/proc/net/sockstat`,
    /// machine-wide, both ends), in bytes.
    pub(crate) kernel_per_stream: f64,
    /// Kernel socket objects (slab: socket, inode, epoll entry) per
    /// stream, machine-wide, both ends; NaN where slabinfo is unreadable.
    pub(crate) slab_per_stream: f64,
    /// Time to open one stream (connect to response head), milliseconds.
    pub(crate) open_p50: f64,
    pub(crate) open_p99: f64,
    /// Streams opened per second, `fanout::OPEN_CONCURRENCY` at a time.
    pub(crate) open_rate: f64,
}

/// How idle streams reach the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// HTTP/1.1 in clear text, a connection per stream.
    Plain,
    /// HTTP/1.1 over TLS, a connection per stream.
    Tls,
    /// HTTP/2 over TLS, this many streams per connection.
    Http2(usize),
}

impl Transport {
    /// A short name, for figure ids and progress lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Plain => "idle",
            Self::Tls => "idle-tls",
            Self::Http2(_) => "idle-h2",
        }
    }

    /// The figure's title before its stream count.
    pub(crate) fn title(self) -> String {
        match self {
            Self::Plain => "idle".into(),
            Self::Tls => "idle, HTTP/1.1 over TLS".into(),
            Self::Http2(n) => format!("idle, HTTP/2 over TLS ({n} streams a connection)"),
        }
    }

    /// The chart's label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Plain => "HTTP/1.1",
            Self::Tls => "HTTP/1.1 + TLS",
            Self::Http2(_) => "HTTP/2 + TLS",
        }
    }
}

/// Idle streams held open, and how long each took to open.
struct Held {
    connections: Vec<Connection>,
    open_times: Vec<Duration>,
}

/// A connection held open (the TLS ones only for their drop, which closes
/// them).
enum Connection {
    Plain(TcpStream),
    Tls(#[expect(dead_code, reason = "held, not read")] Box<TlsStream<TcpStream>>),
    Http2(#[expect(dead_code, reason = "held, not read")] Http2Streams),
}

impl Held {
    /// Closes every connection: plain ones with a reset (no TIME_WAIT
    /// left behind when thousands go at once), the others as they drop.
    fn close(self) {
        for connection in self.connections {
            if let Connection::Plain(stream) = connection {
                client::close_with_reset(stream);
            }
        }
    }
}

/// Opens `count` streams on `channel` over `transport`,
/// `fanout::OPEN_CONCURRENCY` connections at a time.
async fn open(
    hub: &Hub,
    transport: Transport,
    channel: &str,
    count: usize,
) -> Result<Held, String> {
    let tls = || -> Result<TlsClient, String> {
        let certificate = hub.tls.as_ref().ok_or("the hub was started without TLS")?;
        TlsClient::new(certificate)
    };
    let addr = hub.addr;
    let mut held = Held {
        connections: Vec::new(),
        open_times: Vec::with_capacity(count),
    };
    match transport {
        Transport::Plain => {
            for open in fanout::open_many(&[addr], channel, count).await? {
                held.open_times.push(open.open_time);
                held.connections.push(Connection::Plain(open.stream));
            }
        }
        Transport::Tls => {
            let client = tls()?;
            let opened = fanout::open_all(
                0..count,
                "opening a TLS stream",
                |_| client.open_http1(addr, channel),
                |_| 1,
            )
            .await?;
            for (stream, time) in opened {
                held.open_times.push(time);
                held.connections.push(Connection::Tls(Box::new(stream)));
            }
        }
        Transport::Http2(per_connection) => {
            let client = tls()?;
            let per_connection = per_connection.max(1);
            let sizes = (0..count.div_ceil(per_connection))
                .map(|i| per_connection.min(count - i * per_connection));
            let opened = fanout::open_all(
                sizes,
                "opening HTTP/2 streams",
                |streams| client.open_http2(addr, channel, streams),
                Http2Streams::len,
            )
            .await?;
            for streams in opened {
                held.open_times.extend_from_slice(&streams.open_times);
                held.connections.push(Connection::Http2(streams));
            }
        }
    }
    Ok(held)
}

/// Opens `count` idle streams on one channel over `transport` and
/// measures what the hub grew by.
pub(crate) async fn idle(
    hub: &mut Hub,
    transport: Transport,
    count: usize,
) -> Result<IdleOutcome, String> {
    if count == 0 {
        return Err("no streams to open".into());
    }
    // One stream opened and closed first: lazily built state (the channel
    // table, the first connection's buffers) is not counted per stream.
    let channel = fanout::fresh_channel();
    open(hub, transport, &channel, 1).await?.close();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = hub.rss()?;
    let kernel_before = system::sockstat().map_err(|e| e.to_string())?;
    let slab_before = system::socket_slab_bytes();

    let start = Instant::now();
    let streams = open(hub, transport, &channel, count).await?;
    let open_rate = count as f64 / start.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    hub.check_alive()?;
    let rss_after = hub.rss()?;
    let kernel_after = system::sockstat().map_err(|e| e.to_string())?;
    let slab_after = system::socket_slab_bytes();

    let mut open_times: Vec<f64> = streams
        .open_times
        .iter()
        .map(|time| time.as_secs_f64() * 1e3)
        .collect();
    open_times.sort_by(f64::total_cmp);
    let at = |q: f64| open_times[((open_times.len() - 1) as f64 * q).round() as usize];
    let n = count as f64;
    let outcome = IdleOutcome {
        rss_per_stream: (rss_after as f64 - rss_before as f64) / n,
        kernel_per_stream: (kernel_after.mem_bytes as f64 - kernel_before.mem_bytes as f64) / n,
        slab_per_stream: match (slab_before, slab_after) {
            (Some(before), Some(after)) => (after as f64 - before as f64) / n,
            _ => f64::NAN,
        },
        open_p50: at(0.5),
        open_p99: at(0.99),
        open_rate,
    };
    streams.close();
    Ok(outcome)
}

/// What churn did to the hub.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ChurnOutcome {
    /// Streams opened (and closed) per second in the measured phase.
    pub(crate) rate: f64,
    pub(crate) errors: u64,
    /// Descriptors the hub holds after the measured phase, less those it
    /// held before it (both once it has caught up with the closes).
    pub(crate) fd_growth: f64,
    /// Hub RSS after the measured phase less before it, bytes.
    pub(crate) rss_growth: f64,
    /// How long the hub took, after the last close, to be back to its
    /// descriptor count (or the limit, if it was not).
    pub(crate) settle_s: f64,
}

/// How long to wait for a hub to notice closed streams.
const CHURN_SETTLE_LIMIT: Duration = Duration::from_secs(20);

/// Opens and closes streams from `workers` clients, first for `warm` (so
/// that pools and caches reach their size), then for `measure`.
pub(crate) async fn churn(
    hub: &mut Hub,
    workers: usize,
    warm: Duration,
    measure: Duration,
) -> Result<ChurnOutcome, String> {
    let idle_fds = hub.fds()?;
    churn_for(hub, workers, warm).await;
    let warm_settle = settle_fds(hub, idle_fds).await?;
    if warm_settle > 1.0 {
        eprintln!(
            "load: {} took {warm_settle:.1} s to close the warm-up's streams",
            hub.kind.name()
        );
    }
    let fds_before = hub.fds()?;
    let rss_before = hub.rss()?;
    let (opened, errors) = churn_for(hub, workers, measure).await;
    let settle_s = settle_fds(hub, fds_before).await?;
    hub.check_alive()?;
    Ok(ChurnOutcome {
        rate: opened as f64 / measure.as_secs_f64(),
        errors,
        fd_growth: hub.fds()? as f64 - fds_before as f64,
        rss_growth: hub.rss()? as f64 - rss_before as f64,
        settle_s,
    })
}

/// Waits until the hub holds at most `target` descriptors; returns how
/// long that took (the limit if it never did).
async fn settle_fds(hub: &Hub, target: u64) -> Result<f64, String> {
    let start = Instant::now();
    while start.elapsed() < CHURN_SETTLE_LIMIT {
        if hub.fds()? <= target {
            return Ok(start.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(CHURN_SETTLE_LIMIT.as_secs_f64())
}

/// Each worker: open a stream, read its head, close it (FIN, as a browser
/// tab does), again. Returns streams opened and errors.
async fn churn_for(hub: &Hub, workers: usize, duration: Duration) -> (u64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let channel = fanout::fresh_channel();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (stop, opened, errors, channel, addr) = (
                stop.clone(),
                opened.clone(),
                errors.clone(),
                channel.clone(),
                hub.addr,
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match client::open_stream(addr, &channel, SocketOptions::default()).await {
                        Ok(open) => {
                            drop(open);
                            opened.fetch_add(1, Ordering::Relaxed);
                            Progress::add(&PROGRESS.opened, 1);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            Progress::add(&PROGRESS.errors, 1);
                            // A refused connection must not spin.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    (
        opened.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
    )
}
