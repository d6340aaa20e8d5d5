//! The figures of a run: one row per figure, one value per run and hub;
//! printed as one table (median, min–max, ratios against the reference hub,
//! the goal and how far from it), and written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::hubs::HubKind;

/// How a figure is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Shown in KiB.
    Bytes,
    Millis,
    PerSecond,
    Count,
    Seconds,
    /// 1 for yes, 0 for no.
    Flag,
}

impl Unit {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Self::Bytes => "KiB",
            Self::Millis => "ms",
            Self::PerSecond => "/s",
            Self::Count | Self::Flag => "",
            Self::Seconds => "s",
        }
    }

    /// The value in the unit shown (bytes become KiB).
    pub(crate) fn scaled(self, value: f64) -> f64 {
        match self {
            Self::Bytes => value / 1024.0,
            _ => value,
        }
    }

    pub(crate) fn format(self, value: f64) -> String {
        if value.is_nan() {
            return "–".into();
        }
        match self {
            Self::Bytes => decimals(value / 1024.0),
            Self::Millis | Self::Seconds => decimals(value),
            Self::PerSecond => rate(value),
            Self::Count => format!("{value:.0}"),
            Self::Flag => if value >= 0.5 { "yes" } else { "no" }.into(),
        }
    }
}

fn decimals(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn rate(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if value >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// What a figure should be, for our hub.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Goal {
    None,
    /// At most this, in every run.
    AtMost(f64),
    /// At least this, in every run.
    AtLeast(f64),
    /// At least this many times the reference hub's median.
    TimesReference(f64),
    /// At most the reference hub's median.
    NoWorseThanReference,
    /// Yes in every run.
    Yes,
    /// Compared with our median of another row (no pass or fail: the
    /// factor is shown).
    LikeRow(&'static str),
}

/// A figure: its row in the table, its place in the chart.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) unit: Unit,
    pub(crate) goal: Goal,
    /// The goal as the README writes it.
    pub(crate) goal_text: String,
    /// The chart panel (its title) and whether its axis is logarithmic.
    pub(crate) panel: Option<(String, bool)>,
    /// The figure's label inside its panel.
    pub(crate) category: String,
}

impl Spec {
    pub(crate) fn new(key: impl Into<String>, label: impl Into<String>, unit: Unit) -> Self {
        Self {
            key: key.into(),
            label: label.into(),
            unit,
            goal: Goal::None,
            goal_text: String::new(),
            panel: None,
            category: String::new(),
        }
    }

    pub(crate) fn with_goal(mut self, goal: Goal, text: impl Into<String>) -> Self {
        self.goal = goal;
        self.goal_text = text.into();
        self
    }

    pub(crate) fn with_panel(
        mut self,
        title: impl Into<String>,
        log: bool,
        category: impl Into<String>,
    ) -> Self {
        self.panel = Some((title.into(), log));
        self.category = category.into();
        self
    }
}

/// A row: its spec and every run's value per hub.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) spec: Spec,
    pub(crate) values: BTreeMap<HubKind, Vec<f64>>,
}

/// Median, min and max of a row's runs for one hub.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

pub(crate) fn spread(values: &[f64]) -> Option<Spread> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    // Not empty: the indexing below is in bounds.
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    };
    Some(Spread {
        median,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    })
}

impl Row {
    pub(crate) fn spread(&self, hub: HubKind) -> Option<Spread> {
        spread(self.values.get(&hub)?)
    }
}

/// Every figure of a run.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    /// The hubs in column order.
    pub(crate) hubs: Vec<HubKind>,
    /// The hub the ratios are taken against.
    pub(crate) reference: HubKind,
    /// The hub the goals are for.
    pub(crate) subject: HubKind,
    pub(crate) notes: Vec<String>,
}

impl Report {
    pub(crate) fn new(hubs: Vec<HubKind>, reference: HubKind) -> Self {
        Self {
            rows: Vec::new(),
            hubs,
            reference,
            subject: HubKind::Ours,
            notes: Vec::new(),
        }
    }

