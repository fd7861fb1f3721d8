//! `MemoryStore` against the whole suite: once with the size limit lifted (`None`), once
//! with a small one, so both sides of the `TooLarge` gate run.

use std::sync::Arc;

use session_conformance::{suite, Fixture};
use session_core::{MemoryStore, StoreSettings};

fn fixture(store: MemoryStore) -> Fixture {
    let store = Arc::new(store);
    let view = store.clone();
    Fixture::new(store).with_raw_dump(move || {
        let view = view.clone();
        async move { view.raw_entries() }
    })
}

suite!(
    memory,
    fixture = |clock| async move {
        fixture(
            MemoryStore::new().with_settings(
                StoreSettings::new()
                    .with_clock(clock)
                    .with_max_record_size(None),
            ),
        )
    }
);

suite!(
    memory_limited,
    fixture = |clock| async move {
        fixture(
            MemoryStore::new().with_settings(
                StoreSettings::new()
                    .with_clock(clock)
                    .with_max_record_size(Some(16 * 1024)),
            ),
        )
    }
);
