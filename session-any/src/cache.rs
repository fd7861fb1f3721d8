//! Cache URLs: what `cache = "…"` and `SESSION_CACHE_URL` name. Either `local://?…`, an
//! in-process cache in each instance, or a store URL from the scheme table (`redis://`,
//! `redis+cluster://`, `memcache://`, `memory://`) shared by every instance. Opening
//! puts the cache in front of the durable store with session-tiered's `TieredStore`.

use std::fmt;
use std::time::Duration;

use session_core::params::{is_secret_param, url_query, without_params, Params, REDACTED};
use session_core::{redact_url, Error, Result};

use crate::url::{BackendKind, ConnectMode, StoreUrl};

#[cfg(feature = "tiered")]
pub(crate) mod bus;
#[cfg(feature = "tiered")]
pub(crate) mod open;

/// The scheme of the in-process cache.
const LOCAL: &str = "local";

/// Every query parameter `local://` takes, in the order the README lists them.
pub const LOCAL_PARAMS: &[&str] = &["capacity", "ttl", "heartbeat", "bus", "bus_url", "channel"];

/// The shortest heartbeat session-tiered honours (it raises anything shorter to this);
/// refused here instead, so that what the URL says is what runs.
const MIN_HEARTBEAT: Duration = Duration::from_millis(20);

/// The parameters of session-any and session-sql in a PostgreSQL URL, which the bus's
/// own driver connection does not take (sqlx's own parameters, TLS included, stay).
const SQL_OWN_PARAMS: &[&str] = &[
    "session_table",
    "migrate",
    "timeout",
    "max_record_size",
    "connect",
];

/// The parameters of session-any and session-redis in a Redis URL, which redis-rs does
/// not take (`protocol`, redis-rs's own, stays).
const REDIS_OWN_PARAMS: &[&str] = &["prefix", "timeout", "max_record_size", "write", "connect"];

/// How a `local://` cache hears of other instances' saves, deletes and revocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheBus {
    /// `bus=none`: no bus. For **one instance only**: another process writing the same
    /// durable store is not heard, and what it deletes may be served here until the
    /// cache's `ttl` has passed. The default in front of embedded stores (`memory://`,
    /// `file://`, `shelf://`, `sqlite:`).
    Off,
    /// Redis pub/sub (session-tiered's `RedisBus`): the durable `redis://` server
    /// (`bus=store`, the default there) or the one `bus_url` names.
    Redis,
    /// PostgreSQL `LISTEN`/`NOTIFY` (session-tiered's `PostgresBus`): the durable
    /// `postgres://` server (`bus=store`, the default there) or the one `bus_url` names.
    Postgres,
}

impl CacheBus {
    /// `none`, `redis` or `postgres`, as the URL spells it.
    pub fn name(self) -> &'static str {
        match self {
            CacheBus::Off => "none",
            CacheBus::Redis => "redis",
            CacheBus::Postgres => "postgres",
        }
    }
}

/// A cache URL, parsed and its values checked (no I/O): `local://?…` or a shared store
/// URL. Whether it fits the durable store (a bus for it, no `cookie://`) is checked by
/// [`CacheUrl::check`] against that store's URL.
///
/// ```
/// use session_any::{CacheBus, CacheUrl, StoreUrl};
///
/// let cache = CacheUrl::parse("local://?capacity=50000&ttl=10s")?;
/// assert!(cache.is_local());
/// # #[cfg(feature = "sqlite")] {
/// // In front of an embedded store the default is no bus: one instance only.
/// let sqlite = StoreUrl::parse("sqlite:///var/lib/app/s.db")?;
/// assert_eq!(cache.bus(&sqlite)?, Some(CacheBus::Off));
/// # }
///
/// let typo = CacheUrl::parse("local://?capacty=10").unwrap_err().to_string();
/// assert!(typo.contains("`capacty`; known: capacity, ttl, heartbeat, bus, bus_url, channel"));
/// # Ok::<(), session_core::Error>(())
/// ```
///
/// `Display` and `Debug` show it redacted, the password of a `bus_url` included.
#[derive(Clone)]
pub struct CacheUrl {
    text: String,
    tier: Tier,
}