    /// Adds one run's value of a figure for a hub.
    pub(crate) fn add(&mut self, spec: &Spec, hub: HubKind, value: f64) {
        let index = match self.rows.iter().position(|row| row.spec.key == spec.key) {
            Some(index) => index,
            None => {
                self.rows.push(Row {
                    spec: spec.clone(),
                    values: BTreeMap::new(),
                });
                self.rows.len() - 1
            }
        };
        // `index` was found or pushed just above.
        self.rows[index].values.entry(hub).or_default().push(value);
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|row| row.spec.key == key)
    }

    /// The hubs that have a value somewhere, in column order.
    pub(crate) fn present_hubs(&self) -> Vec<HubKind> {
        self.hubs
            .iter()
            .copied()
            .filter(|hub| self.rows.iter().any(|row| row.values.contains_key(hub)))
            .collect()
    }

    /// The goal's verdict for the subject hub: the goal's value (in the
    /// row's unit) and a few words on how far from it the subject is.
    pub(crate) fn verdict(&self, row: &Row) -> Option<(Option<f64>, String)> {
        let values = row.values.get(&self.subject)?;
        let ours = spread(values)?;
        let reference = row.spread(self.reference).map(|s| s.median);
        let unit = row.spec.unit;
        let at_most = |goal: f64| {
            // Every run must meet it: judge the worst.
            if ours.max <= goal {
                "met".to_string()
            } else if goal > 0.0 {
                format!("{:.1}× the goal (worst run)", ours.max / goal)
            } else {
                format!("{} over (worst run)", unit.format(ours.max - goal))
            }
        };
        let at_least = |goal: f64| {
            if ours.min >= goal {
                "met".to_string()
            } else {
                format!("{:.0}% short (worst run)", (1.0 - ours.min / goal) * 100.0)
            }
        };
        Some(match row.spec.goal {
            Goal::None => return None,
            Goal::AtMost(goal) => (Some(goal), at_most(goal)),
            Goal::AtLeast(goal) => (Some(goal), at_least(goal)),
            Goal::TimesReference(times) => match reference {
                Some(r) => (Some(r * times), at_least(r * times)),
                None => (
                    None,
                    format!("no {} to compare with", self.reference.name()),
                ),
            },
            Goal::NoWorseThanReference => match reference {
                Some(r) if ours.median <= r => (Some(r), "met (median)".into()),
                Some(r) => (
                    Some(r),
                    format!(
                        "{:.1}× {}'s (median)",
                        ours.median / r,
                        self.reference.name()
                    ),
                ),
                None => (
                    None,
                    format!("no {} to compare with", self.reference.name()),
                ),
            },
            Goal::Yes => {
                let yes = values.iter().filter(|&&v| v >= 0.5).count();
                if yes == values.len() {
                    (None, "met".into())
                } else {
                    (
                        None,
                        format!("missed in {} of {} runs", values.len() - yes, values.len()),
                    )
                }
            }
            Goal::LikeRow(key) => {
                match self.row(key).and_then(|other| other.spread(self.subject)) {
                    Some(other) if other.median > 0.0 => (
                        Some(other.median),
                        format!(
                            "{:.2}× ({})",
                            ours.median / other.median,
                            unit.format(other.median)
                        ),
                    ),
                    _ => (None, "not measured".into()),
                }
            }
        })
    }

    /// The table, in Markdown.
    pub(crate) fn table(&self) -> String {
        let hubs = self.present_hubs();
        let others: Vec<HubKind> = hubs
            .iter()
            .copied()
            .filter(|&h| h != self.reference)
            .collect();
        let has_reference = hubs.contains(&self.reference);
        let mut out = String::from("| figure |");
        for hub in &hubs {
            let _ = write!(out, " {} |", hub.name());
        }
        if has_reference {
            for hub in &others {
                let _ = write!(out, " {} ÷ {} |", hub.name(), self.reference.name());
            }
        }
        out.push_str(" goal | ours vs goal |\n|---|");
        let columns = hubs.len() + if has_reference { others.len() } else { 0 };
        out.push_str(&"---:|".repeat(columns));
        out.push_str("---|---|\n");
        for row in &self.rows {
            let unit = row.spec.unit;
            let suffix = unit.suffix();
            let label = if suffix.is_empty() || suffix == "/s" {
                row.spec.label.clone()
            } else {
                format!("{} ({suffix})", row.spec.label)
            };
            let _ = write!(out, "| {label} |");
            for &hub in &hubs {
                let cell = match row.spread(hub) {
                    None => "–".to_string(),
                    // `spread` found values for this hub.
                    Some(s) if unit == Unit::Flag => flag_cell(&row.values[&hub], s),
                    Some(s) if s.min == s.max => unit.format(s.median),
                    Some(s) => format!(
                        "{} ({}–{})",
                        unit.format(s.median),
                        unit.format(s.min),
                        unit.format(s.max)
                    ),
                };
                let _ = write!(out, " {cell} |");
            }
            if has_reference {
                let reference = row.spread(self.reference).map(|s| s.median);
                for &hub in &others {
                    let ratio = match (row.spread(hub), reference) {
                        _ if unit == Unit::Flag => "".to_string(),
                        (Some(s), Some(r)) if r != 0.0 => format!("{:.2}", s.median / r),
                        _ => "–".to_string(),
                    };
                    let _ = write!(out, " {ratio} |");
                }
            }
            let verdict = self
                .verdict(row)
                .map(|(_, words)| words)
                .unwrap_or_default();
            let _ = writeln!(out, " {} | {verdict} |", row.spec.goal_text);
        }
        out
    }

    /// Everything, as JSON.
    pub(crate) fn json(&self, header: Value) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut values = serde_json::Map::new();
                for (hub, runs) in &row.values {
                    if let Some(s) = spread(runs) {
                        values.insert(
                            hub.name().into(),
                            json!({ "median": s.median, "min": s.min, "max": s.max, "runs": runs }),
                        );
                    }
                }
                let verdict = self.verdict(row);
                json!({
                    "key": row.spec.key,
                    "label": row.spec.label,
                    "unit": match row.spec.unit {
                        Unit::Bytes => "bytes",
                        Unit::Millis => "ms",
                        Unit::PerSecond => "per second",
                        Unit::Count => "count",
                        Unit::Seconds => "s",
                        Unit::Flag => "yes=1",
                    },
                    "goal": row.spec.goal_text,
                    "goal_value": verdict.as_ref().and_then(|(value, _)| *value),
                    "verdict": verdict.map(|(_, words)| words),
                    "values": values,
                })
            })
            .collect();
        json!({
            "run": header,
            "reference": self.reference.name(),
            "notes": self.notes,
            "figures": rows,
        })
    }
}

