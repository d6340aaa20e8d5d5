//! The scenarios: which hubs start with which flags, what each run
//! measures, and which figure each result becomes. Runs are interleaved
//! (run 1 on every hub, then run 2, ...) so that a noisy minute on the
//! shared machine does not land on one hub only; every run gets fresh hub
//! processes.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::chart;
use crate::fanout::{self, FanoutOutcome, FanoutPlan};
use crate::hubs::{Hub, HubKind, HubOptions, RedisServer, Tools};
use crate::idle;
use crate::report::{Goal, Report, Spec, Unit};
use crate::system::{self, PROGRESS};

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
}

impl Part {
    pub(crate) const ALL: [Self; 6] = [
        Self::Idle,
        Self::Paced,
        Self::Unpaced,
        Self::Stalled,
        Self::Churn,
        Self::Redis,
    ];
}

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
            Part::Paced => {
                for case in [paced_200(settings), paced_1000(settings)] {
                    fanout_part(tools, settings, &hubs, &case, &mut report).await;
                    if let Some(equal) = at_equal_rate(&case, &report, &hubs) {
                        fanout_part(tools, settings, &hubs, &equal, &mut report).await;
                    }
                }
            }
            Part::Unpaced => {
                fanout_part(tools, settings, &hubs, &unpaced(settings), &mut report).await
            }
            Part::Stalled => stalled_part(tools, settings, &hubs, &mut report).await,
            Part::Churn => churn_part(tools, settings, &hubs, &mut report).await,
            Part::Redis => redis_part(tools, settings, &mut report).await,
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
        redis: None,
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
                match idle::idle(&mut hub, n).await {
                    Ok(outcome) => record_idle(
                        report,
                        kind,
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

fn record_idle(
    report: &mut Report,
    kind: HubKind,
    n: usize,
    outcome: &idle::IdleOutcome,
    panel: &str,
) {
    let k = short(n);
    let memory = Spec::new(
        format!("idle-{n}-memory"),
        format!("idle, {k} streams: hub memory per stream"),
        Unit::Bytes,
    )
    .with_goal(
        Goal::AtMost(2048.0),
        "≤ 2 KiB (required: ≤ 4 KiB and ≤ ½ nchan)",
    )
    .with_panel(panel, false, format!("{k} streams"));
    report.add(&memory, kind, outcome.rss_per_stream);
    let kernel = Spec::new(
        format!("idle-{n}-kernel"),
        format!("idle, {k} streams: kernel TCP buffers per stream, both ends"),
        Unit::Bytes,
    );
    report.add(&kernel, kind, outcome.kernel_per_stream);
    let slab = Spec::new(
        format!("idle-{n}-slab"),
        format!("idle, {k} streams: kernel socket objects per stream, both ends"),
        Unit::Bytes,
    );
    report.add(&slab, kind, outcome.slab_per_stream);
    let p50 = Spec::new(
        format!("idle-{n}-open-p50"),
        format!("idle, {k} streams: open time p50"),
        Unit::Millis,
    );
    report.add(&p50, kind, outcome.open_p50);
    let p99 = Spec::new(
        format!("idle-{n}-open-p99"),
        format!("idle, {k} streams: open time p99"),
        Unit::Millis,
    );
    report.add(&p99, kind, outcome.open_p99);
    let rate = Spec::new(
        format!("idle-{n}-open-rate"),
        format!(
            "idle, {k} streams: opened per second ({} at a time)",
            fanout::OPEN_CONCURRENCY
        ),
        Unit::PerSecond,
    );
    report.add(&rate, kind, outcome.open_rate);
}

/// The chart panel of deliveries per second (log scale: from thousands
/// to hundreds of thousands).
const DELIVERIES_PANEL: &str = "Deliveries per second";

/// A fan-out case: its plan, its name in the table and its goals.
struct Case {
    key: String,
    label: String,
    plan: FanoutPlan,
    p99: (Goal, &'static str),
    p999: (Goal, &'static str),
    deliveries: (Goal, &'static str),
    extra_args: Vec<String>,
    /// Its deliveries per second go into the chart.
    chart_deliveries: bool,
}

fn size_label(size: usize) -> String {
    if size % 1024 == 0 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn paced_label(plan: &FanoutPlan) -> String {
    match plan.rate {
        Some(rate) => format!(
            "{} subs, {} events of {} at {rate:.0}/s",
            plan.subscribers,
            plan.events,
            size_label(plan.size)
        ),
        None => format!(
            "{} subs, {} events of {} unpaced",
            plan.subscribers,
            plan.events,
            size_label(plan.size)
        ),
    }
}

/// When a hub could not publish at the offered rate, the same case again
/// at 90% of the slowest hub's achieved rate (its median), so that every
/// hub's latency is measured at the same rate: a hub that falls behind
/// queues publishes, and its latency then measures the queue.
fn at_equal_rate(case: &Case, report: &Report, hubs: &[HubKind]) -> Option<Case> {
    let offered = case.plan.rate?;
    let key = format!("{}-publish-rate", case.key);
    let row = report.rows.iter().find(|row| row.spec.key == key)?;
    let slowest = hubs
        .iter()
        .filter_map(|&hub| row.spread(hub).map(|s| s.median))
        .fold(f64::INFINITY, f64::min);
    if !slowest.is_finite() || slowest >= offered * 0.95 {
        return None;
    }
    let rate = (slowest * 0.9).floor().max(10.0);
    let mut plan = case.plan.clone();
    plan.rate = Some(rate);
    // About as long as the original case.
    plan.events = ((plan.events as f64) * rate / offered).ceil().max(200.0) as usize;
    Some(Case {
        key: format!("{}-equal", case.key),
        label: format!("{} (the slowest hub's rate)", paced_label(&plan)),
        plan,
        p99: (Goal::NoWorseThanReference, "≤ nchan's at an equal rate"),
        p999: (Goal::None, ""),
        deliveries: (Goal::None, ""),
        extra_args: case.extra_args.clone(),
        chart_deliveries: false,
    })
}

fn fanout_args() -> Vec<String> {
    vec!["--queue-size".into(), FANOUT_QUEUE.into()]
}

fn paced_200(settings: &Settings) -> Case {
    let plan = FanoutPlan {
        subscribers: settings.size(200, 20),
        events: settings.size(3000, 300),
        size: 1024,
        rate: Some(500.0),
        publishers: settings.publishers,
        stalled: false,
    };
    Case {
        key: "paced-200".into(),
        label: paced_label(&plan),
        plan,
        p99: (
            Goal::AtMost(2.0),
            "≤ 2 ms every run (required: ≤ nchan's and Node's)",
        ),
        p999: (Goal::AtMost(5.0), "≤ 5 ms every run"),
        deliveries: (Goal::None, ""),
        extra_args: fanout_args(),
        chart_deliveries: false,
    }
}

fn paced_1000(settings: &Settings) -> Case {
    let plan = FanoutPlan {
        subscribers: settings.size(1000, 50),
        events: settings.size(1000, 200),
        size: 128,
        rate: Some(500.0),
        publishers: settings.publishers,
        stalled: false,
    };
    let offered = (plan.subscribers as f64) * 500.0;
    Case {
        key: "paced-1000".into(),
        label: paced_label(&plan),
        plan,
        p99: (
            Goal::AtMost(5.0),
            "≤ 5 ms (required: ≤ nchan's at an equal rate)",
        ),
        p999: (Goal::None, ""),
        // The last event's latency is in the denominator: allow 2%.
        deliveries: (
            Goal::AtLeast(offered * 0.98),
            "the offered rate (within 2%)",
        ),
        extra_args: fanout_args(),
        chart_deliveries: true,
    }
}

fn unpaced(settings: &Settings) -> Case {
    let plan = FanoutPlan {
        subscribers: settings.size(100, 10),
        events: settings.size(20_000, 1000),
        size: 128,
        rate: None,
        publishers: settings.publishers,
        stalled: false,
    };
    Case {
        key: "unpaced".into(),
        label: paced_label(&plan),
        plan,
        p99: (Goal::NoWorseThanReference, "≤ nchan's"),
        p999: (Goal::None, ""),
        deliveries: (Goal::TimesReference(2.0), "≥ 2× nchan"),
        extra_args: fanout_args(),
        chart_deliveries: true,
    }
}

async fn fanout_part(
    tools: &Tools,
    settings: &Settings,
    hubs: &[HubKind],
    case: &Case,
    report: &mut Report,
) {
    let extra: Vec<&str> = case.extra_args.iter().map(String::as_str).collect();
    let options = options(settings, &extra);
    for run in 1..=settings.runs {
        for &kind in hubs {
            let what = format!("{} ({}), {} run {run}", case.key, case.label, kind.name());
            PROGRESS.start(what.clone());
            let Some(mut hub) = start(tools, kind, &options, report, &what) else {
                continue;
            };
            let cpu = CpuMeter::start(&[&hub]);
            let outcome = fanout::run(&[hub.addr], &case.plan).await;
            let cpu = cpu.stop(&[&hub]);
            let outcome = outcome.and_then(|outcome| hub.check_alive().map(|()| outcome));
            match outcome {
                Ok(outcome) => record_fanout(report, kind, case, &outcome, cpu),
                Err(error) => report.note(format!("{what}: {error}")),
            }
        }
    }
}

/// CPU time used by the hubs and by this process over a run: what each
/// delivery costs, which the other builds on a shared machine change much
/// less than they change latency.
struct CpuMeter {
    hubs: Option<f64>,
    client: Option<f64>,
}

/// CPU seconds over a run.
#[derive(Clone, Copy, Debug)]
struct CpuUse {
    hubs: f64,
    client: f64,
}

impl CpuMeter {
    fn start(hubs: &[&Hub]) -> Self {
        Self {
            hubs: hubs.iter().map(|hub| hub.cpu().ok()).sum(),
            client: system::cpu_seconds(std::process::id()).ok(),
        }
    }

    fn stop(self, hubs: &[&Hub]) -> Option<CpuUse> {
        let now: Option<f64> = hubs.iter().map(|hub| hub.cpu().ok()).sum();
        let client = system::cpu_seconds(std::process::id()).ok()?;
        Some(CpuUse {
            hubs: now? - self.hubs?,
            client: client - self.client?,
        })
    }
}

/// Records CPU milliseconds per 1000 deliveries.
fn record_cpu(
    report: &mut Report,
    kind: HubKind,
    key: &str,
    label: &str,
    who: &str,
    seconds: f64,
    deliveries: u64,
) {
    if deliveries == 0 {
        return;
    }
    let spec = Spec::new(
        format!("{key}-cpu-{who}"),
        format!("{label}: {who} CPU per 1000 deliveries"),
        Unit::Millis,
    );
    report.add(&spec, kind, seconds * 1e6 / deliveries as f64);
}

fn record_fanout(
    report: &mut Report,
    kind: HubKind,
    case: &Case,
    outcome: &FanoutOutcome,
    cpu: Option<CpuUse>,
) {
    let key = &case.key;
    let label = &case.label;
    let panel = format!("{label}: latency");
    for (name, value, goal) in [
        ("p50", outcome.p50, (Goal::None, "")),
        ("p99", outcome.p99, case.p99),
        ("p99.9", outcome.p999, case.p999),
        ("max", outcome.max, (Goal::None, "")),
    ] {
        let spec = Spec::new(
            format!("{key}-{name}"),
            format!("{label}: latency {name}"),
            Unit::Millis,
        )
        .with_goal(goal.0, goal.1)
        .with_panel(&panel, true, name);
        report.add(&spec, kind, value);
    }
    let mut deliveries = Spec::new(
        format!("{key}-deliveries"),
        format!("{label}: deliveries/s"),
        Unit::PerSecond,
    )
    .with_goal(case.deliveries.0, case.deliveries.1);
    if case.chart_deliveries {
        deliveries = deliveries.with_panel(DELIVERIES_PANEL, true, key.as_str());
    }
    report.add(&deliveries, kind, outcome.delivery_rate);
    let rate = Spec::new(
        format!("{key}-publish-rate"),
        format!("{label}: events/s published"),
        Unit::PerSecond,
    );
    report.add(&rate, kind, outcome.publish_rate);
    let lost = Spec::new(
        format!("{key}-lost"),
        format!("{label}: lost or duplicated"),
        Unit::Count,
    )
    .with_goal(Goal::AtMost(0.0), "none");
    report.add(&lost, kind, (outcome.lost + outcome.duplicated) as f64);
    let errors = Spec::new(
        format!("{key}-errors"),
        format!("{label}: failed publishes and streams closed early"),
        Unit::Count,
    )
    .with_goal(Goal::AtMost(0.0), "none");
    report.add(
        &errors,
        kind,
        (outcome.publish_errors + outcome.closed_early) as f64,
    );
    if let Some(cpu) = cpu {
        record_cpu(report, kind, key, label, "hub", cpu.hubs, outcome.delivered);
        record_cpu(
            report,
            kind,
            key,
            label,
            "load generator",
            cpu.client,
            outcome.delivered,
        );
    }
}

/// The write-timeout flag of our hub, when this build has one: 2 s, so
/// that it fires within the run.
fn write_timeout_args(tools: &Tools) -> Option<Vec<String>> {
    let placeholder = tools.sse_flag("--write-timeout")?;
    let value = if placeholder.to_ascii_uppercase().contains("MS") {
        "2000"
    } else {
        "2"
    };
    Some(vec!["--write-timeout".into(), value.into()])
}

async fn stalled_part(tools: &Tools, settings: &Settings, hubs: &[HubKind], report: &mut Report) {
    let mut extra = Vec::new();
    match write_timeout_args(tools) {
        Some(args) => extra.extend(args),
        None => report.note(
            "stalled: `sse serve` has no --write-timeout flag yet; ours ran with its defaults \
             (a subscriber whose queue passes --queue-size, 256 KiB, is cut)",
        ),
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let options = options(settings, &extra);
    let plan = FanoutPlan {
        subscribers: settings.size(200, 20),
        events: settings.size(5000, 500),
        size: 1024,
        rate: Some(500.0),
        publishers: settings.publishers,
        stalled: true,
    };
    let case = Case {
        key: "stalled".into(),
        label: format!("{} + 1 stalled", paced_label(&plan)),
        plan,
        p99: (
            Goal::LikeRow("paced-200-p99"),
            "≈ without it (paced-200 p99)",
        ),
        p999: (Goal::None, ""),
        deliveries: (Goal::None, ""),
        extra_args: Vec::new(),
        chart_deliveries: false,
    };
    for run in 1..=settings.runs {
        for &kind in hubs {
            let what = format!("stalled ({}), {} run {run}", case.label, kind.name());
            PROGRESS.start(what.clone());
            let Some(mut hub) = start(tools, kind, &options, report, &what) else {
                continue;
            };
            let before = hub.rss();
            let cpu = CpuMeter::start(&[&hub]);
            let outcome = fanout::run(&[hub.addr], &case.plan).await;
            let cpu = cpu.stop(&[&hub]);
            let after = hub.rss();
            let outcome = outcome.and_then(|outcome| hub.check_alive().map(|()| outcome));
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    report.note(format!("{what}: {error}"));
                    continue;
                }
            };
            record_fanout(report, kind, &case, &outcome, cpu);
            let stalled = outcome.stalled.unwrap_or_default();
            let closed = Spec::new(
                "stalled-closed",
                "stalled: the hub closed the stalled stream",
                Unit::Flag,
            )
            .with_goal(Goal::Yes, "closed (write timeout)");
            report.add(&closed, kind, f64::from(u8::from(stalled.closed)));
            let received = Spec::new(
                "stalled-received",
                format!(
                    "stalled: events the stalled one got, of {}",
                    case.plan.events
                ),
                Unit::Count,
            );
            report.add(&received, kind, stalled.received as f64);
            if let (Ok(before), Ok(after)) = (before, after) {
                let growth = Spec::new(
                    "stalled-rss",
                    "stalled: hub memory growth over the run",
                    Unit::Bytes,
                );
                report.add(&growth, kind, after as f64 - before as f64);
            }
        }
    }
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

async fn redis_part(tools: &Tools, settings: &Settings, report: &mut Report) {
    if !tools.has(HubKind::Ours) {
        report.note("redis: not measured, no sse binary");
        return;
    }
    let node_counts = settings.size(vec![2, 4], vec![2]);
    let plan = FanoutPlan {
        subscribers: settings.size(100, 10),
        events: settings.size(10_000, 1000),
        size: 128,
        rate: None,
        publishers: settings.publishers,
        stalled: false,
    };
    for &nodes in &node_counts {
        let key = format!("redis-{nodes}");
        let label = format!("Redis, {nodes} hubs: {}", paced_label(&plan));
        for run in 1..=settings.runs {
            let what = format!("{label}, run {run}");
            PROGRESS.start(what.clone());
            let redis = match RedisServer::start(tools) {
                Ok(redis) => redis,
                Err(error) => {
                    report.note(format!("redis: not measured: {error}"));
                    return;
                }
            };
            let mut options = options(settings, &[]);
            options.ours_args.splice(0..0, fanout_args());
            options.redis = Some((redis.url(), format!("load{run}")));
            let mut hubs = Vec::new();
            for _ in 0..nodes {
                if let Some(hub) = start(tools, HubKind::Ours, &options, report, &what) {
                    hubs.push(hub);
                }
            }
            if hubs.len() != nodes {
                continue;
            }
            let addrs: Vec<_> = hubs.iter().map(|hub| hub.addr).collect();
            let refs: Vec<&Hub> = hubs.iter().collect();
            let cpu = CpuMeter::start(&refs);
            let redis_cpu = redis.cpu().ok();
            let started = std::time::Instant::now();
            let outcome = fanout::run(&addrs, &plan).await;
            let wall = started.elapsed().as_secs_f64();
            let cpu = cpu.stop(&refs);
            let redis_cpu = match (redis_cpu, redis.cpu().ok()) {
                (Some(before), Some(after)) => Some(after - before),
                _ => None,
            };
            match outcome {
                Ok(outcome) => {
                    let rows = [
                        (
                            Spec::new(
                                format!("{key}-deliveries"),
                                format!("{label}: deliveries/s"),
                                Unit::PerSecond,
                            )
                            .with_panel(
                                DELIVERIES_PANEL,
                                true,
                                format!("redis, {nodes} hubs"),
                            ),
                            outcome.delivery_rate,
                        ),
                        (
                            Spec::new(
                                format!("{key}-p50"),
                                format!("{label}: latency p50"),
                                Unit::Millis,
                            ),
                            outcome.p50,
                        ),
                        (
                            Spec::new(
                                format!("{key}-p99"),
                                format!("{label}: latency p99"),
                                Unit::Millis,
                            ),
                            outcome.p99,
                        ),
                        (
                            Spec::new(
                                format!("{key}-lost"),
                                format!("{label}: lost or duplicated"),
                                Unit::Count,
                            )
                            .with_goal(Goal::AtMost(0.0), "none"),
                            (outcome.lost + outcome.duplicated) as f64,
                        ),
                    ];
                    for (spec, value) in rows {
                        report.add(&spec, HubKind::Ours, value);
                    }
                    if let Some(cpu) = cpu {
                        record_cpu(
                            report,
                            HubKind::Ours,
                            &key,
                            &label,
                            "hubs (all)",
                            cpu.hubs,
                            outcome.delivered,
                        );
                    }
                    if let Some(seconds) = redis_cpu {
                        record_cpu(
                            report,
                            HubKind::Ours,
                            &key,
                            &label,
                            "redis-server",
                            seconds,
                            outcome.delivered,
                        );
                        let busy = Spec::new(
                            format!("{key}-redis-busy"),
                            format!("{label}: redis-server busy, % of one core"),
                            Unit::Count,
                        );
                        report.add(&busy, HubKind::Ours, seconds / wall * 100.0);
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
                match idle::idle(&mut hub, n).await {
                    Ok(outcome) => record_idle(
                        &mut report,
                        kind,
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

/// One hub, 20 streams, 100 events: nothing lost, nothing duplicated.
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
    Ok(())
}

fn describe(tools: &Tools, settings: &Settings, hub: HubKind) -> String {
    match hub {
        HubKind::Ours => format!(
            "{} (sse serve --max-connections 20000 --log-level warn; fan-out scenarios add \
             --queue-size {FANOUT_QUEUE}) {}",
            tools.sse_version,
            settings.hub_args.join(" ")
        )
        .trim()
        .to_string(),
        HubKind::Nchan => format!(
            "nginx {} + nchan {} (one process: master_process off)",
            tools.nginx_version.trim_start_matches("nginx/"),
            tools.nchan_version
        ),
        HubKind::Node => format!("node {} (benches/load/hub.js)", tools.node_version),
        HubKind::FloorHyper => {
            "a bare hyper 1 HTTP/1.1 connection per socket, body never yields".into()
        }
        HubKind::FloorTask => "a tokio task per socket holding a 1 KiB head buffer".into(),
        HubKind::FloorVec => "sockets kept in a Vec, no task".into(),
    }
}

fn header(tools: &Tools, settings: &Settings, report: &Report, load_before: &str) -> Value {
    let machine = system::Machine::read();
    let hubs: serde_json::Map<String, Value> = report
        .present_hubs()
        .into_iter()
        .map(|hub| {
            (
                hub.name().to_string(),
                Value::from(describe(tools, settings, hub)),
            )
        })
        .collect();
    json!({
        "date": system::today(),
        "machine": {
            "cpu": machine.cpu,
            "cores": machine.cores,
            "memory_gib": (machine.memory_gib * 10.0).round() / 10.0,
            "kernel": machine.kernel,
        },
        "load_average_before": load_before,
        "load_average_after": system::load_average(),
        "runs": settings.runs,
        "quick": settings.quick,
        "publishers": settings.publishers,
        "hubs": hubs,
        "redis": tools.redis_version,
    })
}

fn finish(
    tools: &Tools,
    settings: &Settings,
    name: &str,
    report: &Report,
    load_before: String,
) -> Result<(), String> {
    let header = header(tools, settings, report, &load_before);
    let machine = &header["machine"];
    println!(
        "\nload {name}, {}: {} ({} cores, {} GiB), Linux {}; load average {} before, {} after; \
         median of {} runs (min–max)\n",
        header["date"].as_str().unwrap_or_default(),
        machine["cpu"].as_str().unwrap_or_default(),
        machine["cores"],
        machine["memory_gib"],
        machine["kernel"].as_str().unwrap_or_default(),
        load_before,
        header["load_average_after"].as_str().unwrap_or_default(),
        settings.runs
    );
    for (hub, text) in header["hubs"].as_object().into_iter().flatten() {
        println!("- {hub}: {}", text.as_str().unwrap_or_default());
    }
    println!("\n{}", report.table());
    for note in &report.notes {
        println!("- {note}");
    }
    let Some(dir) = &settings.write else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let json_path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(&report.json(header.clone()))
        .map_err(|error| format!("JSON: {error}"))?;
    std::fs::write(&json_path, text + "\n")
        .map_err(|error| format!("{}: {error}", json_path.display()))?;
    let svg_path = dir.join(format!("{name}.svg"));
    let title = format!(
        "load {name}: {}, {} cores, {}; median of {} runs, whiskers min–max",
        machine["cpu"].as_str().unwrap_or_default(),
        machine["cores"],
        header["date"].as_str().unwrap_or_default(),
        settings.runs
    );
    chart::write_svg(report, &title, &svg_path)?;
    println!("\nwrote {} and {}", json_path.display(), svg_path.display());
    Ok(())
}
