//! What a [`RedisStore`](crate::RedisStore) can be told: key prefix, operation timeout,
//! the store settings (codec, size limit, clock), scan batch size.

use std::time::Duration;

use session_core::{Error, Result, StoreSettings};

/// The key prefix used when none is given.
pub const DEFAULT_PREFIX: &str = "session:";
/// The operation timeout used when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The `COUNT` hint of each `SCAN` call when none is given.
pub const DEFAULT_SCAN_COUNT: usize = 1000;

/// How a [`RedisStore`](crate::RedisStore) writes a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WriteMode {
    /// Compare-and-set (the default): a save whose expected version is not the stored
    /// one is [`Error::Conflict`](session_core::Error::Conflict), checked atomically in
    /// a server-side script, and the middleware replays the request's changes on the
    /// winner's data.
    #[default]
    CompareAndSet,
    /// Last writer wins: a save overwrites whatever version is stored (`SET … XX
    /// PXAT`, no script for unbound sessions), so **of two concurrent requests that
    /// change the same session, the slower one's save silently erases the other's
    /// changes**. Only for apps whose sessions are never written by two requests at
    /// once, or that accept losing such updates (what tower-sessions does). It still
    /// never resurrects: a deleted session stays deleted (`XX`), and a session expired
    /// by the store's clock is `NotFound` (see [`RedisOptions::with_write_mode`]).
    /// [`Capabilities::compare_and_set`](session_core::Capabilities) is then `false`.
    LastWriterWins,
}

impl WriteMode {
    /// The mode a URL's `write` parameter names: `cas` or `lww`.
    pub fn from_param(value: &str) -> Option<Self> {
        match value {
            "cas" => Some(WriteMode::CompareAndSet),
            "lww" => Some(WriteMode::LastWriterWins),
            _ => None,
        }
    }
}

/// Settings of a [`RedisStore`](crate::RedisStore). Build with [`RedisOptions::new`] and
/// the `with_*` methods; the store's constructors check them.
///
/// ```
/// use std::time::Duration;
/// use session_redis::RedisOptions;
///
/// let options = RedisOptions::new()
///     .with_prefix("myapp:session:")
///     .with_timeout(Duration::from_millis(500));
/// assert_eq!(options.prefix(), "myapp:session:");
/// ```
#[derive(Debug, Clone)]
pub struct RedisOptions {
    prefix: String,
    timeout: Duration,
    settings: StoreSettings,
    scan_count: usize,
    write_mode: WriteMode,
}

impl RedisOptions {
    /// Prefix [`DEFAULT_PREFIX`], timeout [`DEFAULT_TIMEOUT`], [`StoreSettings::new`]
    /// (MessagePack, records up to 256 KiB, the system clock), `SCAN` batches of
    /// [`DEFAULT_SCAN_COUNT`].
    pub fn new() -> Self {
        RedisOptions {
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            settings: StoreSettings::new(),
            scan_count: DEFAULT_SCAN_COUNT,
            write_mode: WriteMode::CompareAndSet,
        }
    }

    /// Puts every session under `prefix`: the key of a session is `prefix` followed by
    /// the 64 hex digits of its [`StorageKey`](session_core::StorageKey). Stores with
    /// different prefixes share a server without seeing each other's sessions.
    ///
    /// On Redis Cluster, a prefix holding a hash tag (`{…}`) sends every session to one
    /// slot, and so to one node: leave braces out unless that is what you want.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds every round trip to the server: one that has not answered within
    /// `timeout` fails with [`Error::Backend`] of kind
    /// [`Timeout`](session_core::BackendErrorKind::Timeout), so an outage never hangs a
    /// request. While the connection is down, requests wait
    /// for the reconnection at most this long. `count` and
    /// [`delete_all`](crate::RedisStore::delete_all) apply it to each batch they send.
    /// It must be more than zero.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Takes the codec, record size limit and clock from `settings`. Expiry is decided
    /// by its clock on every read and write, on top of the server's own TTLs (tests
    /// drive a [`ManualClock`](session_core::ManualClock)); a record whose envelope is
    /// over its limit is [`Error::TooLarge`] before anything is sent. With the limit
    /// lifted (`None`), only the server's own cap applies (`proto-max-bulk-len`, 512 MB
    /// by default).
    ///
    /// ```
    /// use session_core::StoreSettings;
    /// use session_redis::RedisOptions;
    ///
    /// assert_eq!(RedisOptions::new().settings().max_record_size(), Some(256 * 1024));
    /// let options = RedisOptions::new()
    ///     .with_settings(StoreSettings::new().with_max_record_size(Some(16 * 1024)));
    /// assert_eq!(options.settings().max_record_size(), Some(16 * 1024));
    /// ```
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The `COUNT` hint of each `SCAN` call made by `count` and
    /// [`delete_all`](crate::RedisStore::delete_all). It must be more than zero.
    pub fn with_scan_count(mut self, count: usize) -> Self {
        self.scan_count = count;
        self
    }

    /// How saves are written: [`WriteMode::CompareAndSet`] (the default) or the opt-in
    /// [`WriteMode::LastWriterWins`], which loses concurrent updates (read its warning).
    ///
    /// In last-writer-wins mode an unbound save is `GETRANGE` of the stored header and
    /// `SET … XX PXAT`, pipelined in one round trip, where the default runs a script
    /// that costs the server a copy of the value into Lua. `XX` writes only a key that
    /// exists; the header read alongside tells whether the session it replaced had
    /// expired by the store's clock (the server still holding it), and then the write
    /// is undone by deleting the session (it was dead) and the save is `NotFound`. For
    /// that one round trip such a session is loadable again: a window only where the
    /// store's clock runs ahead of the server's. A bound session, or a save that binds
    /// one, runs the compare-and-set script without the version check, so the user
    /// index stays exact.
    ///
    /// ```
    /// use session_redis::{RedisOptions, WriteMode};
    ///
    /// let options = RedisOptions::new().with_write_mode(WriteMode::LastWriterWins);
    /// assert_eq!(options.write_mode(), WriteMode::LastWriterWins);
    /// assert_eq!(RedisOptions::new().write_mode(), WriteMode::CompareAndSet);
    /// ```
    pub fn with_write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }

    /// How saves are written.
    pub fn write_mode(&self) -> WriteMode {
        self.write_mode
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The per-round-trip timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The codec, record size limit and clock.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The `SCAN` batch hint.
    pub fn scan_count(&self) -> usize {
        self.scan_count
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.timeout.is_zero() {
            return Err(Error::Config(
                "session-redis: the operation timeout must be more than zero".into(),
            ));
        }
        if self.scan_count == 0 {
            return Err(Error::Config(
                "session-redis: the SCAN count must be more than zero".into(),
            ));
        }
        Ok(())
    }
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let o = RedisOptions::default();
        assert_eq!(o.prefix(), DEFAULT_PREFIX);
        assert_eq!(o.timeout(), DEFAULT_TIMEOUT);
        assert!(o.validate().is_ok());
    }

    #[test]
    fn zero_timeout_and_scan_count_are_config_errors() {
        let zero = RedisOptions::new().with_timeout(Duration::ZERO);
        assert!(matches!(zero.validate(), Err(Error::Config(_))));
        let zero = RedisOptions::new().with_scan_count(0);
        assert!(matches!(zero.validate(), Err(Error::Config(_))));
    }
}
