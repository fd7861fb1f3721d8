//! Shared measuring and reporting: timing, rates, process memory, the machine, and
//! Markdown tables (so a run's output can go straight into the bench docs).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// Operations per second.
pub fn rate(ops: u64, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// A whole number with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate rounded to a whole number, with separators.
pub fn fmt_rate(r: f64) -> String {
    thousands(r.round() as u64)
}

/// Kibibytes as MiB with one decimal.
pub fn fmt_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Resident memory of this process, from `/proc/self/status` (Linux).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Current resident set size, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size since start or the last [`reset_peak`], KiB (`VmHWM`).
    pub peak_kib: u64,
}

/// Reads the current and peak resident memory; `None` off Linux.
pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

/// Resets the peak (`VmHWM`) to the current RSS, so the next reading is the peak of
/// what runs in between (Linux's `/proc/self/clear_refs`, value 5). `false` if the
/// kernel refused; the peak then covers the whole run so far.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

/// CPU model, core count and kernel, from `/proc`.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    // The machine's CPUs, not this process's share (`taskset` narrows that): one
    // "processor" line per logical CPU.
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown kernel".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map(|kib| format!(", {:.0} GiB RAM", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores{mem}, Linux {kernel}")
}

/// The filesystem type and device holding `path`, from `/proc/self/mountinfo`.
pub fn filesystem(path: &Path) -> String {
    let Ok(path) = path.canonicalize() else {
        return "unknown filesystem".to_owned();
    };
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return "unknown filesystem".to_owned();
    };
    // The mount point that is the longest prefix of the path holds it.
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(mount), Some(fstype), Some(source)) =
            (fields.get(4), fields.get(dash + 1), fields.get(dash + 2))
        else {
            continue;
        };
        if path.starts_with(mount) && best.as_ref().is_none_or(|(len, _)| mount.len() >= *len) {
            best = Some((mount.len(), format!("{fstype} on {source}")));
        }
    }
    best.map(|(_, s)| s)
        .unwrap_or_else(|| "unknown filesystem".to_owned())
}

/// A Markdown table built row by row and printed at the end.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (one cell per header).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as aligned Markdown.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .chain(std::iter::once(&self.headers[i]))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            out.push('|');
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let _ = write!(out, " {cell:<w$} |");
            }
            out.push('\n');
        };
        line(&mut out, &self.headers);
        out.push('|');
        for w in &widths {
            let _ = write!(out, "{}|", "-".repeat(w + 2));
        }
        out.push('\n');
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn table_renders_aligned_markdown() {
        let mut t = Table::new(&["op", "ops/s"]);
        t.row(vec!["load".into(), "1,000".into()]);
        assert_eq!(
            t.render(),
            "| op   | ops/s |\n|------|-------|\n| load | 1,000 |\n"
        );
    }

    #[test]
    fn memory_reads_proc_on_linux() {
        if cfg!(target_os = "linux") {
            let m = memory().unwrap();
            assert!(m.rss_kib > 0 && m.peak_kib >= m.rss_kib);
        }
    }
}
