//! `session-admin` against Redis (`SESSION_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379/`), under a key prefix of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use common::*;
use session_any::AnyStore;
use session_core::SessionId;
use session_redis::redis::{self, Commands};
use session_test_servers::Service;

fn server_url() -> String {
    Service::Redis.url()
}

/// Deletes every key under the prefix when dropped (the scenario purges them anyway;
/// this covers a failed assertion).
struct PrefixGuard(String);

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(server_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match conn.scan_match::<_, String>(format!("{}*", self.0)) {
            Ok(iter) => iter.filter_map(Result::ok).collect(),
            Err(_) => return,
        };
        for key in keys {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(key).query(&mut conn);
        }
    }
}

/// Moves the header deadline of each record into the past, in place, keeping the
/// server's TTL: what a record looks like to a store whose clock runs ahead of the
/// server's. Redis drops a key at its `PXAT` by itself, so this is the only way an
/// expired-but-present session exists there, and the only one `gc` has to remove.
fn backdate(prefix: &str, ids: &[SessionId]) {
    let client = redis::Client::open(server_url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let past = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 60_000;
    for id in ids {
        let key = format!("{prefix}{}", id.storage_key().to_hex());
        // Offset 41: the expires-at field of the session-redis v1 header.
        let _: i64 = redis::cmd("SETRANGE")
            .arg(&key)
            .arg(41)
            .arg(format!("{past:+020}"))
            .query(&mut conn)
            .unwrap();
    }
}

#[tokio::test]
async fn redis_store() {
    let prefix = format!("sessionadmintest:{}:", fresh_tag());
    let _guard = PrefixGuard(prefix.clone());
    let url = format!("{}?prefix={prefix}", server_url());
    let store = match AnyStore::open(&url).await {
        Ok(store) => store,
        Err(e) => Service::Redis.unreachable(&server_url(), e),
    };
    let backdate_them = |ids: &[SessionId]| backdate(&prefix, ids);
    let seeded = seed(&store, 7, 5, Some(&backdate_them)).await;
    drop(store);
    scenario(&url, &seeded, || async {
        AnyStore::open(&url).await.unwrap()
    })
    .await;
    // A store under another prefix on the same server is never seen.
    let other = format!("{}?prefix=sessionadmintest:{}:", server_url(), fresh_tag());
    assert_stats(&other, 0, 0);
}

#[tokio::test]
async fn redis_store_user_sessions() {
    let tag = fresh_tag();
    let prefix = format!("sessionadmintest:{tag}:");
    let _guard = PrefixGuard(prefix.clone());
    let url = format!("{}?prefix={prefix}", server_url());
    let store = match AnyStore::open(&url).await {
        Ok(store) => store,
        Err(e) => Service::Redis.unreachable(&server_url(), e),
    };
    user_scenario(&url, store, &tag).await;
}
