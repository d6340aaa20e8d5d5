//! The fan-out parts of the comparison: paced (and again at an equal rate
//! when a hub falls behind), unpaced, a stalled subscriber among live
//! ones, and our hubs over Redis; what each run records, CPU time per
//! delivery included.

use crate::fanout::{self, FanoutOutcome, FanoutPlan};
use crate::hubs::{Hub, HubKind, RedisServer, Tools};
use crate::report::{Goal, Report, Spec, Unit};
use crate::system::{self, PROGRESS};

use super::{FANOUT_QUEUE, Settings, options, start};

/// Paced fan-out, 200 and 1000 subscribers, each again at an equal rate
/// when a hub fell behind.
pub(super) async fn paced_part(
    tools: &Tools,
    settings: &Settings,
    hubs: &[HubKind],
    report: &mut Report,
) {
    for case in [paced_200(settings), paced_1000(settings)] {
        fanout_part(tools, settings, hubs, &case, report).await;
        if let Some(equal) = at_equal_rate(&case, report, hubs) {
            fanout_part(tools, settings, hubs, &equal, report).await;
        }
    }
}

/// Unpaced fan-out: deliveries per second.
pub(super) async fn unpaced_part(
    tools: &Tools,
    settings: &Settings,
    hubs: &[HubKind],
    report: &mut Report,
) {
    fanout_part(tools, settings, hubs, &unpaced(settings), report).await;
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
    // The key names the process in one word: hub(s), client, redis.
    let slug = match who {
        "load generator" => "client",
        "hubs (all)" => "hubs",
        "redis-server" => "redis",
        other => other,
    };
    let spec = Spec::new(
        format!("{key}-cpu-{slug}"),
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

pub(super) async fn stalled_part(
    tools: &Tools,
    settings: &Settings,
    hubs: &[HubKind],
    report: &mut Report,
) {
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

pub(super) async fn redis_part(tools: &Tools, settings: &Settings, report: &mut Report) {
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
