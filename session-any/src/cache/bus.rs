//! An invalidation bus that connects on first use, so that a cache in front of a lazily
//! opened store does not connect at start-up either.
//!
//! session-tiered's buses connect when they are made. This one is made at once and
//! connects when the cache's listener first subscribes (at once, in the background, and
//! again after each failure), or on [`LazyBus::connect_now`]. A publish never waits for
//! a connection: a request's save or delete must not take a connect attempt's time.
//! Until the bus is connected, publishing fails at once with a temporary error, which
//! the cache already copes with: it serves from the durable store while it has not
//! heard the bus, and retries the invalidations it could not publish once it can.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use session_core::{BackendError, BackendErrorKind, Error, Result};
use session_tiered::InvalidationBus;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{BusPlan, CacheBus};
use crate::lazy::{FIRST_BACKOFF, JOIN_WAIT, MAX_BACKOFF};

/// See the module docs.
pub(crate) struct LazyBus {
    kind: CacheBus,
    /// The driver's URL, secrets included: never shown.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    url: String,
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    channel: Option<String>,
    connected: OnceLock<Arc<dyn InvalidationBus>>,
    attempts: Mutex<Attempts>,
}

/// The attempts so far, while not connected.
struct Attempts {
    retry_at: Option<Instant>,
    backoff: Duration,
    /// The last attempt's error, for the operations that fail fast after it.
    last: Option<String>,
}

impl LazyBus {
    pub(crate) fn new(plan: &BusPlan) -> Self {
        LazyBus {
            kind: plan.kind,
            url: plan.driver_url(),
            channel: plan.channel.clone(),
            connected: OnceLock::new(),
            attempts: Mutex::new(Attempts {
                retry_at: None,
                backoff: FIRST_BACKOFF,
                last: None,
            }),
        }
    }

    /// Whether a connection to the bus's server was made.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.get().is_some()
    }

    /// Connects now unless connected, ignoring the pause after a failed attempt.
    pub(crate) async fn connect_now(&self) -> Result<()> {
        self.bus(true).await.map(drop)
    }

    fn store(&self) -> &'static str {
        match self.kind {
            CacheBus::Postgres => "postgres-bus",
            _ => "redis-bus",
        }
    }

    fn waiting(&self, why: String) -> Error {
        BackendError::new(BackendErrorKind::Unavailable, why)
            .with_store(self.store())
            .into()
    }

    async fn bus(&self, now: bool) -> Result<Arc<dyn InvalidationBus>> {
        if let Some(bus) = self.connected.get() {
            return Ok(bus.clone());
        }
        let Ok(mut attempts) = tokio::time::timeout(JOIN_WAIT, self.attempts.lock()).await else {
            return Err(self.waiting(
                "the invalidation bus is not connected yet (an attempt is in flight)".into(),
            ));
        };
        if let Some(bus) = self.connected.get() {
            return Ok(bus.clone());
        }
        if let (false, Some(at)) = (now, attempts.retry_at) {
            let left = at.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                return Err(self.waiting(format!(
                    "the invalidation bus is not connected, next attempt in {}ms: {}",
                    left.as_millis(),
                    attempts.last.as_deref().unwrap_or("unreachable")
                )));
            }
        }
        match self.open().await {
            Ok(bus) => {
                let bus = self.connected.get_or_init(|| bus).clone();
                attempts.retry_at = None;
                attempts.backoff = FIRST_BACKOFF;
                attempts.last = None;
                Ok(bus)
            }
            Err(e) => {
                attempts.retry_at = Some(Instant::now() + attempts.backoff);
                attempts.backoff = (attempts.backoff * 2).min(MAX_BACKOFF);
                attempts.last = Some(e.to_string());
                Err(e)
            }
        }
    }

    async fn open(&self) -> Result<Arc<dyn InvalidationBus>> {
        match self.kind {
            #[cfg(feature = "redis")]
            CacheBus::Redis => {
                let mut bus = session_tiered::RedisBus::connect(&self.url).await?;
                if let Some(channel) = &self.channel {
                    bus = bus.with_channel(channel.clone());
                }
                Ok(Arc::new(bus))
            }
            #[cfg(feature = "postgres")]
            CacheBus::Postgres => {
                let mut bus = session_tiered::PostgresBus::connect(&self.url).await?;
                if let Some(channel) = &self.channel {
                    bus = bus.with_channel(channel.clone());
                }
                Ok(Arc::new(bus))
            }
            // The bus's URL was read by the scheme table, which refuses a scheme whose
            // feature is off: this is for completeness.
            other => Err(Error::Config(format!(
                "the {} invalidation bus is not compiled in: enable the `{}` feature of session-any",
                other.name(),
                other.name()
            ))),
        }
    }
}

#[async_trait]
impl InvalidationBus for LazyBus {
    fn name(&self) -> &'static str {
        match self.kind {
            CacheBus::Postgres => "postgres",
            _ => "redis",
        }
    }

    async fn publish(&self, message: &[u8]) -> Result<()> {
        match self.connected.get() {
            Some(bus) => bus.publish(message).await,
            None => Err(self.waiting(
                "the invalidation bus is not connected yet (its listener is connecting)".into(),
            )),
        }
    }

    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>> {
        self.bus(false).await?.subscribe().await
    }
}
