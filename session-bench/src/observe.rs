//! Observing switched on, to measure what it costs: a `tracing` subscriber that
//! records the session crates' spans (they are at `DEBUG`; the registry keeps each
//! span's fields, the fmt layer writes any event to a sink) and the demo's Prometheus
//! recorder, both process-wide. Without this, nothing is installed: the cost of the
//! spans and counters that nobody wants is what the plain rows measure.

use crate::BoxResult;

/// The session crates at `DEBUG`, everything else at `WARN`.
const FILTER: &str =
    "warn,session_core=debug,session_http=debug,session_tower=debug,session_actix=debug";

/// Installs the subscriber and the recorder (once per process).
pub fn install() -> BoxResult<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(FILTER)?)
        .try_init()?;
    // The handle only renders; the recorder stays installed without it.
    drop(session_demo::metrics::install_prometheus()?);
    Ok(())
}
