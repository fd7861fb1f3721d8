//! How a [`MemcacheStore`](crate::MemcacheStore) is configured: in code or from a
//! `memcache://` URL.

use std::time::Duration;

use session_core::params::Params;
use session_core::{Error, Result, StoreSettings};

use crate::keys::KeyPrefix;

/// memcached's port when a server is given without one.
pub const DEFAULT_PORT: u16 = 11211;
/// The default operation timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// memcached's default item size limit (`-I 1m`).
pub const DEFAULT_ITEM_SIZE_LIMIT: usize = 1024 * 1024;
/// The default cap on connections to each server.
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// Bytes of every item that are not the value: memcached's item header, the CAS field,
/// the key and its terminator. Measured at 59 bytes plus the key on memcached 1.6.18;
/// the allowance leaves room for other builds, so a record the store accepts is never
/// refused by the server.
pub const ITEM_HEADER_ALLOWANCE: usize = 128;

/// The smallest item size limit accepted (memcached's own minimum for `-I` is 1 KiB).
const MIN_ITEM_SIZE_LIMIT: usize = 1024;
/// The largest item size limit accepted (memcached's maximum for `-I` is 1 GiB).
const MAX_ITEM_SIZE_LIMIT: usize = 1024 * 1024 * 1024;

/// Everything a [`MemcacheStore`](crate::MemcacheStore) needs: servers, key prefix,
/// limits, timeout and the store settings (codec, record size limit, clock).
///
/// ```
/// use std::time::Duration;
/// use session_memcache::MemcacheOptions;
///
/// let options = MemcacheOptions::new(["10.0.0.1:11211", "10.0.0.2:11211"])?
///     .with_prefix("shop:session:")?
///     .with_timeout(Duration::from_millis(250))
///     .with_item_size_limit(2 * 1024 * 1024)?;
/// assert_eq!(options.servers().len(), 2);
///
/// // The same from a URL:
/// let same = MemcacheOptions::from_url(
///     "memcache://10.0.0.1:11211,10.0.0.2?prefix=shop:session:&timeout=250ms&item_size_limit=2MiB",
/// )?;
/// assert_eq!(same.servers(), options.servers());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MemcacheOptions {
    servers: Vec<String>,
    prefix: KeyPrefix,
    timeout: Duration,
    item_size_limit: usize,
    max_connections: usize,
    settings: StoreSettings,
}

