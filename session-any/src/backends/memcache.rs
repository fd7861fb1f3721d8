//! `memcache://h1:p1,h2:p2`: one or many memcached servers.

use session_core::Result;
use session_memcache::{MemcacheOptions, MemcacheStore};

use crate::url::OpenContext;

/// `memcache://h1:11211[,h2:11211…][?prefix=…&timeout_ms=…&item_size_limit=…]`. The host
/// list is not a URL authority, so session-memcache parses the text itself; the
/// servers must answer at start-up, so a typo fails fast.
pub(crate) async fn memcache(text: &str, ctx: OpenContext) -> Result<MemcacheStore> {
    let options = MemcacheOptions::from_url(text)?.with_clock(ctx.clock);
    MemcacheStore::connect(options).await
}
