//! The observe module's metrics: exact counts for a known flow.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use common::{flow, runtime};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use session_core::observe::{self, ObservedStore};
use session_core::{MemoryStore, SessionStore};

fn labels(key: &metrics::Key) -> String {
    let mut text = String::new();
    for label in key.labels() {
        let _ = write!(text, "{}={},", label.key(), label.value());
    }
    text.trim_end_matches(',').to_owned()
}

#[test]
fn counts_are_exact_for_a_known_flow() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let store: Arc<dyn SessionStore> = Arc::new(ObservedStore::new(MemoryStore::new()));
        runtime().block_on(flow(store));
    });

    let mut counters = BTreeMap::new();
    let mut histograms = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let name = format!("{}{{{}}}", key.name(), labels(key));
        match value {
            DebugValue::Counter(n) => {
                counters.insert(name, n);
            }
            DebugValue::Histogram(samples) => {
                assert!(samples.iter().all(|s| s.0 >= 0.0 && s.0 < 5.0), "{name}");
                histograms.insert(name, samples.len() as u64);
            }
            DebugValue::Gauge(_) => panic!("no gauge expected: {name}"),
        }
    }
    let ops = |op: &str, outcome: &str| {
        format!("session_store_operations_total{{backend=memory,op={op},outcome={outcome}}}")
    };
    let expected_counters = BTreeMap::from([
        // 2, 3, 4 (twice: before and after the conflict), 5, 6, 7.
        (ops("load", "hit"), 7),
        (ops("load", "miss"), 2),
        (ops("create", "ok"), 2),
        (ops("save", "ok"), 4),
        (ops("save", "conflict"), 1),
        (ops("touch", "ok"), 1),
        (ops("delete", "ok"), 2),
        (ops("sessions_of", "ok"), 1),
        ("session_requests_total{finish=created}".to_owned(), 2),
        ("session_requests_total{finish=saved}".to_owned(), 3),
        ("session_requests_total{finish=touched}".to_owned(), 1),
        ("session_requests_total{finish=deleted}".to_owned(), 1),
        ("session_requests_total{finish=unchanged}".to_owned(), 2),
        ("session_conflicts_replayed_total{}".to_owned(), 1),
    ]);
    assert_eq!(counters, expected_counters);
    let timed = |op: &str| format!("session_store_duration_seconds{{backend=memory,op={op}}}");
    let expected_histograms = BTreeMap::from([
        (timed("load"), 9),
        (timed("create"), 2),
        (timed("save"), 5),
        (timed("touch"), 1),
        (timed("delete"), 2),
        (timed("sessions_of"), 1),
    ]);
    assert_eq!(histograms, expected_histograms);
}

#[test]
fn the_driver_counts_requests_over_any_store_and_describe_names_every_metric() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        observe::describe_metrics();
        // Not observed: only the driver's own metrics appear.
        runtime().block_on(flow(Arc::new(MemoryStore::new())));
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let names: std::collections::BTreeSet<_> = snapshot
        .iter()
        .map(|(k, _, _, _)| k.key().name().to_owned())
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [observe::CONFLICTS_REPLAYED, observe::REQUESTS]
    );
    for (key, unit, help, _) in snapshot {
        assert_eq!(unit, Some(metrics::Unit::Count), "{:?}", key.key());
        assert!(help.is_some_and(|h| !h.is_empty()));
    }
}
