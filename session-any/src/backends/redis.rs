//! `redis://` and `redis+cluster://`: Redis, standalone or clustered.

use std::sync::Arc;

use session_core::{Error, Result, SessionStore};
use session_redis::{RedisOptions, RedisStore};

use super::REDIS_PARAMS;
use crate::url::{Backend, OpenContext, StoreUrl};

/// Our parameters: the rest of a `redis://` URL goes to redis-rs untouched.
const OURS: &[&str] = &["prefix", "timeout", "max_record_size"];

/// `redis://[user:pass@]host[:port][/db][?prefix=session:&timeout=2s&max_record_size=…&protocol=resp3]`.
pub(crate) static REDIS: Backend = Backend {
    params: REDIS_PARAMS,
    check: |url| options(url, OpenContext::default()).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let opts = options(&url, ctx)?;
            let store = RedisStore::connect(&without_ours(&url)?, opts).await?;
            Ok(Arc::new(store) as Arc<dyn SessionStore>)
        })
    },
};

/// `redis+cluster://h1:p1,h2:p2[,…][?prefix=…&timeout=…&max_record_size=…]`: the seed
/// nodes of a Redis Cluster. The host list is not a URL authority, so it is split here.
pub(crate) static REDIS_CLUSTER: Backend = Backend {
    params: OURS,
    check: |url| {
        nodes(url)?;
        options(url, OpenContext::default()).map(drop)
    },
    open: |url, ctx| {
        Box::pin(async move {
            let nodes = nodes(&url)?;
            let opts = options(&url, ctx)?;
            let store = RedisStore::connect_cluster(nodes, opts).await?;
            Ok(Arc::new(store) as Arc<dyn SessionStore>)
        })
    },
};

fn options(url: &StoreUrl, ctx: OpenContext) -> Result<RedisOptions> {
    let params = url.params();
    let mut opts = RedisOptions::new().with_clock(ctx.clock);
    if let Some(prefix) = params.text("prefix") {
        opts = opts.with_prefix(prefix);
    }
    if let Some(timeout) = params.timeout("timeout")? {
        opts = opts.with_timeout(timeout);
    }
    if let Some(limit) = params.limit("max_record_size")? {
        opts = opts.with_max_record_size(limit);
    }
    Ok(opts)
}

/// The `redis://` URL without our parameters, for redis-rs.
fn without_ours(url: &StoreUrl) -> Result<String> {
    let parsed = url.parsed()?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !OURS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = parsed;
    if kept.is_empty() {
        out.set_query(None);
    } else {
        out.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(out.into())
}

/// The seed nodes of a `redis+cluster://` URL, as `redis://host:port/` URLs.
fn nodes(url: &StoreUrl) -> Result<Vec<String>> {
    let body = url.body();
    let hosts = body
        .strip_prefix("//")
        .unwrap_or(body)
        .trim_end_matches('/');
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
        nodes(&StoreUrl::parse(text)?)
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
}
