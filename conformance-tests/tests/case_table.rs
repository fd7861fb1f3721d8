//! The case table is the one list: its names are unique, `cases::by_name` finds each,
//! and the cases it lists are the ones `suite!` runs (the memory suite in
//! `tests/memory.rs` is made from the same table).

use std::collections::BTreeSet;

use session_conformance::cases;

#[test]
fn names_are_unique_and_found_by_name() {
    let names: BTreeSet<&str> = cases::ALL.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases::ALL.len(), "a case is listed twice");
    for case in cases::ALL {
        let found = cases::by_name(case.name).map(|c| c.group);
        assert_eq!(found, Some(case.group), "{case:?}");
    }
    assert!(cases::by_name("no_such_case").is_none());
}

#[test]
fn the_store_level_hammer_is_in_the_table() {
    let case = cases::by_name("concurrent_store_increments_exact");
    assert_eq!(case.map(|c| c.group), Some("concurrency"));
}

#[test]
fn a_case_from_the_table_runs() {
    // A case that reads no clock, so the store's construction does not matter.
    let harness = session_conformance::Harness::from_stores(|_clock| async {
        session_core::MemoryStore::new()
    });
    let case = cases::by_name("load_unknown_id").map(|c| c.run);
    let Some(run) = case else {
        panic!("load_unknown_id is not in the table");
    };
    session_conformance::run_case(harness, move |h| Box::pin(async move { run(&h).await }));
}