#[derive(Clone)]
enum Tier {
    Local(Local),
    Shared(StoreUrl),
}

/// `local://` as written; defaults are session-tiered's, applied when opening.
#[derive(Clone)]
struct Local {
    capacity: Option<u64>,
    ttl: Option<Duration>,
    heartbeat: Option<Duration>,
    bus: BusSetting,
    bus_url: Option<(CacheBus, StoreUrl)>,
    channel: Option<String>,
}

/// The `bus` parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BusSetting {
    /// Not given: from `bus_url`, else from the durable store.
    Default,
    /// `none`.
    Off,
    /// `store`: the durable store's own server.
    Store,
    /// `redis` or `postgres`: that kind, on `bus_url` or the durable store's server.
    Kind(CacheBus),
}

impl fmt::Display for CacheUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_cache_url(&self.text))
    }
}

impl fmt::Debug for CacheUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheUrl({:?})", redact_cache_url(&self.text))
    }
}

/// What opening builds, decided from the cache URL and the durable store's URL.
#[cfg_attr(not(feature = "tiered"), allow(dead_code))]
pub(crate) enum Plan {
    Local(LocalPlan),
    Shared(StoreUrl),
}

/// An in-process cache: the values the URL gives (`None`: session-tiered's default)
/// and the bus, if any.
#[cfg_attr(not(feature = "tiered"), allow(dead_code))]
pub(crate) struct LocalPlan {
    pub(crate) capacity: Option<u64>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) bus: Option<BusPlan>,
}

/// An invalidation bus: its kind, the server's store URL (the durable one for
/// `bus=store`, else `bus_url`) and the channel, if not the default.
#[cfg_attr(not(feature = "tiered"), allow(dead_code))]
pub(crate) struct BusPlan {
    pub(crate) kind: CacheBus,
    pub(crate) server: StoreUrl,
    pub(crate) channel: Option<String>,
}

#[cfg_attr(not(feature = "tiered"), allow(dead_code))]
impl BusPlan {
    /// The server's URL as the bus's driver takes it: without the parameters of the
    /// session stores, secrets kept (never for logs).
    pub(crate) fn driver_url(&self) -> String {
        let ours = match self.kind {
            CacheBus::Redis => REDIS_OWN_PARAMS,
            _ => SQL_OWN_PARAMS,
        };
        without_params(self.server.as_str(), ours)
    }

    /// Whether the bus connects when the store opens: as its server's URL says
    /// (`connect=eager`), lazily (on its first use, in the background) by default.
    pub(crate) fn connect_mode(&self) -> Result<ConnectMode> {
        self.server.connect_mode()
    }
}

impl CacheUrl {
    /// Reads a cache URL: `local://[?capacity=N&ttl=D&heartbeat=D&bus=none|store|redis|postgres&bus_url=URL&channel=NAME]`,
    /// or a `redis://`, `redis+cluster://`, `memcache://` or `memory://` store URL
    /// (read by the scheme table, so it takes exactly that store's parameters).
    ///
    /// [`Error::Config`] for an unknown or repeated parameter (naming it and listing
    /// the known ones), a value outside the shared grammar (a count above zero, a
    /// duration with a unit, a heartbeat of at least 20 ms), a `bus_url` that is not a
    /// `redis://` or `postgres://` URL (percent-encode it), and for a store that
    /// cannot be a cache: `cookie://` (it keeps nothing on a server), SQL and files
    /// (they are durable stores). Nothing is opened.
    pub fn parse(text: &str) -> Result<Self> {
        let scheme = text
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        let tier = if scheme == LOCAL {
            Tier::Local(parse_local(text)?)
        } else {
            let url = StoreUrl::parse(text).map_err(|e| prefixed("session cache URL", e))?;
            shareable(&url)?;
            Tier::Shared(url)
        };
        Ok(CacheUrl {
            text: text.to_owned(),
            tier,
        })
    }

    /// The URL exactly as given, secrets included: never for logs.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the in-process cache (`local://`), rather than a shared one.
    pub fn is_local(&self) -> bool {
        matches!(self.tier, Tier::Local(_))
    }

    /// The shared cache's store URL; `None` for `local://`.
    pub fn shared_store(&self) -> Option<&StoreUrl> {
        match &self.tier {
            Tier::Shared(url) => Some(url),
            Tier::Local(_) => None,
        }
    }

