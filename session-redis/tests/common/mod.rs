//! Helpers shared by the integration tests: where the servers are, fixtures in a fresh
//! key prefix that clean up after themselves, and checks several binaries run.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use session_conformance::Fixture;
use session_core::{Clock, Data, Record, SessionId, StoreSettings, Timestamp};
use session_redis::{RedisOptions, RedisStore};
use session_test_servers::{RedisCluster, Service};

/// Prefix of every key the tests write; nothing else is ever deleted.
pub const TEST_PREFIX: &str = "sessiontest:";

/// The shared standalone server's URL: `SESSION_TEST_REDIS_URL`, or the local default.
pub fn shared_url() -> String {
    Service::Redis.url()
}

/// Which deployment a store talks to.
#[derive(Debug, Clone)]
pub enum Target {
    Standalone(String),
    Cluster(Vec<String>),
}

impl Target {
    /// The shared standalone server.
    pub fn shared() -> Self {
        Target::Standalone(shared_url())
    }

    /// The cluster: the one named by `SESSION_TEST_REDIS_CLUSTER_URLS`, else a private
    /// three-primary cluster started once for this test binary.
    pub fn cluster() -> Self {
        if let Some(urls) = Service::RedisCluster.external_url() {
            return Target::Cluster(urls.split(',').map(|u| u.trim().to_owned()).collect());
        }
        static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
        Target::Cluster(CLUSTER.get_or_init(RedisCluster::start).node_urls())
    }

    /// A store on this target. An unreachable server fails the test, loudly, with how
    /// to start it: never a silent skip (and under `CI=true` that is the rule).
    pub async fn store(&self, options: RedisOptions) -> RedisStore {
        let result = match self {
            Target::Standalone(url) => RedisStore::connect(url, options).await,
            Target::Cluster(nodes) => RedisStore::connect_cluster(nodes, options).await,
        };
        result.unwrap_or_else(|e| match self {
            Target::Standalone(url) => Service::Redis.unreachable(url, e),
            Target::Cluster(nodes) => Service::RedisCluster.unreachable(
                &nodes.join(","),
                format_args!("{e} (unset the variable to let the tests start a private cluster)"),
            ),
        })
    }
}

/// A fresh prefix no other test or run uses.
pub fn fresh_prefix() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let tag: u64 = rand::thread_rng().gen();
    format!("{TEST_PREFIX}{secs}:{tag:016x}:")
}

/// Options for a test store: a fresh prefix on `clock`.
pub fn test_options(clock: Clock) -> RedisOptions {
    RedisOptions::new()
        .with_prefix(fresh_prefix())
        .with_settings(StoreSettings::new().with_clock(clock))
}

/// Deletes every key under its prefix when dropped, on its own thread, runtime and
/// connection: the fixture's connection belongs to the case's runtime, which may be
/// shutting down.
pub struct PrefixGuard {
    target: Target,
    prefix: String,
}

impl PrefixGuard {
    pub fn new(target: Target, prefix: &str) -> Self {
        PrefixGuard {
            target,
            prefix: prefix.to_owned(),
        }
    }
}

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        let target = self.target.clone();
        let prefix = self.prefix.clone();
        let cleaned = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let options = RedisOptions::new().with_prefix(prefix);
                let store = match &target {
                    Target::Standalone(url) => RedisStore::connect(url, options).await,
                    Target::Cluster(nodes) => RedisStore::connect_cluster(nodes, options).await,
                }
                .map_err(|e| e.to_string())?;
                store.delete_all().await.map_err(|e| e.to_string())
            })
        })
        .join();
        match cleaned {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("could not clean test prefix {}: {e}", self.prefix),
            Err(_) => eprintln!("cleaning test prefix {} panicked", self.prefix),
        }
    }
}

/// A conformance fixture: a store in a fresh prefix on `target`, with the raw view the
/// privacy case reads and a guard that empties the prefix afterwards.
pub async fn fixture(target: Target, options: RedisOptions) -> Fixture {
    let store = target.store(options).await;
    let guard = PrefixGuard::new(target, store.prefix());
    let view = store.clone();
    Fixture::new(store)
        .with_raw_dump(move || {
            let view = view.clone();
            async move {
                view.raw_entries()
                    .await
                    .unwrap_or_else(|e| panic!("raw dump of the test prefix failed: {e}"))
            }
        })
        .with_guard(guard)
}

/// A new session with empty data, written at `now` and live for `ttl`.
pub fn fresh_record(now: Timestamp, ttl: std::time::Duration) -> Record {
    Record::new(
        SessionId::generate(),
        Data::new(),
        now,
        now.saturating_add(ttl),
    )
}
