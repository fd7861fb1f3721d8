//! `stats`: how many sessions, how many expired, and how large.

use serde_json::{json, Value};
use session_core::Timestamp;

use crate::exit::AdminResult;
use crate::pages::Pages;
use crate::progress::Progress;
use crate::report::Report;
use crate::target::Target;

/// Sizes by power-of-two bucket: bucket `i` holds sizes in `(2^(i-1), 2^i]`, bucket 0
/// sizes 0 and 1.
#[derive(Debug)]
struct Sizes {
    buckets: [u64; 65],
    total: u64,
    min: Option<u64>,
    max: u64,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            buckets: [0; 65],
            total: 0,
            min: None,
            max: 0,
        }
    }
}

impl Sizes {
    fn add(&mut self, size: u64) {
        let bucket = match size {
            0 | 1 => 0,
            n => (u64::BITS - (n - 1).leading_zeros()) as usize,
        };
        self.buckets[bucket] += 1;
        self.total = self.total.saturating_add(size);
        self.min = Some(self.min.map_or(size, |m| m.min(size)));
        self.max = self.max.max(size);
    }

    /// The non-empty buckets: upper bound in bytes and count.
    fn histogram(&self) -> Vec<(u64, u64)> {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (1u64.checked_shl(i as u32).unwrap_or(u64::MAX), *n))
            .collect()
    }
}

/// Walks every session and reports counts (all, live, expired, unreadable) and the
/// distribution of stored sizes. Not a snapshot: sessions written during the walk may
/// or may not be counted.
pub async fn run(target: &Target, page_size: usize, quiet: bool) -> AdminResult<Report> {
    target.require_enumerable("stats")?;
    let store = target.open().await?;
    let mut pages = Pages::new(&*store, page_size, "stats")?;
    let progress = Progress::new("stats", quiet);
    let (mut all, mut expired, mut unreadable) = (0u64, 0u64, 0u64);
    let mut sizes = Sizes::default();
    while let Some(entries) = pages.next().await? {
        let now = Timestamp::from_system(std::time::SystemTime::now());
        for e in &entries {
            all += 1;
            match e.expires_at {
                None => unreadable += 1,
                Some(_) if e.is_expired(now) => expired += 1,
                Some(_) => {}
            }
            sizes.add(e.size);
        }
        progress.advance(entries.len() as u64, format!("{expired} expired"));
    }
    progress.finish();
    let live = all - expired - unreadable;
    let mean = sizes.total.checked_div(all).unwrap_or(0);
    let histogram = sizes.histogram();
    let json = json!({
        "command": "stats",
        "backend": target.scheme(),
        "sessions": all,
        "live": live,
        "expired": expired,
        "unreadable": unreadable,
        "bytes": {
            "total": sizes.total,
            "min": sizes.min.unwrap_or(0),
            "mean": mean,
            "max": sizes.max,
        },
        "size_histogram": histogram
            .iter()
            .map(|(up_to, n)| json!({"up_to_bytes": up_to, "sessions": n}))
            .collect::<Vec<Value>>(),
    });
    let mut text = format!(
        "sessions    {all}\n  live      {live}\n  expired   {expired}{}\n",
        if expired > 0 {
            "   (`session-admin gc` removes them)"
        } else {
            ""
        }
    );
    if unreadable > 0 {
        text.push_str(&format!(
            "  unreadable {unreadable}   (stored in a layout this build cannot read)\n"
        ));
    }
    text.push_str(&format!(
        "size (bytes) total {}, min {}, mean {mean}, max {}",
        sizes.total,
        sizes.min.unwrap_or(0),
        sizes.max
    ));
    for (up_to, n) in &histogram {
        text.push_str(&format!("\n  <= {up_to:>10}  {n}"));
    }
    Ok(Report::new(json, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_of_two_buckets() {
        let mut s = Sizes::default();
        for size in [0, 1, 2, 3, 4, 5, 1024, 1025, u64::MAX] {
            s.add(size);
        }
        assert_eq!(
            s.histogram(),
            vec![
                (1, 2),
                (2, 1),
                (4, 2),
                (8, 1),
                (1024, 1),
                (2048, 1),
                (u64::MAX, 1)
            ]
        );
        assert_eq!((s.min, s.max), (Some(0), u64::MAX));
    }
}