impl MemcacheOptions {
    /// The query parameters a `memcache://` URL takes (see [`MemcacheOptions::from_url`]).
    pub const URL_PARAMS: &'static [&'static str] = &[
        "prefix",
        "timeout",
        "item_size_limit",
        "max_record_size",
        "max_connections",
    ];

    /// Options for `servers`, each `host:port` (or `host`, meaning port 11211; IPv6 as
    /// `[::1]:11211`). Keys are spread over all of them. Everything else starts at its
    /// default: prefix `session:`, 1 s timeout, 1 MiB items, 64 connections per server,
    /// [`StoreSettings::new`] (MessagePack, records up to 256 KiB, the system clock).
    pub fn new<I>(servers: I) -> Result<Self>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let servers = servers
            .into_iter()
            .map(|s| normalize_server(s.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        if servers.is_empty() {
            return Err(Error::Config("memcached needs at least one server".into()));
        }
        let mut unique = servers.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != servers.len() {
            return Err(Error::Config(format!(
                "memcached server listed twice in {servers:?}"
            )));
        }
        Ok(MemcacheOptions {
            servers,
            prefix: KeyPrefix::default(),
            timeout: DEFAULT_TIMEOUT,
            item_size_limit: DEFAULT_ITEM_SIZE_LIMIT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            settings: StoreSettings::new(),
        })
    }

    /// Parses `memcache://host1:port,host2:port?param=value&...`.
    ///
    /// Parameters, in the workspace's shared grammar ([`session_core::params`]):
    /// `prefix` (the key prefix, percent-encoded if needed), `timeout` (a duration above
    /// zero: `250ms`, `2s`), `item_size_limit` (memcached's `-I`, as a size: `1048576`,
    /// `512KiB`, `2MiB`), `max_record_size` (a size, or `none` for whatever the servers'
    /// items hold; 256 KiB by default, as on every server store) and `max_connections`
    /// (per server, above zero). An unknown or
    /// repeated parameter, a path, or a user name is refused with [`Error::Config`]
    /// rather than ignored; the message names the parameter and lists the known ones.
    ///
    /// Pass the URL as text: a comma-separated host list is not a valid URL authority,
    /// so it must not go through a generic URL parser first.
    pub fn from_url(url: &str) -> Result<Self> {
        let rest = url.strip_prefix("memcache://").ok_or_else(|| {
            Error::Config(format!(
                "a memcached URL starts with memcache://, got {:?}",
                session_core::redact_url(url)
            ))
        })?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('/') {
            return Err(Error::Config(format!(
                "a memcached URL has no path: {:?}",
                session_core::redact_url(url)
            )));
        }
        if authority.contains('@') {
            return Err(Error::Config(
                "memcached authentication is not supported (the meta protocol client is \
                 plain TCP); remove the user name from the URL"
                    .into(),
            ));
        }
        let params = Params::new(
            "memcache",
            Self::URL_PARAMS,
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes()),
        )?;
        let mut options = MemcacheOptions::new(authority.split(','))?;
        if let Some(prefix) = params.text("prefix") {
            options = options.with_prefix(prefix)?;
        }
        if let Some(timeout) = params.timeout("timeout")? {
            options = options.with_timeout(timeout);
        }
        if let Some(bytes) = params.size("item_size_limit")? {
            options = options.with_item_size_limit(bytes)?;
        }
        if let Some(limit) = params.limit("max_record_size")? {
            let settings = options.settings.clone().with_max_record_size(limit);
            options = options.with_settings(settings);
        }
        if let Some(n) = params.count("max_connections")? {
            options = options.with_max_connections(n);
        }
        Ok(options)
    }

    /// Files sessions under `prefix` + storage key; see [`KeyPrefix`] for the rules.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        self.prefix = KeyPrefix::new(prefix)?;
        Ok(self)
    }

    /// Bounds every store operation, waiting for a connection and connecting included:
    /// after `timeout` the caller gets [`Error::Backend`] whatever the server does. A zero
    /// duration is raised to 1 ms.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The servers' item size limit in bytes: set it to match memcached's `-I` (default
    /// 1 MiB). Records whose encoding, with key and item header, would not fit are refused
    /// with [`Error::TooLarge`] before anything is sent.
    pub fn with_item_size_limit(mut self, bytes: usize) -> Result<Self> {
        if !(MIN_ITEM_SIZE_LIMIT..=MAX_ITEM_SIZE_LIMIT).contains(&bytes) {
            return Err(Error::Config(format!(
                "memcached item size limit {bytes} is outside memcached's range of 1 KiB to 1 GiB"
            )));
        }
        self.item_size_limit = bytes;
        Ok(self)
    }

    /// Caps the connections to each server, and so the operations in flight on it:
    /// callers beyond the cap wait for a connection, within the operation timeout. The
    /// cap keeps a stalled server from collecting one more connection per request.
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Takes the codec, record size limit and clock from `settings` (default
    /// [`StoreSettings::new`]). A record whose encoding exceeds the limit is refused
    /// with [`Error::TooLarge`] before anything is sent. A lifted limit (`None`) never
    /// lifts the servers' item size: a record that would not fit an item is refused
    /// either way (see [`max_record_size`](MemcacheOptions::max_record_size)).
    ///
    /// ```
    /// use session_core::StoreSettings;
    /// use session_memcache::MemcacheOptions;
    ///
    /// let options = MemcacheOptions::new(["127.0.0.1:11211"])?;
    /// assert_eq!(options.max_record_size(), 256 * 1024);
    /// let small = options
    ///     .clone()
    ///     .with_settings(StoreSettings::new().with_max_record_size(Some(16 * 1024)));
    /// assert_eq!(small.max_record_size(), 16 * 1024);
    /// // Lifted: whatever fits a 1 MiB item, key and item header aside.
    /// let lifted = options.with_settings(StoreSettings::new().with_max_record_size(None));
    /// assert!(lifted.max_record_size() > 1000 * 1024);
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The servers, normalized to `host:port`.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The key prefix.
    pub fn prefix(&self) -> &KeyPrefix {
        &self.prefix
    }

    /// The operation timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The servers' item size limit.
    pub fn item_size_limit(&self) -> usize {
        self.item_size_limit
    }

    /// The cap on connections to each server.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The codec, configured record size limit and clock.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }

    /// The largest encoded record the store writes: the configured limit
    /// ([`with_settings`](MemcacheOptions::with_settings), 256 KiB by default), or less if that would not fit an item: the item size limit minus the
    /// key and [`ITEM_HEADER_ALLOWANCE`].
    pub fn max_record_size(&self) -> usize {
        let fits = self
            .item_size_limit
            .saturating_sub(self.prefix.key_len() + ITEM_HEADER_ALLOWANCE);
        self.settings
            .max_record_size()
            .map_or(fits, |limit| limit.min(fits))
    }
}

