//! What observing costs per request, for instruction counters (`perf stat -e
//! instructions`, `valgrind --tool=callgrind`): a loop of `/counter`-like requests
//! (load, update, save) through the driver over a `MemoryStore`.
//!
//! ```sh
//! cargo build --release -p session-core --example observe_cost
//! perf stat -e instructions target/release/examples/observe_cost plain none 100000
//! perf stat -e instructions target/release/examples/observe_cost observed none 100000
//! perf stat -e instructions target/release/examples/observe_cost observed both 100000
//! ```
//!
//! `plain` is the bare store, `observed` the store in an `ObservedStore` (what
//! `HttpSessions` runs). `none` installs nothing; `both` installs a `tracing`
//! subscriber that records every span at `DEBUG` and the Prometheus recorder. Run it
//! with 0 requests as well: the difference, divided by the count, is per request.
#![allow(clippy::unwrap_used, clippy::expect_used)] // example code

use std::sync::Arc;

use session_core::observe::{self, ObservedStore};
use session_core::{CookieChange, MemoryStore, SessionDriver, SessionOptions, SessionStore};
use tracing_subscriber::layer::SubscriberExt;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wrap, installed, requests] = args.as_slice() else {
        eprintln!("usage: observe_cost plain|observed none|both REQUESTS");
        std::process::exit(2);
    };
    let requests: u64 = requests.parse().expect("REQUESTS is a number");
    let store: Arc<dyn SessionStore> = match wrap.as_str() {
        "plain" => Arc::new(MemoryStore::new()),
        "observed" => Arc::new(ObservedStore::new(MemoryStore::new())),
        other => panic!("plain or observed, not {other}"),
    };
    let _tracing = match installed.as_str() {
        "none" => None,
        "both" => {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .expect("a recorder");
            observe::describe_metrics();
            // The registry keeps every span's data, as any real subscriber does; the
            // filter lets the DEBUG spans through.
            let subscriber =
                tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::DEBUG);
            Some(tracing::subscriber::set_default(subscriber))
        }
        other => panic!("none or both, not {other}"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let counted = runtime.block_on(run(store, requests));
    assert_eq!(counted, requests);
}

/// `requests` requests on one session, each adding one to its counter.
async fn run(store: Arc<dyn SessionStore>, requests: u64) -> u64 {
    let options = Arc::new(SessionOptions::default());
    let first = SessionDriver::new(store.clone(), options.clone(), None);
    first.insert("n", 0u64).await.unwrap();
    let CookieChange::Set(cookie) = first.finish().await.unwrap().cookie else {
        panic!("a new session sends its cookie");
    };
    for _ in 0..requests {
        let driver = SessionDriver::new(store.clone(), options.clone(), Some(cookie.clone()));
        driver
            .update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
            .await
            .unwrap();
        driver.finish().await.unwrap();
    }
    let last = SessionDriver::new(store, options, Some(cookie));
    last.get::<u64>("n").await.unwrap().unwrap()
}
