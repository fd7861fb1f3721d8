//! `redis://` and `redis+cluster://` store URLs: where the servers are, and the
//! [`RedisOptions`] the query gives.

use session_core::params::{url_query, without_params, Params};
use session_core::{redact_url, Error, Result};

use crate::{RedisOptions, WriteMode};

/// Our parameters: the rest of a `redis://` URL goes to redis-rs untouched.
const OURS: &[&str] = &["prefix", "timeout", "max_record_size", "write"];

/// A parsed `redis://` or `redis+cluster://` store URL: the server (or the cluster's
/// seed nodes) as redis-rs URLs, and the options.
///
/// ```
/// use std::time::Duration;
/// use session_redis::RedisUrl;
///
/// let url = RedisUrl::parse("redis://cache:6379/2?prefix=shop:&timeout=500ms&protocol=resp3")?;
/// assert!(!url.is_cluster());
/// assert_eq!(url.nodes(), ["redis://cache:6379/2?protocol=resp3"]);
/// assert_eq!(url.options().prefix(), "shop:");
/// assert_eq!(url.options().timeout(), Duration::from_millis(500));
///
/// let cluster = RedisUrl::parse("redis+cluster://u:pw@a:7000,b:7001?prefix=s:")?;
/// assert_eq!(cluster.nodes(), ["redis://u:pw@a:7000/", "redis://u:pw@b:7001/"]);
///
/// let typo = RedisUrl::parse("redis://cache/?prefx=s:").unwrap_err();
/// assert!(typo.to_string().contains("`prefx`; known: prefix, timeout"));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisUrl {
    nodes: Vec<String>,
    cluster: bool,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<String> = self.nodes.iter().map(|n| redact_url(n)).collect();
        f.debug_struct("RedisUrl")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("options", &self.options)
            .finish()
    }
}

impl RedisUrl {
    /// What `redis://` URLs take: ours (`prefix`, `timeout`, `max_record_size`, `write`
    /// = `cas` (the default) or `lww`, see [`WriteMode`](crate::WriteMode)), then
    /// redis-rs's `protocol` (`resp2`/`resp3`). redis-rs reads `db`, `user` and `pass`
    /// only from `redis+unix://` URLs, which are not store URLs, so they are not listed.
    pub const URL_PARAMS: &'static [&'static str] =
        &["prefix", "timeout", "max_record_size", "write", "protocol"];

    /// What `redis+cluster://` URLs take: ours only.
    pub const CLUSTER_URL_PARAMS: &'static [&'static str] = OURS;

    /// Reads `redis://[user:pass@]host[:port][/db][?prefix=…&timeout=…&max_record_size=…&write=…&protocol=…]`
    /// or `redis+cluster://[user:pass@]h1:p1,h2:p2[?prefix=…&timeout=…&max_record_size=…&write=…]`
    /// (user info applies to every seed node), in the shared grammar of
    /// [`session_core::params`]. An unknown or repeated parameter, a bad value, or a
    /// cluster URL with a path or an empty host is an [`Error::Config`].
    pub fn parse(text: &str) -> Result<Self> {
        let scheme = text
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        let (cluster, known) = match scheme.as_str() {
            "redis" => (false, Self::URL_PARAMS),
            "redis+cluster" => (true, Self::CLUSTER_URL_PARAMS),
            _ => {
                return Err(Error::Config(format!(
                    "a Redis store URL starts with redis:// or redis+cluster://, got {:?}",
                    redact_url(text)
                )))
            }
        };
        let params = Params::new(
            &scheme,
            known,
            url::form_urlencoded::parse(url_query(text).as_bytes()),
        )?;
        let mut options = RedisOptions::new();
        if let Some(prefix) = params.text("prefix") {
            options = options.with_prefix(prefix);
        }
        if let Some(timeout) = params.timeout("timeout")? {
            options = options.with_timeout(timeout);
        }
        if let Some(limit) = params.limit("max_record_size")? {
            let settings = options.settings().clone().with_max_record_size(limit);
            options = options.with_settings(settings);
        }
        if let Some(mode) = params.text("write") {
            let mode = WriteMode::from_param(mode).ok_or_else(|| {
                Error::Config(format!(
                    "`{scheme}://` URL parameter write: expected cas or lww, got {mode:?}"
                ))
            })?;
            options = options.with_write_mode(mode);
        }
        let nodes = match cluster {
            false => vec![without_ours(text)?],
            true => cluster_nodes(text)?,
        };
        Ok(RedisUrl {
            nodes,
            cluster,
            options,
        })
    }

    /// Whether the URL names a Redis Cluster (`redis+cluster://`).
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The server (one `redis://` URL without our parameters) or the cluster's seed
    /// nodes, as redis-rs takes them. Secrets included: for the driver, never for logs.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The options the URL gives.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// Replaces the options (to set a clock, say).
    pub fn with_options(mut self, options: RedisOptions) -> Self {
        self.options = options;
        self
    }
}

