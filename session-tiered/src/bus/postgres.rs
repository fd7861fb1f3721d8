//! Invalidation through PostgreSQL `LISTEN`/`NOTIFY`.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use session_core::{redact_url, BackendError, BackendErrorKind, Error, Result};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use super::{bounded, InvalidationBus};

const STORE: &str = "postgres-bus";

/// The channel [`PostgresBus`] uses unless told otherwise.
pub const DEFAULT_POSTGRES_CHANNEL: &str = "session_tiered_invalidate";

/// An [`InvalidationBus`] on PostgreSQL's `NOTIFY` (sent with `pg_notify` from a small
/// pool) and `LISTEN` (one connection per subscription), for apps whose durable store is
/// PostgreSQL and that run no Redis. Payloads are hex text (`NOTIFY` carries text only)
/// of storage keys, never session ids.
///
/// A listener whose connection drops ends its stream instead of reconnecting quietly
/// (sqlx's `recv` would, losing what was sent meanwhile), so the cache clears itself.
///
/// ```no_run
/// # async fn run() -> session_core::Result<()> {
/// use session_tiered::{LocalCache, PostgresBus};
///
/// let bus = PostgresBus::connect("postgres://postgres@127.0.0.1/test").await?;
/// let cache = LocalCache::new().with_bus(bus);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresBus {
    url: String,
    pool: PgPool,
    channel: String,
    timeout: Duration,
}

impl std::fmt::Debug for PostgresBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBus")
            .field("url", &redact_url(&self.url))
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: sqlx::Error) -> Error {
    Error::Backend(BackendError::new(BackendErrorKind::Unavailable, err).with_store(STORE))
}

impl PostgresBus {
    /// Connects the notifying pool (two connections) to `url`.
    pub async fn connect(url: &str) -> Result<Self> {
        let timeout = Duration::from_secs(2);
        let pool = bounded(STORE, timeout, async {
            PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(timeout)
                .connect(url)
                .await
                .map_err(unavailable)
        })
        .await?;
        Ok(PostgresBus {
            url: url.to_owned(),
            pool,
            channel: DEFAULT_POSTGRES_CHANNEL.to_owned(),
            timeout,
        })
    }

    /// Uses another channel (one per app sharing a database).
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// The channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

#[async_trait]
impl InvalidationBus for PostgresBus {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn publish(&self, message: &[u8]) -> Result<()> {
        bounded(STORE, self.timeout, async {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(hex::encode(message))
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>> {
        let mut listener = bounded(STORE, self.timeout, async {
            PgListener::connect(&self.url).await.map_err(unavailable)
        })
        .await?;
        bounded(STORE, self.timeout, async {
            listener.listen(&self.channel).await.map_err(unavailable)
        })
        .await?;
        // `try_recv` answers `None` when the connection was lost (and would reconnect on
        // the next call, with what was sent meanwhile lost): the stream ends there.
        Ok(
            futures::stream::unfold(listener, |mut listener| async move {
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            // Someone else's text on our channel is skipped, not fatal.
                            if let Ok(bytes) = hex::decode(notification.payload()) {
                                return Some((bytes, listener));
                            }
                        }
                        Ok(None) | Err(_) => return None,
                    }
                }
            })
            .boxed(),
        )
    }
}