fn flag_cell(values: &[f64], spread: Spread) -> String {
    let yes = values.iter().filter(|&&v| v >= 0.5).count();
    if spread.min == spread.max {
        Unit::Flag.format(spread.median)
    } else {
        format!("yes in {yes} of {}", values.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads() {
        assert_eq!(
            spread(&[3.0, 1.0, 2.0]),
            Some(Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(spread(&[4.0, 1.0]).map(|s| s.median), Some(2.5));
        assert_eq!(spread(&[f64::NAN]), None);
    }

    #[test]
    fn goals_judge_the_worst_run() {
        let mut report = Report::new(vec![HubKind::Ours, HubKind::Nchan], HubKind::Nchan);
        let memory =
            Spec::new("m", "memory", Unit::Bytes).with_goal(Goal::AtMost(2048.0), "≤ 2 KiB");
        for v in [1000.0, 3000.0, 1500.0] {
            report.add(&memory, HubKind::Ours, v);
        }
        let rate = Spec::new("r", "rate", Unit::PerSecond)
            .with_goal(Goal::TimesReference(2.0), "≥ 2× nchan");
        report.add(&rate, HubKind::Ours, 150.0);
        report.add(&rate, HubKind::Nchan, 100.0);
        let (goal, words) = report.verdict(&report.rows[0]).unwrap();
        assert_eq!(goal, Some(2048.0));
        assert!(words.starts_with("1.5× the goal"), "{words}");
        let (goal, words) = report.verdict(&report.rows[1]).unwrap();
        assert_eq!(goal, Some(200.0));
        assert!(words.starts_with("25% short"), "{words}");
        let table = report.table();
        assert!(
            table.contains("| memory (KiB) | 1.46 (0.98–2.93) | – | – |"),
            "{table}"
        );
        assert!(table.contains("| rate | 150 | 100 | 1.50 |"), "{table}");
    }
}