/// `host`, `host:port` or `[v6]:port` to `host:port`, checking the port.
fn normalize_server(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |why: &str| Error::Config(format!("memcached server {text:?}: {why}"));
    if text.is_empty() {
        return Err(bad("empty server address"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace"));
    }
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed IPv6 bracket"))?;
        match after {
            "" => (format!("[{host}]"), None),
            _ => match after.strip_prefix(':') {
                Some(port) => (format!("[{host}]"), Some(port)),
                None => return Err(bad("expected :port after the IPv6 address")),
            },
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => {
                return Err(bad("write IPv6 addresses in brackets: [::1]:11211"))
            }
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (text.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(bad("no host"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(bad("the port must be a number from 1 to 65535")),
            Ok(p) => p,
        },
    };
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::DEFAULT_MAX_RECORD_SIZE;

    fn config_err<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::Config(msg)) => msg,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    fn servers_are_normalized() {
        let o = MemcacheOptions::new(["a", "b:1", "[::1]", "[::1]:2", " c:3 "]).unwrap();
        assert_eq!(
            o.servers(),
            ["a:11211", "b:1", "[::1]:11211", "[::1]:2", "c:3"]
        );
    }

    #[test]
    fn bad_servers_are_refused() {
        for bad in [
            "", ":1", "a:0", "a:65536", "a:x", "::1", "[::1", "[::1]x", "a b:1", "[]:1",
        ] {
            config_err(MemcacheOptions::new([bad]));
        }
        config_err(MemcacheOptions::new(Vec::<String>::new()));
        config_err(MemcacheOptions::new(["a:1", "a:1"]));
    }

    #[test]
    fn url_with_every_parameter() {
        let o = MemcacheOptions::from_url(
            "memcache://h1:1,h2?prefix=app%3As%3A&timeout=250ms&item_size_limit=2MiB&max_connections=8",
        )
        .unwrap();
        assert_eq!(o.servers(), ["h1:1", "h2:11211"]);
        assert_eq!(o.prefix().as_str(), "app:s:");
        assert_eq!(o.timeout(), Duration::from_millis(250));
        assert_eq!(o.item_size_limit(), 2 * 1024 * 1024);
        assert_eq!(o.max_connections(), 8);
    }

    #[test]
    fn url_defaults() {
        let o = MemcacheOptions::from_url("memcache://127.0.0.1:11211/").unwrap();
        assert_eq!(o.servers(), ["127.0.0.1:11211"]);
        assert_eq!(o.prefix().as_str(), KeyPrefix::DEFAULT);
        assert_eq!(o.timeout(), DEFAULT_TIMEOUT);
        assert_eq!(o.item_size_limit(), DEFAULT_ITEM_SIZE_LIMIT);
        assert_eq!(o.max_connections(), DEFAULT_MAX_CONNECTIONS);
        assert_eq!(o.max_record_size(), DEFAULT_MAX_RECORD_SIZE);
        assert_eq!(
            o.with_settings(StoreSettings::new().with_max_record_size(None))
                .max_record_size(),
            DEFAULT_ITEM_SIZE_LIMIT - KeyPrefix::DEFAULT.len() - 64 - ITEM_HEADER_ALLOWANCE
        );
    }

    #[test]
    fn bad_urls_are_refused_not_ignored() {
        for bad in [
            "redis://h:1",
            "memcache://",
            "memcache://h:1/db",
            "memcache://user:pw@h:1",
            "memcache://h:1?prefix=a%20b",
            "memcache://h:1?timeout=0s",
            "memcache://h:1?timeout=soon",
            "memcache://h:1?timeout=250",
            "memcache://h:1?item_size_limit=12",
            "memcache://h:1?item_size_limit=2GiB",
            "memcache://h:1?max_connections=0",
            "memcache://h:1?prefx=typo",
            "memcache://h:1?timeout=1s&timeout=2s",
        ] {
            config_err(MemcacheOptions::from_url(bad));
        }
    }

    #[test]
    fn max_record_size_takes_a_size_or_none() {
        let o =
            MemcacheOptions::from_url("memcache://127.0.0.1:11211?max_record_size=16KiB").unwrap();
        assert_eq!(o.max_record_size(), 16 * 1024);
        let o =
            MemcacheOptions::from_url("memcache://127.0.0.1:11211?max_record_size=none").unwrap();
        assert!(o.max_record_size() > DEFAULT_MAX_RECORD_SIZE);
        assert!(
            MemcacheOptions::from_url("memcache://127.0.0.1:11211?max_record_size=2m").is_err()
        );
    }

    #[test]
    fn unknown_parameters_are_named_with_the_known_ones() {
        let msg = config_err(MemcacheOptions::from_url("memcache://h:1?bogus=1"));
        assert!(msg.contains("`bogus`"), "{msg}");
        assert!(
            msg.contains(
                "known: prefix, timeout, item_size_limit, max_record_size, max_connections"
            ),
            "{msg}"
        );
        // The old millisecond spelling is gone: one name and one grammar for timeouts.
        let msg = config_err(MemcacheOptions::from_url("memcache://h:1?timeout_ms=250"));
        assert!(msg.contains("`timeout_ms`"), "{msg}");
    }

    #[test]
    fn sizes_and_durations_use_the_shared_grammar() {
        let o =
            MemcacheOptions::from_url("memcache://h:1?item_size_limit=1048576&timeout=1m").unwrap();
        assert_eq!(o.item_size_limit(), 1 << 20);
        assert_eq!(o.timeout(), Duration::from_secs(60));
        let o = MemcacheOptions::from_url("memcache://h:1?item_size_limit=512KiB").unwrap();
        assert_eq!(o.item_size_limit(), 512 << 10);
        // memcached's own `-I 2m` is not the URL grammar: the message says what is.
        let msg = config_err(MemcacheOptions::from_url(
            "memcache://h:1?item_size_limit=2m",
        ));
        assert!(
            msg.contains("item_size_limit") && msg.contains("MiB"),
            "{msg}"
        );
    }
}
