//! What the benchmark reads from Linux (`/proc`) and sets on itself, and
//! the progress line it prints every second.

use std::fmt::Write as _;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Raises the soft limit on open descriptors to the hard limit; the hubs
/// started afterwards inherit it. Returns the new soft limit.
pub(crate) fn raise_nofile_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a pointer to a live rlimit, which getrlimit fills.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: a pointer to a live, initialised rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit.rlim_cur)
}

/// The resident set of a process, in bytes (`VmRSS` in
/// `/proc/PID/status`).
pub(crate) fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other(format!("no VmRSS for process {pid}")))
}

/// CPU time a process has used, user and system, in seconds (`utime` and
/// `stime` in `/proc/PID/stat`, in clock ticks of 10 ms).
pub(crate) fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, in parentheses, may hold spaces: count the
    // fields after its closing parenthesis (the state is the first).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
        return Err(io::Error::other(format!("no CPU times for process {pid}")));
    };
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = if per_second > 0 {
        per_second as f64
    } else {
        100.0
    };
    Ok((user + system) as f64 / per_second)
}

/// How many descriptors a process holds open (`/proc/PID/fd`).
pub(crate) fn fd_count(pid: u32) -> io::Result<u64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64)
}

/// The TCP line of `/proc/net/sockstat`: machine-wide, both ends of every
/// loopback connection.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sockstat {
    /// Sockets in use.
    pub(crate) inuse: u64,
    /// Kernel buffer memory of TCP sockets, in bytes (`mem`, in pages).
    pub(crate) mem_bytes: u64,
}

pub(crate) fn sockstat() -> io::Result<Sockstat> {
    let text = std::fs::read_to_string("/proc/net/sockstat")?;
    let line = text
        .lines()
        .find(|line| line.starts_with("TCP:"))
        .ok_or_else(|| io::Error::other("no TCP line in /proc/net/sockstat"))?;
    let mut stat = Sockstat::default();
    let words: Vec<&str> = line.split_whitespace().collect();
    // Windows of two: `pair[0]` and `pair[1]` exist.
    for pair in words.windows(2) {
        let value = pair[1].parse::<u64>().unwrap_or(0);
        match pair[0] {
            "inuse" => stat.inuse = value,
            "mem" => stat.mem_bytes = value * page_size(),
            _ => {}
        }
    }
    Ok(stat)
}

/// The kernel objects each TCP socket end brings, from `/proc/slabinfo`
/// (root only): the socket itself (`TCP`), its inode
/// (`sock_inode_cache`) and its epoll registration (`eventpoll_epi`).
/// Machine-wide: both ends of every connection, and anything else on the
/// machine using these caches.
const SOCKET_SLABS: [&str; 3] = ["TCP", "sock_inode_cache", "eventpoll_epi"];

/// Bytes in use in the slab caches of `SOCKET_SLABS`; `None` where
/// `/proc/slabinfo` cannot be read.
pub(crate) fn socket_slab_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/slabinfo").ok()?;
    let mut total = 0;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next() else { continue };
        if !SOCKET_SLABS.contains(&name) {
            continue;
        }
        let active: u64 = fields.next()?.parse().ok()?;
        let _total_objects = fields.next()?;
        let size: u64 = fields.next()?.parse().ok()?;
        total += active * size;
    }
    Some(total)
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

/// The machine, as the README names it.
#[derive(Clone, Debug)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) kernel: String,
}

impl Machine {
    pub(crate) fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, name)| name.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|text| text.trim().to_string())
            .unwrap_or_default();
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: memory_kib / (1024.0 * 1024.0),
            kernel,
        }
    }
}

/// The load average (`/proc/loadavg`, first three fields).
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (the well-known
/// era-based conversion: 400-year eras of 146,097 days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Counters of the scenario that is running, printed to stderr once a
/// second by [`spawn_progress_on`].
pub(crate) struct Progress {
    label: Mutex<String>,
    pub(crate) opened: AtomicU64,
    pub(crate) published: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) errors: AtomicU64,
}

pub(crate) static PROGRESS: Progress = Progress {
    label: Mutex::new(String::new()),
    opened: AtomicU64::new(0),
    published: AtomicU64::new(0),
    delivered: AtomicU64::new(0),
    errors: AtomicU64::new(0),
};

impl Progress {
    /// Starts a new step: a label and counters from zero.
    pub(crate) fn start(&self, label: String) {
        if let Ok(mut current) = self.label.lock() {
            *current = label;
        }
        for counter in [&self.opened, &self.published, &self.delivered, &self.errors] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn line(&self, elapsed: Duration) -> String {
        let mut line = format!("[{:>4}s] ", elapsed.as_secs());
        if let Ok(label) = self.label.lock() {
            line.push_str(&label);
        }
        for (name, counter) in [
            ("open", &self.opened),
            ("published", &self.published),
            ("delivered", &self.delivered),
            ("errors", &self.errors),
        ] {
            let value = counter.load(Ordering::Relaxed);
            if value > 0 {
                let _ = write!(line, ", {name} {value}");
            }
        }
        line
    }
}

/// Prints the progress line every second on `runtime` until it stops.
pub(crate) fn spawn_progress_on(runtime: &tokio::runtime::Runtime, quiet: bool) {
    if quiet {
        return;
    }
    let start = Instant::now();
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            eprintln!("{}", PROGRESS.line(start.elapsed()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn this_process_is_measured() {
        let pid = std::process::id();
        assert!(rss_bytes(pid).unwrap() > 0);
        assert!(fd_count(pid).unwrap() >= 3);
        let before = cpu_seconds(pid).unwrap();
        let spin = Instant::now();
        let mut n = 0u64;
        while spin.elapsed() < Duration::from_millis(50) {
            n = std::hint::black_box(n.wrapping_add(1));
        }
        assert!(cpu_seconds(pid).unwrap() > before);
        assert!(sockstat().is_ok());
        // Root on Linux reads the slab caches; others may not.
        if let Some(bytes) = socket_slab_bytes() {
            assert!(bytes > 0);
        }
    }
}