    /// The bus a `local://` cache in front of the store `durable` uses (`None` for a
    /// shared cache, which needs none): what `bus` and `bus_url` say, else the
    /// durable store's own server for PostgreSQL and standalone Redis, else
    /// [`CacheBus::Off`] for embedded stores. In front of a store that has no bus of
    /// its own and is not embedded (MySQL/MariaDB, Redis Cluster, memcached) the URL
    /// must choose: a `bus_url`, or `bus=none`. Errors as [`CacheUrl::check`].
    pub fn bus(&self, durable: &StoreUrl) -> Result<Option<CacheBus>> {
        Ok(match self.plan(durable)? {
            Plan::Local(local) => Some(local.bus.map_or(CacheBus::Off, |b| b.kind)),
            Plan::Shared(_) => None,
        })
    }

    /// Checks, without I/O, that this cache can stand in front of the store `durable`:
    /// not a `cookie://` store (its sessions are in the browsers), a bus that store
    /// can give (`bus=store` needs PostgreSQL or Redis), `heartbeat` and `channel`
    /// only with a bus, and the shared store's or `bus_url`'s values.
    pub fn check(&self, durable: &StoreUrl) -> Result<()> {
        self.plan(durable).map(drop)
    }

    /// What opening builds in front of `durable`: see [`CacheUrl::check`].
    pub(crate) fn plan(&self, durable: &StoreUrl) -> Result<Plan> {
        if durable.scheme().kind() == BackendKind::Cookie {
            return Err(Error::Config(
                "a session cache needs a server-side store: `cookie://` keeps each session \
                 sealed in the browser's cookie, so there is nothing to cache; drop the cache \
                 (`cache`, SESSION_CACHE_URL) or choose another store"
                    .into(),
            ));
        }
        match &self.tier {
            Tier::Shared(url) => {
                url.check().map_err(|e| prefixed("session cache URL", e))?;
                Ok(Plan::Shared(url.clone()))
            }
            Tier::Local(local) => Ok(Plan::Local(local.plan(durable)?)),
        }
    }
}

/// Reads `local://…`.
fn parse_local(text: &str) -> Result<Local> {
    let body = text
        .split_once(':')
        .map_or("", |(_, rest)| rest)
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    if !matches!(body, "" | "//" | "///") {
        return Err(Error::Config(
            "`local://` takes no host or path: it is this process's memory (its settings are query parameters)".into(),
        ));
    }
    let params = Params::new(
        LOCAL,
        LOCAL_PARAMS,
        url::form_urlencoded::parse(url_query(text).as_bytes()),
    )?;
    let capacity = params
        .count("capacity")?
        .map(|n| u64::try_from(n).unwrap_or(u64::MAX));
    let ttl = params.timeout("ttl")?;
    let heartbeat = params.timeout("heartbeat")?;
    if heartbeat.is_some_and(|h| h < MIN_HEARTBEAT) {
        return Err(Error::Config(format!(
            "`local://` URL parameter heartbeat is at least {}ms",
            MIN_HEARTBEAT.as_millis()
        )));
    }
    let bus = match params.text("bus").map(str::to_ascii_lowercase).as_deref() {
        None => BusSetting::Default,
        Some("none") => BusSetting::Off,
        Some("store") => BusSetting::Store,
        Some("redis") => BusSetting::Kind(CacheBus::Redis),
        Some("postgres" | "postgresql") => BusSetting::Kind(CacheBus::Postgres),
        Some(other) => {
            return Err(Error::Config(format!(
                "`local://` URL parameter bus is `none` (one instance only), `store` (the durable store's server), `redis` or `postgres`, not {other:?}"
            )))
        }
    };
    let bus_url = params.text("bus_url").map(parse_bus_url).transpose()?;
    if let Some((kind, _)) = &bus_url {
        match bus {
            BusSetting::Off | BusSetting::Store => {
                return Err(Error::Config(format!(
                    "`local://` URL parameters bus={} and bus_url contradict each other: bus_url names the bus's server; drop one",
                    if bus == BusSetting::Off { "none" } else { "store" }
                )))
            }
            BusSetting::Kind(k) if k != *kind => {
                return Err(Error::Config(format!(
                    "`local://` URL parameter bus={} but bus_url is a {} URL",
                    k.name(),
                    kind.name()
                )))
            }
            _ => {}
        }
    }
    let channel = params.text("channel").map(str::to_owned);
    if let Some(channel) = &channel {
        check_channel(channel)?;
        if bus == BusSetting::Off {
            return Err(Error::Config(
                "`local://` URL parameter channel needs a bus, and bus=none has none".into(),
            ));
        }
    }
    Ok(Local {
        capacity,
        ttl,
        heartbeat,
        bus,
        bus_url,
        channel,
    })
}

