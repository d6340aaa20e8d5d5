//! The load benchmark: our hub (`sse serve`) next to nginx + nchan and a
//! plain Node hub, each a separate process on a free loopback port, driven
//! by this process in the same run.
//!
//! ```text
//! cargo run --release -p benches --bin load -- <SCENARIO> [OPTIONS]
//! ```
//!
//! Scenarios: `idle` (memory per idle stream and open latency), `paced`
//! (fan-out latency at a fixed rate), `unpaced` (deliveries per second),
//! `stalled` (a subscriber that stops reading among live ones), `churn`
//! (streams opened and closed; no leak), `redis` (our hubs over one
//! Redis), `tls` (idle streams over HTTP/1.1 with TLS and over HTTP/2
//! with TLS), `all` (every one of these), `floor` (our memory per stream next
//! to what any tokio server must pay), and `smoke` (one small check that
//! nothing is lost). Each figure is the median of `--runs` runs (3) with
//! min and max; the table goes to stdout, progress to stderr, the figures
//! to `benches/load/SCENARIO.json` and `.svg`. See benches/README.md.

mod chart;
mod client;
mod fanout;
mod floor;
mod hubs;
mod idle;
mod report;
mod scenarios;
mod system;
mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;

use crate::hubs::{HubKind, Tools};

/// The load benchmark: our hub next to nginx + nchan and Node, in one run.
#[derive(Debug, Parser)]
#[command(name = "load")]
struct Cli {
    /// What to run.
    #[arg(value_enum, required_unless_present = "floor_server")]
    scenario: Option<Scenario>,
    /// Runs of each figure (the table shows the median, min and max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The hubs to run, comma-separated (those not installed are skipped
    /// with a note).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ours,nchan,node"
    )]
    hubs: Vec<HubKind>,
    /// The `sse` binary to run as our hub. Without it the benchmark builds
    /// `target/release/sse` with cargo (a no-op when it is up to date).
    #[arg(long, value_name = "PATH")]
    sse: Option<PathBuf>,
    /// Use `target/release/sse` as it is, without running cargo.
    #[arg(long)]
    no_build: bool,
    /// An extra argument for every `sse serve` (repeat for more).
    #[arg(long = "hub-arg", value_name = "ARG", allow_hyphen_values = true)]
    hub_args: Vec<String>,
    /// Idle stream counts (`idle`, `floor`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    streams: Vec<usize>,
    /// Small sizes everywhere, to try the benchmark out in seconds.
    #[arg(long)]
    quick: bool,
    /// Concurrent keep-alive publishing connections.
    #[arg(long, default_value_t = 16)]
    publishers: usize,
    /// Where the JSON and SVG go (default: benches/load).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the table only; write no files.
    #[arg(long)]
    no_write: bool,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
    /// Internal: serve as one of the floors (`floor-vec`, `floor-task`).
    #[arg(long, value_enum, hide = true)]
    floor_server: Option<HubKind>,
}

/// A scenario of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    All,
    Idle,
    Paced,
    Unpaced,
    Stalled,
    Churn,
    Redis,
    Tls,
    Floor,
    Smoke,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(kind) = cli.floor_server {
        return match floor::serve(kind) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("floor server: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("load: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let Some(scenario) = cli.scenario else {
        return Err("no scenario".into());
    };
    match system::raise_nofile_limit() {
        Ok(limit) => eprintln!("load: descriptor limit {limit} (the hubs inherit it)"),
        Err(error) => eprintln!("load: cannot raise the descriptor limit: {error}"),
    }
    let wants_ours = scenario != Scenario::Smoke && cli.hubs.contains(&HubKind::Ours)
        || matches!(
            scenario,
            Scenario::Smoke | Scenario::Floor | Scenario::Redis
        );
    let sse = match &cli.sse {
        // Absolute: the hubs run in temporary directories.
        Some(path) => Some(
            path.canonicalize()
                .map_err(|error| format!("--sse {}: {error}", path.display()))?,
        ),
        None if wants_ours => Some(release_sse(cli.no_build)?),
        None => None,
    };
    let tools = Tools::discover(sse);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("a runtime: {error}"))?;
    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("load"));
    let settings = scenarios::Settings {
        runs: cli.runs.max(1),
        hubs: cli.hubs.clone(),
        hub_args: cli.hub_args.clone(),
        streams: cli.streams.clone(),
        quick: cli.quick,
        publishers: cli.publishers.max(1),
        write: (!cli.no_write && scenario != Scenario::Smoke).then_some(out),
    };
    system::spawn_progress_on(&runtime, cli.quiet);
    runtime.block_on(async move {
        match scenario {
            Scenario::Smoke => scenarios::smoke(&tools).await,
            Scenario::Floor => scenarios::floor(&tools, &settings).await,
            other => {
                let parts: &[scenarios::Part] = match other {
                    Scenario::Idle => &[scenarios::Part::Idle],
                    Scenario::Paced => &[scenarios::Part::Paced],
                    Scenario::Unpaced => &[scenarios::Part::Unpaced],
                    Scenario::Stalled => &[scenarios::Part::Stalled],
                    Scenario::Churn => &[scenarios::Part::Churn],
                    Scenario::Redis => &[scenarios::Part::Redis],
                    Scenario::Tls => &[scenarios::Part::Tls],
                    _ => &scenarios::Part::ALL,
                };
                let name = format!("{other:?}").to_lowercase();
                scenarios::comparison(&tools, &settings, &name, parts).await
            }
        }
    })
}

/// Builds `sse` in release mode with cargo (up to date: a no-op) and
/// returns its path, next to this binary's target directory.
fn release_sse(no_build: bool) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace above benches/")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // This binary is target/<profile>/load.
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| root.join("target"));
    let sse = target.join("release").join("sse");
    if !no_build {
        eprintln!("load: cargo build --release -p sse-tokio --features cli --bin sse");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--release",
                "-p",
                "sse-tokio",
                "--features",
                "cli",
                "--bin",
                "sse",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => return Err(format!("building sse failed ({status})")),
            Err(error) if sse.exists() => {
                eprintln!("load: cannot run cargo ({error}); using {}", sse.display());
            }
            Err(error) => return Err(format!("cannot run cargo to build sse: {error}")),
        }
    }
    if sse.exists() {
        Ok(sse)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo build --release -p sse-tokio --features cli --bin sse` or pass --sse PATH",
            sse.display()
        ))
    }
}
