//! `memcache://h1:p1,h2:p2`: one or many memcached servers.

use std::sync::Arc;

use session_core::SessionStore;
use session_memcache::{MemcacheOptions, MemcacheStore};

use crate::url::Backend;

/// `memcache://h1:11211[,h2:11211…][?prefix=…&timeout=…&item_size_limit=…&max_record_size=…&max_connections=…]`.
/// The host list is not a URL authority, so session-memcache parses the text itself;
/// the servers must answer at start-up, so a typo fails fast.
pub(crate) static MEMCACHE: Backend = Backend {
    params: MemcacheOptions::URL_PARAMS,
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
