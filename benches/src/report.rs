//! Turns criterion's estimates from this run and the allocation counts into
//! the tables of `benches/README.md`, with each target's ratio.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::corpus::{Corpus, EncodeCorpus, chunk_label};
use crate::{decode, encode};

const BEGIN: &str = "<!-- results:begin -->";
const END: &str = "<!-- results:end -->";

/// Allocations per event of each implementation in one configuration.
#[derive(Clone, Debug)]
pub struct AllocRow {
    direction: &'static str,
    corpus: &'static str,
    chunks: String,
    /// Implementation, allocation calls per event, bytes per event.
    cells: Vec<(&'static str, f64, f64)>,
}

impl AllocRow {
    /// An empty row for a corpus and chunking.
    pub fn new(direction: &'static str, corpus: &'static str, chunks: &str) -> Self {
        Self {
            direction,
            corpus,
            chunks: chunks.to_string(),
            cells: Vec::new(),
        }
    }

    /// Adds what `imp` allocated over a run of `events` events.
    pub fn push(&mut self, imp: &'static str, calls: u64, bytes: u64, events: usize) {
        let events = events.max(1) as f64;
        self.cells
            .push((imp, calls as f64 / events, bytes as f64 / events));
    }

    fn calls(&self, imp: &str) -> Option<f64> {
        self.cells
            .iter()
            .find(|(name, ..)| *name == imp)
            .map(|&(_, calls, _)| calls)
    }
}

/// Mean time per iteration, in nanoseconds, of each benchmark that ran in
/// this process, keyed by (group, function).
type Times = BTreeMap<(String, String), f64>;

/// Everything one run measured.
#[derive(Debug)]
pub struct Report {
    corpora: Vec<(&'static str, &'static str, usize, Vec<usize>)>,
    encode_corpora: Vec<(&'static str, &'static str, usize)>,
    times: Times,
    allocations: Vec<AllocRow>,
    /// Benchmarks expected but not measured in this run.
    missing: usize,
}

/// Where criterion keeps its results: `<target>/criterion`.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(dir).join("criterion"));
    }
    // The bench binary is `<target>/release/deps/compare-<hash>`.
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion"))
}

