//! `memcache://h1:p1,h2:p2`: one or many memcached servers.

use std::sync::Arc;

use session_core::{Capabilities, Result, SessionStore};
use session_memcache::{MemcacheOptions, MemcacheStore};

use crate::lazy::LazyPlan;
use crate::url::{with_connect, Backend, StoreUrl};

static PARAMS: [&str; MemcacheOptions::URL_PARAMS.len() + 1] =
    with_connect(MemcacheOptions::URL_PARAMS);

/// `memcache://h1:11211[,h2:11211…][?prefix=…&timeout=…&item_size_limit=…&max_record_size=…&max_connections=…&connect=lazy]`.
/// The host list is not a URL authority, so session-memcache parses the text itself.
/// Opening connects and checks that every server answers (`MemcacheStore::connect`),
/// now with `connect=eager`, on the first operation by default.
pub(crate) static MEMCACHE: Backend = Backend {
    params: &PARAMS,
    lazy: Some(plan),
    check: |url| MemcacheOptions::from_url(url.as_str()).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let options = MemcacheOptions::from_url(url.as_str())?;
            let options = options
                .clone()
                .with_settings(ctx.clocked(options.settings()));
            Ok(Arc::new(MemcacheStore::connect(options).await?) as Arc<dyn SessionStore>)
        })
    },
};

/// What `MemcacheStore::capabilities` answers: the record limit is the effective one,
/// from the URL's `max_record_size` and `item_size_limit`. A test compares it with a
/// connected store's.
fn plan(url: &StoreUrl) -> Result<LazyPlan> {
    let options = MemcacheOptions::from_url(url.as_str())?;
    Ok(LazyPlan {
        store: "memcache",
        backend: "memcache",
        capabilities: Capabilities::new()
            .with_compare_and_set(true)
            .with_enumerate(false)
            .with_revoke(true)
            .with_native_ttl(true)
            .with_may_evict(true)
            .with_max_record_size(Some(options.max_record_size())),
        connect_timeout: options.timeout(),
    })
}
