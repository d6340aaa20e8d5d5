//! The scenarios: which hubs start with which flags, what each run
//! measures, and which figure each result becomes. Runs are interleaved
//! (run 1 on every hub, then run 2, ...) so that a noisy minute on the
//! shared machine does not land on one hub only; every run gets fresh hub
//! processes.

mod cases;
mod output;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::fanout::{self, FanoutPlan};
use crate::hubs::{Hub, HubKind, HubOptions, Tools};
use crate::idle::{self, Transport};
use crate::report::{Goal, Report, Spec, Unit};
use crate::system::{self, PROGRESS};
use crate::tls::Certificate;

use self::cases::{paced_part, redis_part, stalled_part, unpaced_part};
use self::output::finish;

/// Options shared by every scenario.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) runs: usize,
    pub(crate) hubs: Vec<HubKind>,
    pub(crate) hub_args: Vec<String>,
    pub(crate) streams: Vec<usize>,
    pub(crate) quick: bool,
    pub(crate) publishers: usize,
    /// Where to write the JSON and the SVG, if anywhere.
    pub(crate) write: Option<PathBuf>,
}

impl Settings {
    /// `full` normally, `quick` with `--quick`.
    fn size<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// A part of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Idle,
    Paced,
    Unpaced,
    Stalled,
    Churn,
    Redis,
    /// Idle streams over TLS, HTTP/1.1 and HTTP/2.
    Tls,
}

impl Part {
    pub(crate) const ALL: [Self; 7] = [
        Self::Idle,
        Self::Paced,
        Self::Unpaced,
        Self::Stalled,
        Self::Churn,
        Self::Redis,
        Self::Tls,
    ];
}

/// Streams per HTTP/2 connection in the idle figures over HTTP/2 (below
/// the 128 nginx allows by default and the hub's 200).
const HTTP2_STREAMS_PER_CONNECTION: usize = 100;

/// Our queue per subscriber in the fan-out scenarios: the peers buffer
/// without limit, so ours must not cut a subscriber the others keep.
const FANOUT_QUEUE: &str = "16777216";

/// Our hub, nchan and Node side by side: the parts asked for, one table.
pub(crate) async fn comparison(
    tools: &Tools,
    settings: &Settings,
    name: &str,
    parts: &[Part],
) -> Result<(), String> {
    let mut hubs = Vec::new();
    let mut report = Report::new(settings.hubs.clone(), HubKind::Nchan);
    for &kind in &settings.hubs {
        if tools.has(kind) {
            hubs.push(kind);
        } else {
            report.note(missing(kind));
        }
    }
    if hubs.is_empty() {
        return Err("none of the hubs asked for is installed".into());
    }
    let load_before = system::load_average();
    for &part in parts {
        match part {
            Part::Idle => idle_part(tools, settings, &hubs, &mut report).await,
            Part::Paced => paced_part(tools, settings, &hubs, &mut report).await,
            Part::Unpaced => unpaced_part(tools, settings, &hubs, &mut report).await,
            Part::Stalled => stalled_part(tools, settings, &hubs, &mut report).await,
            Part::Churn => churn_part(tools, settings, &hubs, &mut report).await,
            Part::Redis => redis_part(tools, settings, &mut report).await,
            Part::Tls => tls_part(tools, settings, &hubs, &mut report).await,
        }
    }
    finish(tools, settings, name, &report, load_before)
}

fn missing(kind: HubKind) -> String {
    match kind {
        HubKind::Nchan => "nchan: not measured, nginx or its nchan module is not installed \
            (Debian: apt-get install nginx-light libnginx-mod-nchan)"
            .into(),
        HubKind::Node => "node: not measured, `node` is not on the PATH".into(),
        other => format!("{}: not available", other.name()),
    }
}