/// The mean of `group/function` if criterion wrote it after `since`.
fn mean_ns(group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let file = criterion_dir()?
        .join(group)
        .join(function)
        .join("new/estimates.json");
    if file.metadata().ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// MiB per second for `bytes` in `ns`.
fn mib_s(bytes: usize, ns: f64) -> f64 {
    bytes as f64 / ns * 1e9 / f64::from(1 << 20)
}

fn decode_group(corpus: &str, chunk: usize) -> String {
    format!("decode-{corpus}-{}", chunk_label(chunk))
}

fn encode_group(corpus: &str) -> String {
    format!("encode-{corpus}")
}

impl Report {
    /// Reads the estimates criterion wrote since `started`.
    pub fn collect(
        corpora: &[Corpus],
        encode_corpora: &[EncodeCorpus],
        allocations: Vec<AllocRow>,
        started: SystemTime,
    ) -> Self {
        let mut times = Times::new();
        let mut missing = 0;
        let mut record = |group: String, function: &str| match mean_ns(&group, function, started) {
            Some(ns) => {
                times.insert((group, function.to_string()), ns);
            }
            None => missing += 1,
        };
        for corpus in corpora {
            for &chunk in corpus.chunk_sizes {
                for imp in decode::Impl::ALL {
                    if imp.skipped(corpus, chunk).is_none() {
                        record(decode_group(corpus.name, chunk), imp.name());
                    }
                }
            }
        }
        for corpus in encode_corpora {
            for imp in encode::Impl::ALL {
                record(encode_group(corpus.name), imp.name());
            }
        }
        Self {
            corpora: corpora
                .iter()
                .map(|c| (c.name, c.description, c.bytes.len(), c.chunk_sizes.to_vec()))
                .collect(),
            encode_corpora: encode_corpora
                .iter()
                .map(|c| {
                    let bytes = encode::Runner::new(c).expected();
                    (c.name, c.description, bytes)
                })
                .collect(),
            times,
            allocations,
            missing,
        }
    }

    fn time(&self, group: &str, function: &str) -> Option<f64> {
        self.times
            .get(&(group.to_string(), function.to_string()))
            .copied()
    }

    /// How many times faster `ours` ran than `other` in `group`.
    /// A row's cells: the MiB/s of each of `names` in `group` (`bytes` of
    /// input or output), then how many times faster ours is than each of
    /// `others`; `–` where not measured.
    fn cells(&self, group: &str, bytes: usize, names: &[&str], others: &[&str]) -> String {
        let speeds = names.iter().map(|imp| {
            self.time(group, imp)
                .map_or("–".to_string(), |ns| format!("{:.0}", mib_s(bytes, ns)))
        });
        let ratios = others.iter().map(|other| {
            self.speedup(group, "sse-proto", other)
                .map_or("–".to_string(), |r| format!("{r:.2}"))
        });
        speeds.chain(ratios).collect::<Vec<_>>().join(" | ")
    }

    fn speedup(&self, group: &str, ours: &str, other: &str) -> Option<f64> {
        Some(self.time(group, other)? / self.time(group, ours)?)
    }

    /// The tables, in Markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}\n", machine());
        self.render_targets(&mut out);
        self.render_decode(&mut out);
        self.render_encode(&mut out);
        self.render_allocations(&mut out);
        out
    }

    fn render_targets(&self, out: &mut String) {
        let _ = writeln!(out, "### Targets\n");
        let _ = writeln!(out, "| target | measured | |");
        let _ = writeln!(out, "|---|---:|---|");
        let mut target = |name: String, value: Option<f64>, goal: f64, higher_is_better: bool| {
            let unit = if goal == 0.0 { " per event" } else { "×" };
            let (shown, verdict) = match value {
                None => ("–".to_string(), "not measured".to_string()),
                Some(v) => {
                    let met = if higher_is_better {
                        v >= goal
                    } else {
                        v <= goal
                    };
                    let verdict = if met {
                        "met".to_string()
                    } else if goal == 0.0 {
                        "missed".to_string()
                    } else if higher_is_better {
                        format!("missed by {:.0}%", (1.0 - v / goal) * 100.0)
                    } else {
                        format!("missed by {:.0}%", (v / goal - 1.0) * 100.0)
                    };
                    (format!("{v:.2}{unit}"), verdict)
                }
            };
            let _ = writeln!(out, "| {name} | {shown} | {verdict} |");
        };
        // The corpora, the implementation compared with, the goal and how
        // it reads; each at both chunk sizes.
        let decode_targets: [(&[&str], &str, f64, &str); 3] = [
            (&["small", "crlf"], "sse-stream", 2.0, "2× sse-stream"),
            (
                &["small"],
                "memchr2-per-line",
                0.5,
                "0.5× one memchr2 per line",
            ),
            (&["payload-64k"], "memcpy", 0.9, "0.9× memcpy"),
        ];
        for (corpora, other, goal, reads) in decode_targets {
            for corpus in corpora {
                for chunk in [64, 16 * 1024] {
                    let group = decode_group(corpus, chunk);
                    target(
                        format!(
                            "decode `{corpus}`, {} chunks: ≥ {reads}",
                            chunk_label(chunk)
                        ),
                        self.speedup(&group, "sse-proto", other),
                        goal,
                        true,
                    );
                }
            }
        }
        let chunked = self.time(&decode_group("line-8m", 1024), "sse-proto");
        let whole = self.time(&decode_group("line-8m", usize::MAX), "sse-proto");
        target(
            "decode `line-8m`: time in 1 KiB chunks ≤ 1.5× time in one chunk".to_string(),
            chunked.zip(whole).map(|(c, w)| c / w),
            1.5,
            false,
        );
        let group = encode_group("small");
        target(
            "encode `small`: ≥ 5× sse-stream".to_string(),
            self.speedup(&group, "sse-proto", "sse-stream"),
            5.0,
            true,
        );
        target(
            "encode `small`: ≥ 10× axum".to_string(),
            self.speedup(&group, "sse-proto", "axum"),
            10.0,
            true,
        );
        target(
            "encode `payload-64k`: ≥ 0.95× memcpy".to_string(),
            self.speedup(&encode_group("payload-64k"), "sse-proto", "memcpy"),
            0.95,
            true,
        );
        let most = self
            .allocations
            .iter()
            .filter_map(|row| row.calls("sse-proto"))
            .fold(None, |most: Option<f64>, calls| {
                Some(most.map_or(calls, |m| m.max(calls)))
            });
        target(
            "allocations per event, every configuration, decode and encode: 0".to_string(),
            most,
            0.0,
            false,
        );
        let _ = writeln!(
            out,
            "\nRatios are speed ratios (the other's time over ours), except the 8 MiB line (our time in 1 KiB chunks over ours in one chunk) and allocations (the most per event, ours).\n"
        );
    }

    fn render_decode(&self, out: &mut String) {
        let _ = writeln!(out, "### Decoding, MiB/s of input\n");
        let names: Vec<&str> = decode::Impl::ALL.iter().map(|i| i.name()).collect();
        let _ = writeln!(
            out,
            "| corpus | chunks | {} | ours ÷ sse-stream | ours ÷ memchr2 | ours ÷ memcpy |",
            names.join(" | ")
        );
        let _ = writeln!(
            out,
            "|---|---|{}---:|---:|---:|",
            "---:|".repeat(names.len())
        );
        for (name, _, bytes, chunks) in &self.corpora {
            for &chunk in chunks {
                let group = decode_group(name, chunk);
                let others = ["sse-stream", "memchr2-per-line", "memcpy"];
                let cells = self.cells(&group, *bytes, &names, &others);
                let _ = writeln!(out, "| {name} | {} | {cells} |", chunk_label(chunk));
            }
        }
        let _ = writeln!(out, "\nCorpora:\n");
        for (name, description, bytes, _) in &self.corpora {
            let _ = writeln!(
                out,
                "- `{name}` ({:.1} MiB): {description}",
                *bytes as f64 / f64::from(1 << 20)
            );
        }
        let _ = writeln!(
            out,
            "\n– : not measured. eventsource-stream is left out of `line-8m` in chunks: it parses its whole buffer again for every chunk of an unfinished line, so one 8 MiB line in small chunks takes minutes.\n"
        );
    }

    fn render_encode(&self, out: &mut String) {
        let _ = writeln!(out, "### Encoding, MiB/s of output\n");
        let names: Vec<&str> = encode::Impl::ALL.iter().map(|i| i.name()).collect();
        let _ = writeln!(
            out,
            "| corpus | {} | ours ÷ sse-stream | ours ÷ axum | ours ÷ memcpy |",
            names.join(" | ")
        );
        let _ = writeln!(out, "|---|{}---:|---:|---:|", "---:|".repeat(names.len()));
        for (name, _, bytes) in &self.encode_corpora {
            let group = encode_group(name);
            let cells = self.cells(&group, *bytes, &names, &["sse-stream", "axum", "memcpy"]);
            let _ = writeln!(out, "| {name} | {cells} |");
        }
        let _ = writeln!(out, "\nCorpora:\n");
        for (name, description, bytes) in &self.encode_corpora {
            let _ = writeln!(
                out,
                "- `{name}` ({:.1} MiB encoded): {description}",
                *bytes as f64 / f64::from(1 << 20)
            );
        }
        let _ = writeln!(out);
    }

    fn render_allocations(&self, out: &mut String) {
        let _ = writeln!(out, "### Allocations per event (calls; bytes)\n");
        let mut names: Vec<&str> = Vec::new();
        for row in &self.allocations {
            for (name, ..) in &row.cells {
                if !names.contains(name) {
                    names.push(name);
                }
            }
        }
        let _ = writeln!(out, "| | corpus | chunks | {} |", names.join(" | "));
        let _ = writeln!(out, "|---|---|---|{}", "---:|".repeat(names.len()));
        for row in &self.allocations {
            let cells: Vec<String> = names
                .iter()
                .map(|name| {
                    row.cells
                        .iter()
                        .find(|(n, ..)| n == name)
                        .map_or("–".to_string(), |&(_, calls, bytes)| {
                            format!("{calls:.2}; {bytes:.0} B")
                        })
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row.direction,
                row.corpus,
                row.chunks,
                cells.join(" | ")
            );
        }
        let _ = writeln!(out);
    }

    /// Replaces the results section of `benches/README.md`, if every
    /// benchmark ran in this run; returns whether it did.
    pub fn write_readme(&self) -> std::io::Result<bool> {
        if self.missing > 0 {
            return Ok(false);
        }
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path)?;
        let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
            return Err(std::io::Error::other("no results markers in the README"));
        };
        let updated = format!(
            "{}{BEGIN}\n\n{}\n{}",
            &readme[..begin],
            self.render(),
            &readme[end..]
        );
        std::fs::write(&path, updated)?;
        Ok(true)
    }
}

