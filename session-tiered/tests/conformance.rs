//! The whole conformance suite on tiered pairs that need no server: an in-process cache
//! (without and with a bus) over SQLite and over a directory of files, and a shared
//! cache (a `MemoryStore`) over SQLite. The pairs on servers are in `servers.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use session_conformance::suite;
use session_tiered::{LocalCache, MemoryBus, TieredStore};

suite!(
    local_over_sqlite,
    fixture = |clock| async move {
        let (durable, dump) = common::sqlite(clock.clone()).await;
        let store = TieredStore::local(durable, LocalCache::new().with_clock(clock)).unwrap();
        common::fixture(store, vec![dump], ())
    }
);

suite!(
    local_with_bus_over_sqlite,
    fixture = |clock| async move {
        let (durable, dump) = common::sqlite(clock.clone()).await;
        let cache = LocalCache::new()
            .with_clock(clock)
            .with_bus(MemoryBus::default())
            .with_heartbeat(Duration::from_millis(200));
        let store = TieredStore::local(durable, cache).unwrap();
        common::fixture(store, vec![dump], ())
    }
);

suite!(
    local_over_file,
    fixture = |clock| async move {
        let (durable, dump, dir) = common::file(clock.clone()).await;
        let store = TieredStore::local(durable, LocalCache::new().with_clock(clock)).unwrap();
        common::fixture(store, vec![dump], dir)
    }
);

suite!(
    shared_memory_over_sqlite,
    fixture = |clock| async move {
        let (durable, durable_dump) = common::sqlite(clock.clone()).await;
        let (cache, cache_dump) = common::memory(clock);
        let store = TieredStore::shared(cache, durable).unwrap();
        common::fixture(store, vec![durable_dump, cache_dump], ())
    }
);
