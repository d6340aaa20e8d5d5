//! The report's four charts.

use std::path::Path;

use super::{Report, decode_group, encode_group};
use crate::chart::{self, Spread};
use crate::corpus::chunk_label;
use crate::{decode, encode};

impl Report {
    /// Draws the four charts into `dir`.
    pub fn write_charts(&self, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
        std::fs::create_dir_all(dir)?;
        let caption = format!(
            "{}. Median of {} rounds; black bars: lowest to highest round.",
            self.machine.describe(),
            self.rounds.len()
        );
        let rows: Vec<(String, Option<Spread>)> = self
            .targets()
            .iter()
            .filter(|t| t.goal != 0.0)
            .map(|t| (t.name.replace('`', ""), t.against_goal()))
            .collect();
        chart::goals(&dir.join("targets.svg"), "Targets", &caption, &rows)?;

        let names: Vec<&str> = decode::Impl::ALL.iter().map(|i| i.name()).collect();
        let mut groups = Vec::new();
        let mut values = Vec::new();
        for (name, _, bytes, chunks) in &self.corpora {
            for &chunk in chunks {
                let group = decode_group(name, chunk);
                groups.push(format!("{name} {}", chunk_label(chunk)));
                values.push(
                    names
                        .iter()
                        .map(|n| self.speed(&group, n, *bytes))
                        .collect(),
                );
            }
        }
        chart::grouped_bars(
            &dir.join("decode.svg"),
            "Decoding (higher is faster)",
            &caption,
            "MiB/s of input",
            &groups,
            &names,
            &values,
        )?;

        let names: Vec<&str> = encode::Impl::ALL.iter().map(|i| i.name()).collect();
        let groups: Vec<String> = self
            .encode_corpora
            .iter()
            .map(|c| c.0.to_string())
            .collect();
        let values: Vec<Vec<Option<Spread>>> = self
            .encode_corpora
            .iter()
            .map(|(name, _, bytes)| {
                let group = encode_group(name);
                names
                    .iter()
                    .map(|n| self.speed(&group, n, *bytes))
                    .collect()
            })
            .collect();
        chart::grouped_bars(
            &dir.join("encode.svg"),
            "Encoding (higher is faster)",
            &caption,
            "MiB/s of output",
            &groups,
            &names,
            &values,
        )?;

        let names = self.alloc_names();
        let groups: Vec<String> = self
            .allocations
            .iter()
            .map(|row| match row.direction {
                "encode" => format!("encode {}", row.corpus),
                _ => format!("{} {}", row.corpus, row.chunks),
            })
            .collect();
        let values: Vec<Vec<Option<Spread>>> = self
            .allocations
            .iter()
            .map(|row| {
                names
                    .iter()
                    .map(|name| {
                        let calls = row.calls(name).filter(|&c| c > 0.0)?;
                        Some(Spread {
                            median: calls,
                            min: calls,
                            max: calls,
                        })
                    })
                    .collect()
            })
            .collect();
        chart::grouped_bars(
            &dir.join("allocations.svg"),
            "Allocations per event (lower is better; no bar: none)",
            &format!("{}. Counted once.", self.machine.describe()),
            "allocation calls per event",
            &groups,
            &names,
            &values,
        )?;
        Ok(())
    }
}
