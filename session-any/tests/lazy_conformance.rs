//! The whole conformance suite on a lazily connecting store (`redis://` opened by URL,
//! `connect=lazy`, the default): each case's store connects on its first operation,
//! and from then on behaves as the eagerly opened one does. A private Redis, so that
//! the suite's keys never land in the shared server.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use session_any::AnyStore;
use session_conformance::{suite, Fixture};
use session_redis::RedisStore;
use session_test_servers::RedisServer;

/// One server for the whole test binary; its watchdog ends it with the process.
fn server_url() -> String {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start).url()
}

/// A prefix no other store of this binary uses: `suite!` expands its factory once per
/// case, so the counter lives out here.
fn fresh_prefix() -> String {
    static STORES: AtomicU64 = AtomicU64::new(0);
    format!("lazy:{}:", STORES.fetch_add(1, Ordering::Relaxed))
}

suite!(
    lazy_redis,
    fixture = |clock| async move {
        let url = format!("{}?prefix={}", server_url(), fresh_prefix());
        let store = AnyStore::open_with_clock(&url, clock).await.unwrap();
        assert!(
            !store.is_connected(),
            "a redis:// store connects on first use"
        );
        // The raw keys and values under the same prefix, read by an eager store of
        // session-redis's own, for the check that no raw id is stored.
        let view = RedisStore::open_url(&url).await.unwrap();
        Fixture::new(store.into_inner()).with_raw_dump(move || {
            let view = view.clone();
            async move { view.raw_entries().await.unwrap() }
        })
    }
);
