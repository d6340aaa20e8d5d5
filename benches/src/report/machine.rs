//! The machine, its load and the date, which every figure is shown with.

use std::time::SystemTime;

/// The machine, its load and the date, without which the figures mean
/// nothing.
#[derive(Clone, Debug)]
pub struct Machine {
    pub(super) model: String,
    pub(super) cpus: usize,
    pub(super) load_before: String,
    pub(super) load_after: String,
    pub(super) date: String,
}

impl Machine {
    /// The machine now; `load_before` from [`load_average`] at the start.
    pub fn now(load_before: String) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split(':').nth(1))
            .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
        Self {
            model,
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            load_before,
            load_after: load_average(),
            date: date(SystemTime::now()),
        }
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "{} ({} CPUs, shared), {}; load average {} at the start, {} at the end",
            self.model, self.cpus, self.date, self.load_before, self.load_after
        )
    }
}

/// The 1, 5 and 15-minute load averages.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `time` as a UTC date, `YYYY-MM-DD`.
fn date(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_are_utc_calendar_dates() {
        use std::time::{Duration, SystemTime};
        let at = |secs| date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01");
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_767_225_600), "2026-01-01");
    }
}
