//! A TCP proxy that can cut a node off from Redis while the others keep
//! their link: every connection through it is closed by [`Proxy::cut`], and
//! new ones are refused (accepted, then closed) until [`Proxy::restore`].
//! It can also hold back what Redis answers ([`Proxy::delay`]), to make a
//! node lag behind the others, or hold back only what it answers a node's
//! reader ([`Proxy::stall_readers`]: the connections that sent `XREAD`),
//! leaving its commands alone: a reader that is stuck while the link is up.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy to one upstream address.
pub(crate) struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    /// Milliseconds each chunk from upstream is held back.
    delay: Arc<AtomicU64>,
    /// Hold back what Redis answers the readers' connections.
    stalled: Arc<AtomicBool>,
    /// Bumped by each cut; connections end when it changes.
    cuts: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy on a free port of 127.0.0.1 to `upstream`.
    pub(crate) async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let open = Arc::new(AtomicBool::new(true));
        let delay = Arc::new(AtomicU64::new(0));
        let stalled = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let accept_open = Arc::clone(&open);
        let accept_delay = Arc::clone(&delay);
        let accept_stalled = Arc::clone(&stalled);
        let accept_cuts = cuts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !accept_open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = accept_cuts.subscribe();
                let upstream = upstream.clone();
                let delay = Arc::clone(&accept_delay);
                let stalled = Arc::clone(&accept_stalled);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = client.split();
                    let (mut from_server, mut to_server) = tokio::io::split(server);
                    // Whether this connection is a reader's (it sent XREAD).
                    let reader = AtomicBool::new(false);
                    let up = async {
                        let mut buf = vec![0u8; 64 << 10];
                        loop {
                            let n = from_client.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<(), std::io::Error>(());
                            }
                            if buf[..n]
                                .windows(5)
                                .any(|w| w.eq_ignore_ascii_case(b"XREAD"))
                            {
                                reader.store(true, Ordering::SeqCst);
                            }
                            to_server.write_all(&buf[..n]).await?;
                        }
                    };
                    let down = async {
                        let mut buf = vec![0u8; 64 << 10];
                        loop {
                            let n = from_server.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<(), std::io::Error>(());
                            }
                            let held = delay.load(Ordering::SeqCst);
                            if held > 0 {
                                tokio::time::sleep(Duration::from_millis(held)).await;
                            }
                            while reader.load(Ordering::SeqCst) && stalled.load(Ordering::SeqCst) {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            to_client.write_all(&buf[..n]).await?;
                        }
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            open,
            delay,
            stalled,
            cuts,
            task,
        }
    }

    /// `redis://127.0.0.1:port`, through the proxy.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Closes every connection and refuses new ones.
    pub(crate) fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Holds back each chunk Redis sends by `delay` from now on.
    pub(crate) fn delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay.store(millis, Ordering::SeqCst);
    }

    /// Holds back everything Redis answers the readers' connections (those
    /// that sent `XREAD`) until [`resume_readers`](Self::resume_readers);
    /// other connections flow.
    pub(crate) fn stall_readers(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Lets what was held back for the readers through.
    pub(crate) fn resume_readers(&self) {
        self.stalled.store(false, Ordering::SeqCst);
    }

    /// Lets connections through again.
    pub(crate) fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
