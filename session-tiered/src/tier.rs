//! What the tiered store asks of its cache tier, in-process or shared.

use async_trait::async_trait;
use session_core::{Record, SessionId, SessionStore, StorageKey, UserKey};

use crate::guard::Ticket;
use crate::stats::TierStats;

/// A cache lookup's answer.
pub(crate) enum Lookup {
    /// The cache has the live record.
    Hit(Box<Record>),
    /// The cache does not have it: read the durable store, then
    /// [`fill`](Tier::fill) with this ticket.
    Miss(Ticket),
    /// The cache cannot be trusted or reached now: read the durable store, fill nothing.
    Bypass,
}

/// The cache side of a [`TieredStore`](crate::TieredStore). None of these fail: a cache
/// that cannot do its part degrades to durable-store reads, and an invalidation that
/// cannot be written now is queued and retried.
#[async_trait]
pub(crate) trait Tier: Send + Sync + 'static {
    /// `"local"` or the shared cache store's backend name.
    fn kind(&self) -> &'static str;

    async fn get(&self, id: &SessionId) -> Lookup;

    /// Taken before a write to the durable store, handed to [`created`](Tier::created)
    /// and [`saved`](Tier::saved): what was invalidated meanwhile is not cached.
    fn ticket(&self) -> Ticket;

    /// Caches `record`, just read from `durable` after a miss with `ticket`, unless the
    /// session changed or went meanwhile.
    async fn fill(&self, ticket: Ticket, record: &Record, durable: &dyn SessionStore);

    /// After the durable store created `record`.
    async fn created(&self, ticket: Ticket, record: &Record);

    /// After the durable store saved `record` over `expected_version`.
    async fn saved(&self, ticket: Ticket, record: &Record, expected_version: u64);

    /// After the durable store touched `record`.
    async fn touched(&self, record: &Record);

    /// After the durable store deleted the session stored under `key`: no instance may
    /// serve it again.
    async fn forget(&self, key: StorageKey);

    /// After the durable store said this instance's copy is stale (a conflict, or the
    /// session is gone): drop it here so the reload reads the durable store.
    async fn drop_stale(&self, key: StorageKey);

    /// Before the durable store revokes `user`'s sessions.
    async fn revoking(&self, user: &UserKey);

    /// After the durable store revoked `user`'s sessions; `listed` are the keys that
    /// were bound to the user when the listing ran, after
    /// [`revoking`](Tier::revoking) and before the revoke.
    async fn revoked(&self, user: &UserKey, listed: Vec<StorageKey>);

    fn stats(&self) -> TierStats;
}