/// `bus_url`'s value (percent-decoded): a `redis://` or `postgres://` store URL, read
/// by the scheme table, so its parameters are checked as the store's are.
fn parse_bus_url(text: &str) -> Result<(CacheBus, StoreUrl)> {
    let url = StoreUrl::parse(text).map_err(|e| prefixed("`local://` URL parameter bus_url", e))?;
    let kind = match url.scheme().name() {
        "redis" => CacheBus::Redis,
        "postgres" | "postgresql" => CacheBus::Postgres,
        other => {
            return Err(Error::Config(format!(
                "`local://` URL parameter bus_url names the bus's server, a redis:// or postgres:// URL, not `{other}://`"
            )))
        }
    };
    url.check()
        .map_err(|e| prefixed("`local://` URL parameter bus_url", e))?;
    Ok((kind, url))
}

/// A channel both buses take: a PostgreSQL identifier's length, and characters that
/// need no quoting anywhere.
fn check_channel(channel: &str) -> Result<()> {
    let fine = !channel.is_empty()
        && channel.len() <= 63
        && channel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if fine {
        Ok(())
    } else {
        Err(Error::Config(
            "`local://` URL parameter channel is 1 to 63 of A-Z, a-z, 0-9, `_`, `-`, `.`, `:`"
                .into(),
        ))
    }
}

/// The store kinds that can be a shared cache: server stores with compare-and-set and
/// delete, and `memory://` for tests.
fn shareable(url: &StoreUrl) -> Result<()> {
    let scheme = url.scheme().name();
    match url.scheme().kind() {
        BackendKind::Memory
        | BackendKind::Redis
        | BackendKind::RedisCluster
        | BackendKind::Memcache => Ok(()),
        BackendKind::Cookie => Err(Error::Config(
            "`cookie://` cannot be a session cache: it keeps nothing on a server; a cache is \
             `local://`, `redis://`, `redis+cluster://`, `memcache://` or `memory://`"
                .into(),
        )),
        _ => Err(Error::Config(format!(
            "`{scheme}://` cannot be a session cache: a cache is `local://`, `redis://`, \
             `redis+cluster://`, `memcache://` or `memory://`; an SQL or file store is the \
             durable store (`url`, SESSION_URL)"
        ))),
    }
}

/// The bus the durable store's own server can carry.
enum Own {
    /// PostgreSQL or standalone Redis.
    Server(CacheBus),
    /// In this process or on this machine: memory, files, SQLite.
    Embedded,
    /// A server without a bus of ours (MySQL/MariaDB, Redis Cluster, memcached).
    Neither,
}

fn own_bus(durable: &StoreUrl) -> Own {
    match (durable.scheme().kind(), durable.scheme().name()) {
        (BackendKind::Sql, "postgres" | "postgresql") => Own::Server(CacheBus::Postgres),
        (BackendKind::Redis, "redis") => Own::Server(CacheBus::Redis),
        (BackendKind::Memory | BackendKind::File | BackendKind::Shelf, _)
        | (BackendKind::Sql, "sqlite") => Own::Embedded,
        _ => Own::Neither,
    }
}

