//! How instances tell each other's in-process caches that a session changed or went.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use session_core::{BackendError, Result, StorageKey, UserKey};
use tokio::sync::broadcast;

#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresBus, DEFAULT_POSTGRES_CHANNEL};
#[cfg(feature = "redis")]
pub use self::redis::{RedisBus, DEFAULT_REDIS_CHANNEL};

/// A broadcast channel between the instances of an app, used by
/// [`LocalCache`](crate::LocalCache) to drop a session from every instance's memory when
/// one instance saves, deletes or revokes it.
///
/// Delivery may be at most once (Redis pub/sub, PostgreSQL `NOTIFY`): the cache does not
/// trust a quiet channel. Every instance publishes a heartbeat, and an instance that has
/// heard nothing for its [heartbeat](crate::LocalCache::with_heartbeat) stops serving
/// from memory and clears it, because it may have missed an invalidation. A stream that
/// ends is a lost link too. So a bus implementation only needs to deliver, in order, what
/// it delivers at all, and end (or go quiet) when it cannot.
#[async_trait]
pub trait InvalidationBus: Send + Sync + 'static {
    /// A short, fixed name for logs: `"memory"`, `"redis"`, `"postgres"`.
    fn name(&self) -> &'static str;

    /// Sends `message` to every subscriber, this instance's own included. Returns once
    /// the server has taken it, so that a `delete` that returns has been announced.
    async fn publish(&self, message: &[u8]) -> Result<()>;

    /// A new subscription: every message published from now on, until the stream ends.
    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>>;
}

#[async_trait]
impl<B: InvalidationBus + ?Sized> InvalidationBus for Arc<B> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    async fn publish(&self, message: &[u8]) -> Result<()> {
        (**self).publish(message).await
    }
    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>> {
        (**self).subscribe().await
    }
}

/// A bus inside one process: several [`TieredStore`](crate::TieredStore)s in one program
/// (tests, or one store per worker), or a stand-in for a real bus.
///
/// A subscriber that falls more than `capacity` messages behind loses its subscription
/// (its stream ends), which the cache treats as a lost link.
///
/// ```
/// use session_tiered::{InvalidationBus, MemoryBus};
///
/// let bus = MemoryBus::new(1024);
/// let other_instance = bus.clone(); // the same channel
/// assert_eq!(other_instance.name(), "memory");
/// ```
#[derive(Clone, Debug)]
pub struct MemoryBus {
    sender: broadcast::Sender<Arc<[u8]>>,
}

impl MemoryBus {
    /// A bus that buffers up to `capacity` messages per subscriber (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        MemoryBus { sender }
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus::new(4096)
    }
}

#[async_trait]
impl InvalidationBus for MemoryBus {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn publish(&self, message: &[u8]) -> Result<()> {
        // No subscriber is not an error: nobody has anything cached.
        let _ = self.sender.send(Arc::from(message));
        Ok(())
    }

    async fn subscribe(&self) -> Result<BoxStream<'static, Vec<u8>>> {
        let receiver = self.sender.subscribe();
        Ok(
            futures::stream::unfold(receiver, |mut receiver| async move {
                // A lagged receiver has missed messages: end the stream (a lost link).
                let message = receiver.recv().await.ok()?;
                Some((message.to_vec(), receiver))
            })
            .boxed(),
        )
    }
}

/// `work`, or a timeout error naming `store` once `limit` has passed: a bus that hangs
/// must not hang a request.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) async fn bounded<T>(
    store: &'static str,
    limit: Duration,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(BackendError::timed_out(limit).with_store(store).into()),
    }
}

/// What travels on the bus: who sent it, and which session to drop (or a heartbeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// Drop this storage key.
    Invalidate { from: [u8; 16], key: StorageKey },
    /// Drop every session bound to this user (a revocation).
    RevokeUser { from: [u8; 16], user: UserKey },
    /// "I am here": proves the sender's own link works when it hears it back.
    Heartbeat { from: [u8; 16] },
}

const INVALIDATE: u8 = 1;
const HEARTBEAT: u8 = 2;
const REVOKE_USER: u8 = 3;

impl Message {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(49);
        match self {
            Message::Invalidate { from, key } => {
                out.push(INVALIDATE);
                out.extend_from_slice(from);
                out.extend_from_slice(key.as_bytes());
            }
            Message::RevokeUser { from, user } => {
                out.push(REVOKE_USER);
                out.extend_from_slice(from);
                out.extend_from_slice(user.as_bytes());
            }
            Message::Heartbeat { from } => {
                out.push(HEARTBEAT);
                out.extend_from_slice(from);
            }
        }
        out
    }

    /// `None` for anything that is not a message of ours (another app on the channel).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
        let (&kind, rest) = bytes.split_first()?;
        let from: [u8; 16] = rest.get(..16)?.try_into().ok()?;
        match (kind, rest.len()) {
            (INVALIDATE, 48) => {
                let key: [u8; 32] = rest.get(16..48)?.try_into().ok()?;
                Some(Message::Invalidate {
                    from,
                    key: StorageKey::from_bytes(key),
                })
            }
            (REVOKE_USER, 48) => {
                let user: [u8; 32] = rest.get(16..48)?.try_into().ok()?;
                Some(Message::RevokeUser {
                    from,
                    user: UserKey::from_bytes(user),
                })
            }
            (HEARTBEAT, 16) => Some(Message::Heartbeat { from }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn messages_round_trip_and_junk_is_ignored() {
        let key = StorageKey::from_bytes([7; 32]);
        for message in [
            Message::Invalidate { from: [1; 16], key },
            Message::RevokeUser {
                from: [3; 16],
                user: UserKey::of("ada"),
            },
            Message::Heartbeat { from: [2; 16] },
        ] {
            assert_eq!(Message::decode(&message.encode()), Some(message));
        }
        for junk in [
            &b""[..],
            b"\x01",
            b"\x01short",
            b"\x03aaaaaaaaaaaaaaaa",
            &[1; 60],
        ] {
            assert_eq!(Message::decode(junk), None, "{junk:?}");
        }
    }

    #[tokio::test]
    async fn memory_bus_delivers_to_every_subscriber() {
        let bus = MemoryBus::new(8);
        let mut a = bus.subscribe().await.unwrap();
        let mut b = bus.clone().subscribe().await.unwrap();
        bus.publish(b"hello").await.unwrap();
        assert_eq!(a.next().await.unwrap(), b"hello");
        assert_eq!(b.next().await.unwrap(), b"hello");
    }

    #[tokio::test]
    async fn a_lagging_subscriber_loses_its_stream() {
        let bus = MemoryBus::new(2);
        let mut slow = bus.subscribe().await.unwrap();
        for i in 0..5u8 {
            bus.publish(&[i]).await.unwrap();
        }
        assert_eq!(slow.next().await, None, "missed messages end the stream");
    }
}
