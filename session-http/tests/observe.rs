//! `HttpSessions` observes its store once, for every adapter: capabilities and the
//! backend's name pass through, each request's store calls are counted, and the error
//! response's log line quotes no session value.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use session_conformance::SelfSealed;
use session_core::{MemoryStore, SessionStore};
use session_http::{Exchange, HttpSessions, SigningKeys};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

fn sessions() -> HttpSessions {
    HttpSessions::builder(MemoryStore::new())
        .keys(SigningKeys::new([[7u8; 32]]).unwrap())
        .build()
        .unwrap()
}

#[test]
fn capabilities_and_backend_pass_through_the_observed_store() {
    let plain = sessions();
    assert_eq!(plain.store().backend(), "memory");
    assert_eq!(
        plain.store().capabilities(),
        MemoryStore::new().capabilities()
    );
    // Self-sealed still reads as such: no keys needed, none used.
    let sealed = HttpSessions::builder(SelfSealed(MemoryStore::new()))
        .build()
        .unwrap();
    assert!(sealed.store().capabilities().self_sealed);
    assert_eq!(sealed.store().backend(), "self-sealed");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_request_through_an_exchange_is_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        runtime().block_on(async {
            let sessions = sessions();
            let exchange = Exchange::begin(&sessions, &HeaderMap::new());
            exchange.session().insert("n", 1).await.unwrap();
            let mut sent = HeaderMap::new();
            exchange.finish(200, false, &mut sent).await.unwrap();
            let set = sent[SET_COOKIE].to_str().unwrap();
            let cookie = set.split(';').next().unwrap();

            let mut request = HeaderMap::new();
            request.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
            let exchange = Exchange::begin(&sessions, &request);
            assert_eq!(exchange.session().get::<u32>("n").await.unwrap(), Some(1));
            exchange
                .finish(200, false, &mut HeaderMap::new())
                .await
                .unwrap();
        });
    });
    let mut counts: Vec<(String, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) => {
                let key = key.key();
                let labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                Some((format!("{}{{{}}}", key.name(), labels.join(",")), n))
            }
            _ => None,
        })
        .collect();
    counts.sort();
    let expected = [
        ("session_requests_total{finish=created}", 1),
        ("session_requests_total{finish=unchanged}", 1),
        (
            "session_store_operations_total{backend=memory,op=create,outcome=ok}",
            1,
        ),
        (
            "session_store_operations_total{backend=memory,op=load,outcome=hit}",
            1,
        ),
    ]
    .map(|(k, n)| (k.to_owned(), n));
    assert_eq!(counts, expected);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        text.push('\n');
        event.record(&mut Fields(&mut text));
    }
}

#[test]
fn the_error_response_log_quotes_no_session_value() {
    const SECRET: &str = "secret-3a9f71";
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        runtime().block_on(async {
            let sessions = sessions();
            let exchange = Exchange::begin(&sessions, &HeaderMap::new());
            let session = exchange.session();
            session.insert("name", SECRET).await.unwrap();
            let error = session.get::<u64>("name").await.unwrap_err();
            // serde's message quotes the value: that is what must stay out of the log.
            assert!(error.to_string().contains(SECRET), "{error}");
            let response = exchange.error_response(&error);
            assert_eq!(response.status(), 500);
        });
    });
    let text = capture.0.lock().unwrap().clone();
    assert!(text.contains("kind=\"value\""), "{text}");
    assert!(text.contains("key=name"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}
