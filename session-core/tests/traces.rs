//! The observe module's spans: every store call and request traced, and no session id,
//! cookie value, storage key, user id or session data in any span or event. Alone in
//! its test binary: a test on another thread hitting a callsite first, with no
//! subscriber, could make it miss spans.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use common::{flow, runtime, DATA, USER_ID};
use session_core::observe::ObservedStore;
use session_core::{MemoryStore, SessionId, SessionStore};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Every span name, field and event of a run, as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut text));
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        text.push_str("\nrecord");
        values.record(&mut Fields(&mut text));
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nevent {}", event.metadata().name());
        event.record(&mut Fields(&mut text));
    }
}

#[test]
fn no_id_cookie_key_user_or_data_in_any_span_or_event() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let secrets = tracing::subscriber::with_default(subscriber, || {
        let store: Arc<dyn SessionStore> = Arc::new(ObservedStore::new(MemoryStore::new()));
        runtime().block_on(flow(store))
    });
    let text = capture.0.lock().unwrap().clone();

    // Not vacuous: the spans are there, with their fields.
    assert_eq!(text.matches("span session.request").count(), 9, "{text}");
    assert!(
        text.contains("span session.store backend=memory op=load"),
        "{text}"
    );
    assert!(text.contains("outcome=conflict"), "{text}");
    assert!(text.contains("finish=created"), "{text}");
    assert!(text.contains("conflicts_replayed=1"), "{text}");
    assert!(text.contains("elapsed_us="), "{text}");

    let mut forbidden: Vec<String> = DATA.iter().map(|d| d.to_string()).collect();
    forbidden.push(USER_ID.to_owned());
    forbidden.push(secrets.user.user_key().to_hex());
    for cookie in &secrets.cookies {
        let id = SessionId::parse(cookie).unwrap();
        forbidden.push(cookie.clone());
        forbidden.push(id.storage_key().to_hex());
    }
    for secret in forbidden {
        assert!(!text.contains(&secret), "{secret} in the trace:{text}");
    }
}
