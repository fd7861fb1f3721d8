//! `redis://` and `redis+cluster://`: Redis, standalone or clustered. session-redis reads
//! the URLs ([`RedisUrl`]).

use std::sync::Arc;

use session_core::{Capabilities, Result, SessionStore};
use session_redis::{RedisStore, RedisUrl};

use crate::lazy::LazyPlan;
use crate::url::{with_connect, Backend, OpenContext, StoreUrl};

static PARAMS: [&str; RedisUrl::URL_PARAMS.len() + 1] = with_connect(RedisUrl::URL_PARAMS);
static CLUSTER_PARAMS: [&str; RedisUrl::CLUSTER_URL_PARAMS.len() + 1] =
    with_connect(RedisUrl::CLUSTER_URL_PARAMS);

/// `redis://[user:pass@]host[:port][/db][?prefix=session:&timeout=2s&max_record_size=…&write=cas|lww&protocol=resp3&connect=lazy]`.
pub(crate) static REDIS: Backend = Backend {
    params: &PARAMS,
    check: |url| RedisUrl::parse(url.as_str()).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx)),
    lazy: Some(plan),
};

/// `redis+cluster://h1:p1,h2:p2[,…][?prefix=…&timeout=…&max_record_size=…&write=cas|lww&connect=lazy]`:
/// the seed nodes of a Redis Cluster.
pub(crate) static REDIS_CLUSTER: Backend = Backend {
    params: &CLUSTER_PARAMS,
    check: |url| RedisUrl::parse(url.as_str()).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx)),
    lazy: Some(plan),
};

/// What `RedisStore::capabilities` answers, the same for one server and a cluster:
/// only the record limit comes from the URL. A test compares it with a connected store's.
fn plan(url: &StoreUrl) -> Result<LazyPlan> {
    let url = RedisUrl::parse(url.as_str())?;
    let options = url.options();
    Ok(LazyPlan {
        store: "redis",
        backend: if url.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        },
        capabilities: Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(true)
            .with_native_ttl(true)
            .with_revoke(true)
            .with_user_index(true)
            .with_max_record_size(options.settings().max_record_size()),
        // `RedisStore::connect_url` bounds its connect and each script load by it.
        connect_timeout: options.timeout(),
    })
}

async fn open(url: StoreUrl, ctx: OpenContext) -> Result<Arc<dyn SessionStore>> {
    let url = RedisUrl::parse(url.as_str())?;
    let options = url.options().clone();
    let options = options
        .clone()
        .with_settings(ctx.clocked(options.settings()));
    Ok(Arc::new(
        RedisStore::connect_url(url.with_options(options)).await?,
    ))
}

#[cfg(test)]
mod tests {
    /// `rediss://` is refused on every build, so its list cannot come from
    /// session-redis; it must still be the `redis://` one.
    #[test]
    fn rediss_takes_the_redis_parameters() {
        assert_eq!(super::super::REDIS_PARAMS, super::RedisUrl::URL_PARAMS);
    }
}
