//! How a session expires, when it is touched and when it is saved.

use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::params::parse_duration;
use crate::{Clock, Error, Result, Timestamp};

/// Idle timeout and absolute lifetime, enforced together: a session ends at whichever
/// deadline comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    idle: Option<Duration>,
    absolute: Option<Duration>,
}

impl Expiry {
    /// Both limits; at least one must be set and none may be zero.
    pub fn new(idle: Option<Duration>, absolute: Option<Duration>) -> Result<Self> {
        if idle.is_none() && absolute.is_none() {
            return Err(Error::Config(
                "expiry needs an idle timeout, an absolute lifetime, or both".into(),
            ));
        }
        if idle.is_some_and(|d| d.is_zero()) || absolute.is_some_and(|d| d.is_zero()) {
            return Err(Error::Config("expiry durations must be non-zero".into()));
        }
        Ok(Expiry { idle, absolute })
    }

    /// Ends after `idle` without access, however old the session.
    pub fn idle(idle: Duration) -> Result<Self> {
        Self::new(Some(idle), None)
    }

    /// Ends `absolute` after creation, however active the session.
    pub fn absolute(absolute: Duration) -> Result<Self> {
        Self::new(None, Some(absolute))
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.idle
    }

    /// The absolute lifetime.
    pub fn absolute_lifetime(&self) -> Option<Duration> {
        self.absolute
    }

    /// The deadline of a session created at `created` and last accessed at `accessed`.
    pub fn deadline(&self, created: Timestamp, accessed: Timestamp) -> Timestamp {
        let idle = self.idle.map(|d| accessed.saturating_add(d));
        let absolute = self.absolute.map(|d| created.saturating_add(d));
        match (idle, absolute) {
            (Some(i), Some(a)) => i.min(a),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => Timestamp::MAX,
        }
    }
}

impl Default for Expiry {
    /// 24 hours idle, 30 days absolute.
    fn default() -> Self {
        Expiry {
            idle: Some(Duration::from_secs(24 * 3600)),
            absolute: Some(Duration::from_secs(30 * 24 * 3600)),
        }
    }
}

/// When an unchanged session's deadline is extended.
///
/// Written in configuration as `always`, `on_change`, `throttled` (once a minute) or
/// `throttled:<duration>` ([`parse_duration`]'s grammar); [`FromStr`](std::str::FromStr)
/// and `Deserialize` read that text.
///
/// ```
/// use std::time::Duration;
/// use session_core::TouchPolicy;
///
/// assert_eq!("on_change".parse::<TouchPolicy>()?, TouchPolicy::OnChange);
/// assert_eq!(
///     "throttled:5m".parse::<TouchPolicy>()?,
///     TouchPolicy::Throttled(Duration::from_secs(300))
/// );
/// assert!("sometimes".parse::<TouchPolicy>().is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum TouchPolicy {
    /// On every request that uses the session.
    Always,
    /// Only when the data changes (TurboGears' `tg_avoid_touch`): reads cost no write.
    OnChange,
    /// At most once per interval, with a cheap `touch` rather than a rewrite. An idle
    /// session then ends between `idle - interval` and `idle` after its last use.
    Throttled(Duration),
}

impl Default for TouchPolicy {
    /// Throttled to once a minute: idle expiry stays accurate to a minute while most
    /// requests cost no write.
    fn default() -> Self {
        TouchPolicy::Throttled(Duration::from_secs(60))
    }
}

impl TouchPolicy {
    /// Whether a session last touched at `accessed` should be touched at `now`.
    pub fn is_due(self, accessed: Timestamp, now: Timestamp) -> bool {
        match self {
            TouchPolicy::Always => true,
            TouchPolicy::OnChange => false,
            TouchPolicy::Throttled(d) => now.since(accessed) >= d,
        }
    }
}

/// When changes are written.
///
/// Written in configuration as `auto` or `explicit`; [`FromStr`](std::str::FromStr) and
/// `Deserialize` read that text.
///
/// ```
/// use session_core::SaveMode;
/// assert_eq!("explicit".parse::<SaveMode>()?, SaveMode::Explicit);
/// assert!("lazy".parse::<SaveMode>().is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum SaveMode {
    /// Saved at the end of the request if anything changed.
    #[default]
    Auto,
    /// Beaker's default: only sessions on which `save()` (or `persist()`) was called are
    /// written; other changes are dropped at the end of the request.
    Explicit,
}

