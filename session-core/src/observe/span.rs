//! Running work inside a span only when someone listens.

use std::future::Future;

use tracing::{Instrument, Span};

/// Awaits `work` inside `span`, or as it is when the span is disabled (no subscriber
/// wants it). `Instrument` enters and exits its span on every poll and drops it at the
/// end, which costs even for a disabled span when `tracing`'s `log` feature is on (sqlx
/// turns it on for every app that links it): about 1,400 instructions per request
/// under callgrind, for spans nobody reads.
pub(crate) async fn in_span<F: Future>(span: &Span, work: F) -> F::Output {
    if span.is_disabled() {
        work.await
    } else {
        work.instrument(span.clone()).await
    }
}
