//! `redis://`, `rediss://` and `redis+cluster://`: Redis, standalone or clustered.

use std::time::Duration;

use session_core::{Error, Result};
use session_redis::{RedisOptions, RedisStore};
use url::Url;

use crate::url::{query, query_usize, OpenContext};

/// Our query parameters; the rest of the URL goes to redis-rs untouched.
const OURS: &[&str] = &["prefix", "timeout", "max_record_size"];

fn options(url: &Url, ctx: OpenContext) -> Result<RedisOptions> {
    let mut opts = RedisOptions::new().with_clock(ctx.clock);
    if let Some(prefix) = query(url, "prefix") {
        opts = opts.with_prefix(prefix);
    }
    if let Some(text) = query(url, "timeout") {
        let timeout: Duration = humantime_serde::re::humantime::parse_duration(&text)
            .map_err(|e| Error::Config(format!("redis timeout {text:?}: {e}")))?;
        opts = opts.with_timeout(timeout);
    }
    if let Some(limit) = query_usize(url, "max_record_size")? {
        opts = opts.with_max_record_size(limit);
    }
    Ok(opts)
}

fn without_ours(url: &Url) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !OURS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    if kept.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    out
}

/// `redis://[user:pass@]host[:port][/db][?prefix=session:&timeout=2s]`.
pub(crate) async fn redis(url: &Url, ctx: OpenContext) -> Result<RedisStore> {
    let opts = options(url, ctx)?;
    RedisStore::connect(without_ours(url).as_str(), opts).await
}

/// `redis+cluster://h1:p1,h2:p2[,…][?prefix=…&timeout=…]`: the seed nodes of a Redis
/// Cluster. The host list is not a URL authority, so it is split here.
pub(crate) async fn redis_cluster(text: &str, ctx: OpenContext) -> Result<RedisStore> {
    let rest = text
        .strip_prefix("redis+cluster://")
        .ok_or_else(|| Error::Config("expected redis+cluster://host:port,…".into()))?;
    let (hosts, query_text) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let hosts = hosts.trim_end_matches('/');
    if hosts.is_empty() || hosts.contains('/') {
        return Err(Error::Config(
            "redis+cluster:// takes a comma-separated host:port list and no path".into(),
        ));
    }
    let nodes: Vec<String> = hosts
        .split(',')
        .map(|h| format!("redis://{}/", h.trim()))
        .collect();
    // Reuse the query parser on a stand-in URL carrying the same parameters.
    let stand_in = crate::url::parse(&format!("redis://cluster/?{}", query_text.unwrap_or("")))?;
    let opts = options(&stand_in, ctx)?;
    RedisStore::connect_cluster(nodes, opts).await
}