impl FromStr for TouchPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim() {
            "always" => TouchPolicy::Always,
            "on_change" | "on-change" => TouchPolicy::OnChange,
            "throttled" => TouchPolicy::default(),
            other => match other.strip_prefix("throttled:") {
                Some(d) => TouchPolicy::Throttled(parse_duration("touch interval", d)?),
                None => {
                    return Err(Error::Config(format!(
                        "touch must be always, on_change, throttled or throttled:<duration>; got {other:?}"
                    )))
                }
            },
        })
    }
}

impl FromStr for SaveMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "auto" => Ok(SaveMode::Auto),
            "explicit" => Ok(SaveMode::Explicit),
            other => Err(Error::Config(format!(
                "save_mode must be auto or explicit; got {other:?}"
            ))),
        }
    }
}

/// `Deserialize` goes through `String`; the message is the configuration error's own
/// text, without the `Error` prefix, so serde's location reads naturally before it.
fn config_message(e: Error) -> String {
    match e {
        Error::Config(msg) => msg,
        other => other.to_string(),
    }
}

impl TryFrom<String> for TouchPolicy {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse().map_err(config_message)
    }
}

impl TryFrom<String> for SaveMode {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse().map_err(config_message)
    }
}

/// Settings for the request-local [`Session`](crate::Session) handle.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Idle timeout and absolute lifetime.
    pub expiry: Expiry,
    /// When unchanged sessions are touched.
    pub touch: TouchPolicy,
    /// When changes are written.
    pub save_mode: SaveMode,
    /// How many times a save that hit `Conflict` is re-applied on a fresh copy (after
    /// a short random pause) before the error is returned. Default 16.
    pub conflict_retries: u32,
    /// Where "now" comes from.
    pub clock: Clock,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            expiry: Expiry::default(),
            touch: TouchPolicy::default(),
            save_mode: SaveMode::default(),
            conflict_retries: 16,
            clock: Clock::system(),
        }
    }
}

impl SessionOptions {
    /// Checks the settings work together: a throttle interval at or past the idle
    /// timeout would let sessions in steady use expire between two touches.
    pub fn validate(&self) -> Result<()> {
        if let (TouchPolicy::Throttled(every), Some(idle)) =
            (self.touch, self.expiry.idle_timeout())
        {
            if every >= idle {
                return Err(Error::Config(format!(
                    "touch throttle ({every:?}) must be shorter than the idle timeout ({idle:?}), \
                     or sessions in use expire between touches"
                )));
            }
        }
        Ok(())
    }

    /// Sets the expiry.
    pub fn with_expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// Sets the touch policy.
    pub fn with_touch(mut self, touch: TouchPolicy) -> Self {
        self.touch = touch;
        self
    }

    /// Sets the save mode.
    pub fn with_save_mode(mut self, mode: SaveMode) -> Self {
        self.save_mode = mode;
        self
    }

    /// Sets how many conflict re-applies are tried.
    pub fn with_conflict_retries(mut self, n: u32) -> Self {
        self.conflict_retries = n;
        self
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_the_earlier_limit() {
        let e = Expiry::new(
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(100)),
        )
        .unwrap();
        let c = Timestamp::from_millis(0);
        assert_eq!(e.deadline(c, c).as_millis(), 10_000);
        let late = Timestamp::from_millis(95_000);
        assert_eq!(e.deadline(c, late).as_millis(), 100_000);
    }

    #[test]
    fn empty_or_zero_expiry_is_config_error() {
        assert!(matches!(Expiry::new(None, None), Err(Error::Config(_))));
        assert!(matches!(
            Expiry::idle(Duration::ZERO),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn throttle_must_be_shorter_than_idle() {
        let idle = Expiry::idle(Duration::from_secs(60)).unwrap();
        let bad = SessionOptions::default()
            .with_expiry(idle)
            .with_touch(TouchPolicy::Throttled(Duration::from_secs(60)));
        assert!(matches!(bad.validate(), Err(Error::Config(_))));
        let good = bad.with_touch(TouchPolicy::Throttled(Duration::from_secs(30)));
        assert!(good.validate().is_ok());
        assert!(SessionOptions::default().validate().is_ok());
    }

    #[test]
    fn throttle() {
        let p = TouchPolicy::Throttled(Duration::from_secs(5));
        let a = Timestamp::from_millis(0);
        assert!(!p.is_due(a, Timestamp::from_millis(4_999)));
        assert!(p.is_due(a, Timestamp::from_millis(5_000)));
        assert!(TouchPolicy::Always.is_due(a, a));
        assert!(!TouchPolicy::OnChange.is_due(a, Timestamp::from_millis(1 << 40)));
    }
}
