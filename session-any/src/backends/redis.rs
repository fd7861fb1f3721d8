//! `redis://` and `redis+cluster://`: Redis, standalone or clustered. session-redis reads
//! the URLs ([`RedisUrl`]).

use std::sync::Arc;

use session_core::{Result, SessionStore};
use session_redis::{RedisStore, RedisUrl};

use crate::url::{Backend, OpenContext, StoreUrl};

/// `redis://[user:pass@]host[:port][/db][?prefix=session:&timeout=2s&max_record_size=…&protocol=resp3]`.
pub(crate) static REDIS: Backend = Backend {
    params: RedisUrl::URL_PARAMS,
    check: |url| RedisUrl::parse(url.as_str()).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx)),
};

/// `redis+cluster://h1:p1,h2:p2[,…][?prefix=…&timeout=…&max_record_size=…]`: the seed
/// nodes of a Redis Cluster.
pub(crate) static REDIS_CLUSTER: Backend = Backend {
    params: RedisUrl::CLUSTER_URL_PARAMS,
    check: |url| RedisUrl::parse(url.as_str()).map(drop),
    open: |url, ctx| Box::pin(open(url, ctx)),
};

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