impl Local {
    fn plan(&self, durable: &StoreUrl) -> Result<LocalPlan> {
        let scheme = durable.scheme().name();
        let own = own_bus(durable);
        let on_store = |kind: CacheBus| BusPlan {
            kind,
            server: durable.clone(),
            channel: self.channel.clone(),
        };
        let bus = match (&self.bus_url, self.bus, &own) {
            (Some((kind, url)), _, _) => Some(BusPlan {
                kind: *kind,
                server: url.clone(),
                channel: self.channel.clone(),
            }),
            (None, BusSetting::Off, _) => None,
            (None, BusSetting::Store | BusSetting::Default, Own::Server(kind)) => {
                Some(on_store(*kind))
            }
            (None, BusSetting::Kind(want), Own::Server(kind)) if want == *kind => {
                Some(on_store(*kind))
            }
            (None, BusSetting::Default, Own::Embedded) => None,
            (None, BusSetting::Store, _) => {
                return Err(Error::Config(format!(
                    "`local://` URL parameter bus=store needs a durable store whose server can \
                     carry the bus (postgres://, redis://); `{scheme}://` cannot: give \
                     bus_url=redis://… or bus_url=postgres://… (percent-encoded), or bus=none \
                     for one instance only"
                )))
            }
            (None, BusSetting::Kind(want), _) => {
                return Err(Error::Config(format!(
                    "`local://` URL parameter bus={} needs bus_url=… (percent-encoded): the \
                     durable store is `{scheme}://`",
                    want.name()
                )))
            }
            (None, BusSetting::Default, _) => {
                return Err(Error::Config(format!(
                    "`local://` in front of a `{scheme}://` store needs to be told how instances \
                     hear each other's logouts: bus_url=redis://… or bus_url=postgres://… \
                     (percent-encoded), or bus=none if this is the only instance"
                )))
            }
        };
        if bus.is_none() && (self.heartbeat.is_some() || self.channel.is_some()) {
            return Err(Error::Config(format!(
                "`local://` URL parameters heartbeat and channel apply to a cache with a bus; \
                 this one has none (bus=none{}): one instance only",
                if self.bus == BusSetting::Default {
                    format!(", the default in front of `{scheme}://`")
                } else {
                    String::new()
                }
            )));
        }
        Ok(LocalPlan {
            capacity: self.capacity,
            ttl: self.ttl,
            heartbeat: self.heartbeat,
            bus,
        })
    }
}

/// `context: message` for a configuration error; other errors as they are.
fn prefixed(context: &str, err: Error) -> Error {
    match err {
        Error::Config(msg) => Error::Config(format!("{context}: {msg}")),
        other => other,
    }
}

/// A cache URL for logs: [`redact_url`], and for `local://` also the password and
/// credential-bearing parameters of the URL inside `bus_url`. Works on text that does
/// not parse, so a configuration can always be shown.
pub(crate) fn redact_cache_url(text: &str) -> String {
    let is_local = text
        .split_once(':')
        .is_some_and(|(s, _)| s.eq_ignore_ascii_case(LOCAL));
    if !is_local {
        return redact_url(text);
    }
    let (before_fragment, fragment) = match text.find('#') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return text.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let Some((key, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else {
                return pair.to_owned();
            };
            if key == "bus_url" {
                let shown: String =
                    url::form_urlencoded::byte_serialize(redact_url(&value).as_bytes()).collect();
                format!("bus_url={shown}")
            } else if is_secret_param(&key) && !value.is_empty() {
                format!("{}={REDACTED}", pair.split('=').next().unwrap_or_default())
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{base}?{}{fragment}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn redaction_reaches_into_bus_url() {
        let shown = redact_cache_url("local://?ttl=5s&bus_url=redis%3A%2F%2F%3Ahunter2%40h%2F");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.starts_with("local://?ttl=5s&bus_url="), "{shown}");
        assert_eq!(redact_cache_url("local://"), "local://");
        let raw = redact_cache_url("local://?bus_url=postgres://u:pw@h/db?password=pw#x");
        assert!(!raw.contains("pw@") && !raw.contains("=pw"), "{raw}");
        assert!(raw.ends_with("#x"), "{raw}");
        assert_eq!(
            redact_cache_url("redis://:hunter2@h/"),
            redact_url("redis://:hunter2@h/")
        );
    }

    #[test]
    fn channels() {
        for good in ["a", "app-1:sessions", "x.y_z"] {
            check_channel(good).unwrap();
        }
        for bad in ["", "has space", "semi;colon", &"x".repeat(64)] {
            assert!(check_channel(bad).is_err(), "{bad:?}");
        }
    }
}