/// The machine and its load, since the figures mean nothing without them.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    format!("Measured on {model}, {cpus} CPUs; load average at the end of the run: {load}.")
}

#[cfg(test)]
mod tests {
    use super::{AllocRow, Report, Times};

    fn report(times: &[(&str, &str, f64)]) -> Report {
        let mut row = AllocRow::new("decode", "small", "64B");
        row.push("sse-proto", 0, 0, 10);
        row.push("sse-stream", 30, 600, 10);
        Report {
            corpora: vec![("small", "small events", 1 << 20, vec![64])],
            encode_corpora: vec![("small", "small events", 1 << 20)],
            times: times
                .iter()
                .map(|&(group, function, ns)| ((group.to_string(), function.to_string()), ns))
                .collect::<Times>(),
            allocations: vec![row],
            missing: 0,
        }
    }

    #[test]
    fn targets_say_met_or_by_how_much_missed() {
        let table = report(&[
            ("decode-small-64B", "sse-proto", 100.0),
            ("decode-small-64B", "sse-stream", 300.0),
            ("decode-small-64B", "memchr2-per-line", 40.0),
            ("encode-small", "sse-proto", 100.0),
            ("encode-small", "sse-stream", 250.0),
        ])
        .render();
        assert!(table.contains("| decode `small`, 64B chunks: ≥ 2× sse-stream | 3.00× | met |"));
        assert!(table.contains("≥ 0.5× one memchr2 per line | 0.40× | missed by 20% |"));
        assert!(table.contains("| encode `small`: ≥ 5× sse-stream | 2.50× | missed by 50% |"));
        assert!(table.contains("| encode `small`: ≥ 10× axum | – | not measured |"));
        assert!(table.contains("| 0.00 per event | met |"));
        // 1 MiB in 100 ns.
        assert!(table.contains("| small | 64B | 10000000 |"));
        // Each row ends with ours over sse-stream, memchr2 and memcpy.
        assert!(table.contains(" | 3.00 | 0.40 | – |\n"), "{table}");
        assert!(
            table.contains("| small | 10000000 | 4000000 | – | – | – | 2.50 | – | – |\n"),
            "{table}"
        );
        assert!(table.contains("| decode | small | 64B | 0.00; 0 B | 3.00; 60 B |"));
    }
}
