//! Timestamps and the injectable clock that makes expiry deterministic in tests.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC).
///
/// Milliseconds because that is what Redis `PXAT` takes and what fits every SQL
/// `BIGINT`; a plain integer keeps every backend's encoding trivial.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The epoch itself.
    pub const EPOCH: Timestamp = Timestamp(0);
    /// The latest representable instant.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded up (an expiry never comes early).
    pub const fn as_secs_ceil(self) -> i64 {
        self.0.div_euclid(1000) + if self.0.rem_euclid(1000) > 0 { 1 } else { 0 }
    }

    /// From a [`SystemTime`]; times before the epoch clamp to the epoch.
    pub fn from_system(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(_) => Timestamp::EPOCH,
        }
    }

    /// As a [`SystemTime`].
    pub fn to_system(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }

    /// This instant plus `d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_ms(d)))
    }

    /// This instant minus `d`, saturating.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_ms(d)))
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}ms)", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where stores and sessions read "now" from.
///
/// Production code uses [`Clock::system`]; tests hand a [`ManualClock`] to a store and
/// to the session options so that idle and absolute expiry can be checked without
/// sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<ManualClock>,
}

impl Clock {
    /// The operating system's wall clock.
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(m) => m.now(),
            None => Timestamp::from_system(SystemTime::now()),
        }
    }

    /// Whether this clock is driven by hand.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            Some(m) => write!(f, "Clock::Manual({:?})", m.now()),
            None => f.write_str("Clock::System"),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(m: ManualClock) -> Self {
        Clock { manual: Some(m) }
    }
}

/// A clock that only moves when told to. Clones share the same instant.
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// Starts at the real current time, so records it stamps also make sense to servers
    /// that enforce TTLs with their own clocks.
    pub fn new() -> Self {
        Self::at(Timestamp::from_system(SystemTime::now()))
    }

    /// Starts at `t`.
    pub fn at(t: Timestamp) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(t.as_millis())),
        }
    }

    /// The current manual instant.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.now.load(Ordering::SeqCst))
    }

    /// Moves time forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.now.fetch_add(duration_ms(d), Ordering::SeqCst);
    }

    /// Sets the instant.
    pub fn set(&self, t: Timestamp) {
        self.now.store(t.as_millis(), Ordering::SeqCst);
    }

    /// This manual clock as a [`Clock`].
    pub fn clock(&self) -> Clock {
        Clock::from(self.clone())
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManualClock({:?})", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs_round_up() {
        assert_eq!(Timestamp::from_millis(1000).as_secs_ceil(), 1);
        assert_eq!(Timestamp::from_millis(1001).as_secs_ceil(), 2);
        assert_eq!(Timestamp::from_millis(0).as_secs_ceil(), 0);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let m = ManualClock::at(Timestamp::from_millis(5_000));
        let c = m.clock();
        assert_eq!(c.now(), Timestamp::from_millis(5_000));
        m.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Timestamp::from_millis(7_000));
        assert!(c.is_manual());
        assert!(!Clock::system().is_manual());
    }
}
