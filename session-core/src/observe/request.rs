//! What one request did to its session, for its `session.request` span and the request
//! metrics.

use tracing::field::Empty;
use tracing::Span;

/// Filled in by the session state as the request goes; read once at the end.
#[derive(Debug, Default)]
pub(crate) struct RequestTrace {
    pub(crate) created: bool,
    pub(crate) saved: bool,
    pub(crate) touched: bool,
    pub(crate) deleted: bool,
    pub(crate) vanished: bool,
    pub(crate) replays: u32,
}

impl RequestTrace {
    /// The span a request's session work runs in; its fields are recorded by
    /// [`RequestTrace::finish`].
    pub(crate) fn span() -> Span {
        tracing::debug_span!(
            "session.request",
            loaded = Empty,
            finish = Empty,
            conflicts_replayed = Empty,
        )
    }

    /// Notes a save replayed after a conflict.
    pub(crate) fn replayed(&mut self) {
        self.replays += 1;
        metrics::counter!("session_conflicts_replayed_total").increment(1);
    }

    /// What the request did, the first of these that applies.
    fn finish_kind(&self, failed: bool) -> Finish {
        if failed {
            Finish::Failed
        } else if self.created {
            Finish::Created
        } else if self.saved {
            Finish::Saved
        } else if self.deleted {
            Finish::Deleted
        } else if self.vanished {
            Finish::Vanished
        } else if self.touched {
            Finish::Touched
        } else {
            Finish::Unchanged
        }
    }

    /// Records the end of the request in its span and the request counter.
    pub(crate) fn finish(&self, span: &Span, loaded: bool, failed: bool) {
        let finish = self.finish_kind(failed);
        if !span.is_disabled() {
            span.record("loaded", loaded);
            span.record("finish", finish.label());
            span.record("conflicts_replayed", self.replays);
        }
        // Literal labels make static metric keys: nothing is built per request.
        let counter = match finish {
            Finish::Failed => metrics::counter!("session_requests_total", "finish" => "failed"),
            Finish::Created => metrics::counter!("session_requests_total", "finish" => "created"),
            Finish::Saved => metrics::counter!("session_requests_total", "finish" => "saved"),
            Finish::Deleted => metrics::counter!("session_requests_total", "finish" => "deleted"),
            Finish::Vanished => {
                metrics::counter!("session_requests_total", "finish" => "vanished")
            }
            Finish::Touched => metrics::counter!("session_requests_total", "finish" => "touched"),
            Finish::Unchanged => {
                metrics::counter!("session_requests_total", "finish" => "unchanged")
            }
        };
        counter.increment(1);
    }
}

/// The `finish` field and label.
#[derive(Debug, Clone, Copy)]
enum Finish {
    Failed,
    Created,
    Saved,
    Deleted,
    Vanished,
    Touched,
    Unchanged,
}

impl Finish {
    fn label(self) -> &'static str {
        match self {
            Finish::Failed => "failed",
            Finish::Created => "created",
            Finish::Saved => "saved",
            Finish::Deleted => "deleted",
            Finish::Vanished => "vanished",
            Finish::Touched => "touched",
            Finish::Unchanged => "unchanged",
        }
    }
}