/// Starts a hub for one run; a failure becomes a note and skips the run.
fn start(
    tools: &Tools,
    kind: HubKind,
    options: &HubOptions,
    report: &mut Report,
    what: &str,
) -> Option<Hub> {
    match Hub::start(tools, kind, options) {
        Ok(hub) => Some(hub),
        Err(error) => {
            eprintln!("load: {what}: {error}");
            report.note(format!("{what}: {error}"));
            None
        }
    }
}

fn options(settings: &Settings, extra: &[&str]) -> HubOptions {
    let mut ours_args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    ours_args.extend(settings.hub_args.iter().cloned());
    HubOptions {
        ours_args,
        ..HubOptions::default()
    }
}

fn short(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

async fn idle_part(tools: &Tools, settings: &Settings, hubs: &[HubKind], report: &mut Report) {
    let counts = if settings.streams.is_empty() {
        settings.size(vec![10_000, 18_000], vec![200, 500])
    } else {
        settings.streams.clone()
    };
    let options = options(settings, &[]);
    for &n in &counts {
        for run in 1..=settings.runs {
            for &kind in hubs {
                let what = format!("idle {} streams, {} run {run}", short(n), kind.name());
                PROGRESS.start(what.clone());
                let Some(mut hub) = start(tools, kind, &options, report, &what) else {
                    continue;
                };
                match idle::idle(&mut hub, Transport::Plain, n).await {
                    Ok(outcome) => record_idle(
                        report,
                        kind,
                        Transport::Plain,
                        n,
                        &outcome,
                        "Idle streams: hub memory per stream",
                    ),
                    Err(error) => report.note(format!("{what}: {error}")),
                }
            }
        }
    }
}

/// Idle streams over TLS: HTTP/1.1 (a connection per stream) and HTTP/2
/// (`HTTP2_STREAMS_PER_CONNECTION` streams per connection), each on fresh
/// hubs that serve HTTPS with a certificate made for the run. Reported
/// apart from the clear-text figures, with no goal of their own.
async fn tls_part(tools: &Tools, settings: &Settings, hubs: &[HubKind], report: &mut Report) {
    let counts = if settings.streams.is_empty() {
        settings.size(vec![10_000], vec![200])
    } else {
        settings.streams.clone()
    };
    let certificate = match Certificate::generate() {
        Ok(certificate) => Arc::new(certificate),
        Err(error) => {
            report.note(format!("tls: {error}"));
            return;
        }
    };
    let options = HubOptions {
        tls: Some(certificate),
        ..options(settings, &[])
    };
    let transports = [
        Transport::Tls,
        Transport::Http2(HTTP2_STREAMS_PER_CONNECTION),
    ];
    let hubs: Vec<HubKind> = hubs
        .iter()
        .copied()
        .filter(|kind| {
            let served = matches!(kind, HubKind::Ours | HubKind::Nchan);
            if !served {
                report.note(format!("{}: not measured over TLS", kind.name()));
            }
            served
        })
        .collect();
    for &n in &counts {
        for transport in transports {
            for run in 1..=settings.runs {
                for &kind in &hubs {
                    let what = format!(
                        "{} {} streams, {} run {run}",
                        transport.name(),
                        short(n),
                        kind.name()
                    );
                    PROGRESS.start(what.clone());
                    let Some(mut hub) = start(tools, kind, &options, report, &what) else {
                        continue;
                    };
                    match idle::idle(&mut hub, transport, n).await {
                        Ok(outcome) => record_idle(
                            report,
                            kind,
                            transport,
                            n,
                            &outcome,
                            "Idle streams over TLS: hub memory per stream",
                        ),
                        Err(error) => report.note(format!("{what}: {error}")),
                    }
                }
            }
        }
    }
}

fn record_idle(
    report: &mut Report,
    kind: HubKind,
    transport: Transport,
    n: usize,
    outcome: &idle::IdleOutcome,
    panel: &str,
) {
    let k = short(n);
    // The clear-text figures keep their names from before TLS was measured.
    let (id, title) = match transport {
        Transport::Plain => (format!("idle-{n}"), format!("idle, {k} streams")),
        other => (
            format!("{}-{n}", other.name()),
            format!("{}, {k} streams", other.title()),
        ),
    };
    let memory = Spec::new(
        format!("{id}-memory"),
        format!("{title}: hub memory per stream"),
        Unit::Bytes,
    );
    let memory = match transport {
        Transport::Plain => memory.with_goal(
            Goal::AtMost(2048.0),
            "≤ 2 KiB (required: ≤ 4 KiB and ≤ ½ nchan)",
        ),
        _ => memory,
    }
    .with_panel(
        panel,
        false,
        match transport {
            Transport::Plain => format!("{k} streams"),
            other => format!("{} {k}", other.label()),
        },
    );
    report.add(&memory, kind, outcome.rss_per_stream);
    let kernel = Spec::new(
        format!("{id}-kernel"),
        format!("{title}: kernel TCP buffers per stream, both ends"),
        Unit::Bytes,
    );
    report.add(&kernel, kind, outcome.kernel_per_stream);
    let slab = Spec::new(
        format!("{id}-slab"),
        format!("{title}: kernel socket objects per stream, both ends"),
        Unit::Bytes,
    );
    report.add(&slab, kind, outcome.slab_per_stream);
    let p50 = Spec::new(
        format!("{id}-open-p50"),
        format!("{title}: open time p50"),
        Unit::Millis,
    );
    report.add(&p50, kind, outcome.open_p50);
    let p99 = Spec::new(
        format!("{id}-open-p99"),
        format!("{title}: open time p99"),
        Unit::Millis,
    );
    report.add(&p99, kind, outcome.open_p99);
    let rate = Spec::new(
        format!("{id}-open-rate"),
        format!(
            "{title}: opened per second ({} connections at a time)",
            fanout::OPEN_CONCURRENCY
        ),
        Unit::PerSecond,
    );
    report.add(&rate, kind, outcome.open_rate);
}

async fn churn_part(tools: &Tools, settings: &Settings, hubs: &[HubKind], report: &mut Report) {
    let options = options(settings, &[]);
    let workers = settings.size(32, 8);
    let warm = Duration::from_secs(settings.size(3, 1));
    let measure = Duration::from_secs(settings.size(6, 2));
    for run in 1..=settings.runs {
        for &kind in hubs {
            let what = format!("churn ({workers} clients), {} run {run}", kind.name());
            PROGRESS.start(what.clone());
            let Some(mut hub) = start(tools, kind, &options, report, &what) else {
                continue;
            };
            match idle::churn(&mut hub, workers, warm, measure).await {
                Ok(outcome) => {
                    let rows = [
                        (
                            Spec::new(
                                "churn-rate",
                                format!("churn, {workers} clients: streams opened and closed/s"),
                                Unit::PerSecond,
                            ),
                            outcome.rate,
                        ),
                        (
                            Spec::new("churn-errors", "churn: failed opens", Unit::Count)
                                .with_goal(Goal::AtMost(0.0), "none"),
                            outcome.errors as f64,
                        ),
                        (
                            Spec::new(
                                "churn-fds",
                                "churn: hub descriptors after, less before",
                                Unit::Count,
                            )
                            .with_goal(Goal::AtMost(0.0), "≤ 0 (no leak)"),
                            outcome.fd_growth,
                        ),
                        (
                            Spec::new(
                                "churn-rss",
                                format!(
                                    "churn: hub memory after {}s, less before",
                                    measure.as_secs()
                                ),
                                Unit::Bytes,
                            ),
                            outcome.rss_growth,
                        ),
                        (
                            Spec::new(
                                "churn-settle",
                                "churn: time for the hub to close what clients closed",
                                Unit::Seconds,
                            ),
                            outcome.settle_s,
                        ),
                    ];
                    for (spec, value) in rows {
                        report.add(&spec, kind, value);
                    }
                }
                Err(error) => report.note(format!("{what}: {error}")),
            }
        }
    }
}

/// Our memory per idle stream next to the floors, at several counts: where
/// the bytes per stream go.
pub(crate) async fn floor(tools: &Tools, settings: &Settings) -> Result<(), String> {
    let hubs = [
        HubKind::Ours,
        HubKind::FloorHyper,
        HubKind::FloorTask,
        HubKind::FloorVec,
    ];
    if !tools.has(HubKind::Ours) {
        return Err("no sse binary".into());
    }
    let mut report = Report::new(hubs.to_vec(), HubKind::FloorTask);
    let counts = if settings.streams.is_empty() {
        settings.size(vec![1000, 5000, 10_000], vec![200, 500])
    } else {
        settings.streams.clone()
    };
    let options = options(settings, &[]);
    let load_before = system::load_average();
    for &n in &counts {
        for run in 1..=settings.runs {
            for kind in hubs {
                let what = format!(
                    "floor: {} idle streams, {} run {run}",
                    short(n),
                    kind.name()
                );
                PROGRESS.start(what.clone());
                let Some(mut hub) = start(tools, kind, &options, &mut report, &what) else {
                    continue;
                };
                match idle::idle(&mut hub, Transport::Plain, n).await {
                    Ok(outcome) => record_idle(
                        &mut report,
                        kind,
                        Transport::Plain,
                        n,
                        &outcome,
                        "Idle streams: memory per stream, ours and the floors",
                    ),
                    Err(error) => report.note(format!("{what}: {error}")),
                }
            }
        }
    }
    report.note(
        "floor-hyper: a bare hyper 1 HTTP/1.1 connection per socket with a body that never \
         yields; floor-task: a tokio task per socket holding a 1 KiB head buffer; floor-vec: \
         sockets accepted and kept in a Vec, no task (the request head stays unread in the \
         kernel); ratios are over floor-task",
    );
    finish(tools, settings, "floor", &report, load_before)
}

/// One hub, 20 streams, 100 events: nothing lost, nothing duplicated; then
/// idle streams over TLS, HTTP/1.1 and HTTP/2.
pub(crate) async fn smoke(tools: &Tools) -> Result<(), String> {
    let mut hub = Hub::start(tools, HubKind::Ours, &HubOptions::default())?;
    PROGRESS.start("smoke".into());
    let plan = FanoutPlan {
        subscribers: 20,
        events: 100,
        size: 64,
        rate: Some(1000.0),
        publishers: 4,
        stalled: false,
    };
    let outcome = fanout::run(&[hub.addr], &plan).await?;
    hub.check_alive()?;
    println!(
        "smoke: {} subscribers x {} events: {} of {} delivered, {} lost, {} duplicated, \
         {} failed publishes, {} streams closed early, p50 {:.2} ms, max {:.2} ms",
        plan.subscribers,
        plan.events,
        outcome.delivered,
        outcome.expected,
        outcome.lost,
        outcome.duplicated,
        outcome.publish_errors,
        outcome.closed_early,
        outcome.p50,
        outcome.max
    );
    if outcome.delivered != outcome.expected
        || outcome.lost + outcome.duplicated + outcome.publish_errors + outcome.closed_early > 0
    {
        return Err("smoke: events were lost, duplicated or refused".into());
    }
    drop(hub);
    // The TLS transports of the idle figures: a hub serving HTTPS, streams
    // over HTTP/1.1 and over HTTP/2 (ALPN must choose h2).
    let options = HubOptions {
        tls: Some(Arc::new(Certificate::generate()?)),
        ..HubOptions::default()
    };
    let mut hub = Hub::start(tools, HubKind::Ours, &options)?;
    for transport in [Transport::Tls, Transport::Http2(5)] {
        idle::idle(&mut hub, transport, 10)
            .await
            .map_err(|error| format!("smoke, {}: {error}", transport.label()))?;
        println!("smoke: 10 idle streams over {}", transport.label());
    }
    Ok(())
}