/// The `redis://` URL without our parameters, for redis-rs; one that does not parse is
/// refused here, before any I/O.
fn without_ours(text: &str) -> Result<String> {
    url::Url::parse(text).map_err(|e| {
        Error::Config(format!(
            "session store URL {:?} does not parse: {e}",
            redact_url(text)
        ))
    })?;
    Ok(without_params(text, OURS))
}

/// The seed nodes of a `redis+cluster://` URL, as `redis://host:port/` URLs. The host
/// list is not a URL authority, so it is split here.
fn cluster_nodes(text: &str) -> Result<Vec<String>> {
    let body = text.split_once("://").map_or("", |(_, rest)| rest);
    let body = body.split_once('#').map_or(body, |(before, _)| before);
    let body = body.split_once('?').map_or(body, |(before, _)| before);
    let hosts = body.trim_end_matches('/');
    if hosts.is_empty() || hosts.contains('/') {
        return Err(Error::Config(
            "redis+cluster:// takes a comma-separated host:port list and no path".into(),
        ));
    }
    // User info applies to every node (`redis+cluster://user:pass@h1:p1,h2:p2`).
    let (auth, hosts) = match hosts.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), hosts),
    };
    hosts
        .split(',')
        .map(|h| match h.trim() {
            "" => Err(Error::Config(
                "redis+cluster:// has an empty host in its host:port list".into(),
            )),
            h => Ok(format!("redis://{auth}{h}/")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn nodes_of(text: &str) -> Result<Vec<String>> {
        RedisUrl::parse(text).map(|u| u.nodes().to_vec())
    }

    #[test]
    fn cluster_nodes_carry_the_user_info_each() {
        assert_eq!(
            nodes_of("redis+cluster://a:1, b:2/?prefix=x:").unwrap(),
            ["redis://a:1/", "redis://b:2/"]
        );
        assert_eq!(
            nodes_of("redis+cluster://u:pw@a:1,b:2").unwrap(),
            ["redis://u:pw@a:1/", "redis://u:pw@b:2/"]
        );
        for bad in [
            "redis+cluster://",
            "redis+cluster:///",
            "redis+cluster://a:1/db",
            "redis+cluster://a:1,,b:2",
        ] {
            assert!(nodes_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn our_parameters_stay_out_of_the_driver_url() {
        let url = RedisUrl::parse("redis://h:1/3?max_record_size=none&timeout=1s").unwrap();
        assert_eq!(url.nodes(), ["redis://h:1/3"]);
        assert_eq!(url.options().settings().max_record_size(), None);
        assert!(RedisUrl::parse("redis://h/?timeout=0s").is_err());
        assert!(RedisUrl::parse("redis+cluster://h:1?protocol=resp3").is_err());
    }

    #[test]
    fn write_mode_is_cas_unless_lww_is_asked_for() {
        let default = RedisUrl::parse("redis://h:1/").unwrap();
        assert_eq!(default.options().write_mode(), WriteMode::CompareAndSet);
        let lww = RedisUrl::parse("redis://h:1/?write=lww").unwrap();
        assert_eq!(lww.options().write_mode(), WriteMode::LastWriterWins);
        assert_eq!(lww.nodes(), ["redis://h:1/"]);
        let cas = RedisUrl::parse("redis+cluster://a:1,b:2?write=cas").unwrap();
        assert_eq!(cas.options().write_mode(), WriteMode::CompareAndSet);
        let bad = RedisUrl::parse("redis://h:1/?write=fast").unwrap_err();
        assert!(bad.to_string().contains("expected cas or lww"), "{bad}");
        assert!(RedisUrl::parse("redis://h:1/?write=lww&write=cas").is_err());
    }
}
