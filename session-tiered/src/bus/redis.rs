//! Invalidation through Redis pub/sub.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use redis::aio::ConnectionManager;
use session_core::{redact_url, BackendError, BackendErrorKind, Error, Result};

use super::{bounded, InvalidationBus};

const STORE: &str = "redis-bus";

/// The channel [`RedisBus`] uses unless told otherwise.
pub const DEFAULT_REDIS_CHANNEL: &str = "session-tiered:invalidate";

/// An [`InvalidationBus`] on Redis pub/sub: `PUBLISH` on one connection, `SUBSCRIBE` on
/// one connection per subscription. Point every instance of an app at the same server
/// and channel. Messages carry storage keys (hashes), never session ids.
///
/// ```no_run
/// # async fn run() -> session_core::Result<()> {
/// use session_tiered::{LocalCache, RedisBus};
///
/// let bus = RedisBus::connect("redis://127.0.0.1:6379/").await?;
/// let cache = LocalCache::new().with_bus(bus);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    publisher: ConnectionManager,
    channel: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: redis::RedisError) -> Error {
    Error::Backend(BackendError::new(BackendErrorKind::Unavailable, err).with_store(STORE))
}

impl RedisBus {
    /// Connects the publishing connection to `url` (`redis://` or `rediss://`).
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::Config(format!("redis bus URL {}: {e}", redact_url(url))))?;
        let timeout = Duration::from_secs(2);
        let publisher = bounded(STORE, timeout, async {
            // The store's reconnect policy: pauses of at most half a second, so a server
            // back from an outage carries heartbeats again at once.
            ConnectionManager::new_with_config(
                client.clone(),
                session_redis::manager_config(timeout),
            )
            .await
            .map_err(unavailable)
        })
        .await?;
        Ok(RedisBus {
            client,
            publisher,
            channel: DEFAULT_REDIS_CHANNEL.to_owned(),
            timeout,
        })
    }

    /// Uses another channel (one per app sharing a server).
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
impl InvalidationBus for RedisBus {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn publish(&self, message: &[u8]) -> Result<()> {
        let mut conn = self.publisher.clone();
        bounded(STORE, self.timeout, async {
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(message)
                .query_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(unavailable)
        })
        .await
    }

    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>> {
        let mut pubsub = bounded(STORE, self.timeout, async {
            self.client.get_async_pubsub().await.map_err(unavailable)
        })
        .await?;
        bounded(STORE, self.timeout, async {
            pubsub.subscribe(&self.channel).await.map_err(unavailable)
        })
        .await?;
        Ok(pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec())
            .boxed())
    }
}
