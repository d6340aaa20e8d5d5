//! A report as JSON, kept in `benches/results.json` so that the tables and
//! charts can be drawn again without measuring.

use super::{AllocRow, Machine, Report, Round};
use crate::corpus::{Corpus, EncodeCorpus};
use crate::{decode, encode};

impl Report {
    /// Everything measured, as JSON: what `benches/results.json` keeps, so
    /// that the tables and charts can be drawn again without measuring
    /// (`SSE_BENCH_REPORT=benches/results.json`).
    pub fn to_json(&self) -> serde_json::Value {
        let rounds: Vec<serde_json::Value> = self
            .rounds
            .iter()
            .map(|round| {
                round
                    .iter()
                    .map(|((group, function), ns)| serde_json::json!([group, function, ns]))
                    .collect()
            })
            .collect();
        let allocations: Vec<serde_json::Value> = self
            .allocations
            .iter()
            .map(|row| {
                serde_json::json!({
                    "direction": row.direction,
                    "corpus": row.corpus,
                    "chunks": row.chunks,
                    "cells": row.cells.iter().map(|(name, calls, bytes)| serde_json::json!([name, calls, bytes])).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "machine": {
                "model": self.machine.model,
                "cpus": self.machine.cpus,
                "load_before": self.machine.load_before,
                "load_after": self.machine.load_after,
                "date": self.machine.date,
            },
            "rounds": rounds,
            "allocations": allocations,
        })
    }

    /// A report from what [`to_json`](Self::to_json) wrote, for `corpora`.
    pub fn from_json(
        corpora: &[Corpus],
        encode_corpora: &[EncodeCorpus],
        json: &serde_json::Value,
    ) -> Option<Self> {
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let machine = &json["machine"];
        let machine = Machine {
            model: text(&machine["model"])?,
            cpus: usize::try_from(machine["cpus"].as_u64()?).ok()?,
            load_before: text(&machine["load_before"])?,
            load_after: text(&machine["load_after"])?,
            date: text(&machine["date"])?,
        };
        let rounds = json["rounds"]
            .as_array()?
            .iter()
            .map(|round| {
                round
                    .as_array()?
                    .iter()
                    .map(|entry| Some(((text(&entry[0])?, text(&entry[1])?), entry[2].as_f64()?)))
                    .collect::<Option<Round>>()
            })
            .collect::<Option<Vec<Round>>>()?;
        // Names in the tables are the implementations' own `&'static str`s.
        let names: Vec<&'static str> = decode::Impl::ALL
            .iter()
            .map(|i| i.name())
            .chain(encode::Impl::ALL.iter().map(|i| i.name()))
            .collect();
        let known = |name: &str| names.iter().copied().find(|n| *n == name);
        let corpus_name = |name: &str| {
            corpora
                .iter()
                .map(|c| c.name)
                .chain(encode_corpora.iter().map(|c| c.name))
                .find(|n| *n == name)
        };
        let allocations = json["allocations"]
            .as_array()?
            .iter()
            .map(|row| {
                let direction = match row["direction"].as_str()? {
                    "decode" => "decode",
                    _ => "encode",
                };
                let mut parsed = AllocRow::new(
                    direction,
                    corpus_name(row["corpus"].as_str()?)?,
                    row["chunks"].as_str()?,
                );
                for cell in row["cells"].as_array()? {
                    parsed.cells.push((
                        known(cell[0].as_str()?)?,
                        cell[1].as_f64()?,
                        cell[2].as_f64()?,
                    ));
                }
                Some(parsed)
            })
            .collect::<Option<Vec<AllocRow>>>()?;
        Some(Self::new(
            corpora,
            encode_corpora,
            rounds,
            allocations,
            machine,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::Report;
    use crate::report::tests::rounds;

    #[test]
    fn reports_are_drawn_again_from_their_json() {
        use crate::corpus::{Corpus, EncodeCorpus};
        let report = rounds();
        let corpora = [Corpus {
            name: "small",
            description: "small events",
            bytes: vec![0; 1 << 20],
            events: 1,
            data_bytes: 1,
            max_event_len: 1,
            chunk_sizes: &[64],
        }];
        let encode_corpora = [EncodeCorpus {
            name: "small",
            description: "small events",
            events: Vec::new(),
        }];
        let again = Report::from_json(&corpora, &encode_corpora, &report.to_json()).unwrap();
        assert_eq!(again.rounds, report.rounds);
        assert_eq!(again.machine.describe(), report.machine.describe());
        assert_eq!(again.targets().len(), report.targets().len());
        assert_eq!(
            again.allocations[0].calls("sse-stream"),
            report.allocations[0].calls("sse-stream")
        );
    }
}
