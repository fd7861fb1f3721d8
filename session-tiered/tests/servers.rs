//! The whole conformance suite on tiered pairs over real servers, each case in a fresh
//! table, key prefix and bus channel:
//!
//! - a shared Redis cache over PostgreSQL;
//! - a shared memcached cache over MariaDB;
//! - an in-process cache over PostgreSQL, invalidated through Redis pub/sub;
//! - an in-process cache over PostgreSQL, invalidated through PostgreSQL `NOTIFY`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::servers;
use session_conformance::suite;
use session_test_servers::Service;
use session_tiered::{LocalCache, TieredStore};

/// A short heartbeat keeps the cases' waits for a silent bus short.
const HEARTBEAT: Duration = Duration::from_millis(500);

suite!(
    redis_over_postgres,
    fixture = |clock| async move {
        let (durable, durable_dump, table) = servers::sql(Service::Postgres, clock.clone()).await;
        let (cache, cache_dump, prefix) = servers::redis(clock).await;
        let store = TieredStore::shared(cache, durable).unwrap();
        common::fixture(store, vec![durable_dump, cache_dump], (table, prefix))
    }
);

suite!(
    memcache_over_mariadb,
    fixture = |clock| async move {
        let (durable, durable_dump, table) = servers::sql(Service::MySql, clock.clone()).await;
        let cache = servers::memcache(clock).await;
        let store = TieredStore::shared(cache, durable).unwrap();
        common::fixture(store, vec![durable_dump], table)
    }
);

suite!(
    local_with_redis_bus_over_postgres,
    fixture = |clock| async move {
        let (durable, dump, table) = servers::sql(Service::Postgres, clock.clone()).await;
        let bus = servers::redis_bus_at(&Service::Redis.url()).await;
        let cache = LocalCache::new()
            .with_clock(clock)
            .with_bus(bus)
            .with_heartbeat(HEARTBEAT);
        let store = TieredStore::local(durable, cache).unwrap();
        common::fixture(store, vec![dump], table)
    }
);

suite!(
    local_with_postgres_bus_over_postgres,
    fixture = |clock| async move {
        let (durable, dump, table) = servers::sql(Service::Postgres, clock.clone()).await;
        let cache = LocalCache::new()
            .with_clock(clock)
            .with_bus(servers::postgres_bus().await)
            .with_heartbeat(HEARTBEAT);
        let store = TieredStore::local(durable, cache).unwrap();
        common::fixture(store, vec![dump], table)
    }
);
