//! The servers the workspace's tests run against, and how a test finds them.
//!
//! Not published: this is process control for our own tests, kept out of the
//! conformance suite third parties depend on.
//!
//! - [`Service`] names the shared servers `scripts/services` starts (PostgreSQL,
//!   MariaDB/MySQL, Redis, memcached) and reads `SESSION_TEST_<KIND>_URL`, so every
//!   test that may run against a server someone else started reads the same variables
//!   with the same defaults, and fails the same loud way when the server is not there.
//! - Private servers: `redis-server` (standalone or a three-primary cluster),
//!   `memcached`, PostgreSQL (`initdb` + `pg_ctl`) and MariaDB (`mariadb-install-db` +
//!   `mariadbd`), each on a free loopback port in its own temp dir, for tests that kill
//!   and restart them.
//!
//! Every private server is stopped when its handle drops, and can be killed with
//! SIGKILL and restarted on the same port for fault tests. A watchdog shell SIGKILLs
//! each process once the test process is gone, so a crashed run, or a server held in a
//! `static` whose destructor never runs, leaves nothing behind.
//!
//! A missing binary or an unreachable shared server is a panic that says what to
//! install or start; under `CI=true` the message adds that a missing server is a
//! failure, never a skip.
//!
//! ```no_run
//! use session_test_servers::{RedisServer, Service};
//!
//! let shared = Service::Redis.url(); // $SESSION_TEST_REDIS_URL or redis://127.0.0.1:6379/
//! let mut redis = RedisServer::start();
//! let url = redis.url(); // hand it to the store under test
//! redis.kill(); // SIGKILL: connections drop mid-flight
//! redis.restart(); // same port, so the store reconnects on its own
//! # let _ = (shared, url);
//! ```

mod mariadb;
mod memcached;
mod postgres;
mod process;
mod redis;

pub use mariadb::MariaDb;
pub use memcached::Memcached;
pub use postgres::Postgres;
pub use redis::{RedisCluster, RedisServer};

/// A shared server the tests may use, found through `SESSION_TEST_<KIND>_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// PostgreSQL: `SESSION_TEST_POSTGRES_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/test`.
    Postgres,
    /// MariaDB or MySQL: `SESSION_TEST_MYSQL_URL`, default
    /// `mysql://root@127.0.0.1:3306/test`.
    MySql,
    /// Standalone Redis: `SESSION_TEST_REDIS_URL`, default `redis://127.0.0.1:6379/`.
    Redis,
    /// An existing Redis Cluster: `SESSION_TEST_REDIS_CLUSTER_URLS`, comma-separated
    /// node URLs; no default (the tests start a private cluster).
    RedisCluster,
    /// memcached: `SESSION_TEST_MEMCACHE_URL` (`memcache://host:port[,host:port]`); no
    /// default (the tests start a private server).
    Memcache,
}

impl Service {
    /// The environment variable that points the tests at a running server.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Postgres => "SESSION_TEST_POSTGRES_URL",
            Service::MySql => "SESSION_TEST_MYSQL_URL",
            Service::Redis => "SESSION_TEST_REDIS_URL",
            Service::RedisCluster => "SESSION_TEST_REDIS_CLUSTER_URLS",
            Service::Memcache => "SESSION_TEST_MEMCACHE_URL",
        }
    }

    /// What the server is, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Postgres => "PostgreSQL",
            Service::MySql => "MariaDB/MySQL",
            Service::Redis => "Redis",
            Service::RedisCluster => "the Redis Cluster",
            Service::Memcache => "memcached",
        }
    }

    /// Where `scripts/services` runs it, if it runs one.
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            Service::Postgres => Some("postgres://postgres@127.0.0.1:5432/test"),
            Service::MySql => Some("mysql://root@127.0.0.1:3306/test"),
            Service::Redis => Some("redis://127.0.0.1:6379/"),
            Service::RedisCluster | Service::Memcache => None,
        }
    }

    /// The variable's value if it is set and not empty: a server someone else started.
    pub fn external_url(self) -> Option<String> {
        std::env::var(self.env_var())
            .ok()
            .filter(|v| !v.trim().is_empty())
    }

    /// The variable's value, else the default. For a service without a default (a
    /// private server is the default there) this panics: call
    /// [`Service::external_url`] and start one instead.
    pub fn url(self) -> String {
        match (self.external_url(), self.default_url()) {
            (Some(url), _) => url,
            (None, Some(default)) => default.to_owned(),
            (None, None) => panic!(
                "{} has no shared default: read {} with Service::external_url and start a \
                 private server when it is unset",
                self.name(),
                self.env_var()
            ),
        }
    }

    /// Fails the test, loudly, with how to get the server: never a silent skip (and
    /// under `CI=true` that is the rule).
    pub fn unreachable(self, url: &str, error: impl std::fmt::Display) -> ! {
        panic!(
            "{} is not reachable at {url}: {error}\nStart the shared servers with `bash \
             scripts/services` (`scripts/test` does), or point {} at a running one.{}",
            self.name(),
            self.env_var(),
            if ci() {
                " (CI=true: a missing server is a failure, never a skip.)"
            } else {
                ""
            }
        )
    }
}

/// Whether this run is CI's (`CI=true`), where a missing server fails, never skips.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::Service;

    #[test]
    fn every_service_has_its_own_variable() {
        let all = [
            Service::Postgres,
            Service::MySql,
            Service::Redis,
            Service::RedisCluster,
            Service::Memcache,
        ];
        let vars: std::collections::BTreeSet<_> = all.iter().map(|s| s.env_var()).collect();
        assert_eq!(vars.len(), all.len());
        assert!(vars.iter().all(|v| v.starts_with("SESSION_TEST_")));
    }

    #[test]
    fn unreachable_names_the_variable() {
        let panic =
            std::panic::catch_unwind(|| Service::Redis.unreachable("redis://x/", "refused"));
        let message = panic
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("SESSION_TEST_REDIS_URL"), "{message}");
        assert!(message.contains("refused"), "{message}");
    }
}
