//! Private test servers: `redis-server` (standalone or a three-primary cluster),
//! `memcached`, PostgreSQL (`initdb` + `pg_ctl`) and MariaDB (`mariadb-install-db` +
//! `mariadbd`), each on a free loopback port in its own temp dir.
//!
//! Every server is stopped when its handle drops, and can be killed with SIGKILL and
//! restarted on the same port for fault tests. A watchdog shell SIGKILLs each process
//! once the test process is gone, so a crashed run, or a server held in a `static`
//! whose destructor never runs, leaves nothing behind.
//!
//! A missing binary is a panic that says which package to install; under `CI=true`
//! the message adds that a missing server is a failure, never a skip.
//!
//! ```no_run
//! use session_conformance::servers::RedisServer;
//!
//! let mut redis = RedisServer::start();
//! let url = redis.url(); // hand it to the store under test
//! redis.kill(); // SIGKILL: connections drop mid-flight
//! redis.restart(); // same port, so the store reconnects on its own
//! # let _ = url;
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

/// `SESSION_TEST_<KIND>_URL` if set: a suite can run against a server someone else
/// started instead of a private one. `kind` is upper case, e.g. `"REDIS"`.
pub fn external_url(kind: &str) -> Option<String> {
    std::env::var(format!("SESSION_TEST_{kind}_URL"))
        .ok()
        .filter(|v| !v.is_empty())
}
