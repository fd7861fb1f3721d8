//! The demo's Prometheus recorder: `metrics-exporter-prometheus` with the store-latency
//! histogram on [`session_core::observe::DURATION_BUCKETS`], and every session metric
//! described. The binary's `--metrics ADDR` serves what it renders; session-bench
//! installs the same recorder to measure what observing costs.

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

/// Installs the recorder process-wide (once: a second call fails) and answers the
/// handle that renders it. Its histograms need [`PrometheusHandle::run_upkeep`] now and
/// then in a long-running process.
///
/// ```no_run
/// let handle = session_demo::metrics::install_prometheus()?;
/// println!("{}", handle.render());
/// # Ok::<(), metrics_exporter_prometheus::BuildError>(())
/// ```
pub fn install_prometheus() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(session_core::observe::STORE_DURATION.into()),
            session_core::observe::DURATION_BUCKETS,
        )?
        .install_recorder()?;
    session_core::observe::describe_metrics();
    Ok(handle)
}
