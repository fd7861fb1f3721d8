//! Opening a cache in front of an opened durable store.

use std::sync::Arc;

use session_core::{Result, SessionStore};
use session_tiered::{LocalCache, TieredStore};

use super::bus::LazyBus;
use super::{CacheUrl, Plan};
use crate::lazy::LazyStore;
use crate::url::{ConnectMode, OpenContext};

/// A tiered store and what of it may still have to connect.
pub(crate) struct CacheParts {
    pub(crate) tiered: TieredStore,
    /// The shared cache store, when it connects lazily.
    lazy: Option<Arc<LazyStore>>,
    /// The in-process cache's bus, if it has one.
    bus: Option<Arc<LazyBus>>,
    /// The cache URL, redacted.
    pub(crate) shown: String,
}

impl CacheParts {
    /// Connects what has not connected yet: the shared cache store, or the bus.
    pub(crate) async fn connect(&self) -> Result<()> {
        if let Some(lazy) = &self.lazy {
            lazy.connect_now().await?;
        }
        if let Some(bus) = &self.bus {
            bus.connect_now().await?;
        }
        Ok(())
    }

    /// Whether everything of the cache has connected.
    pub(crate) fn is_connected(&self) -> bool {
        self.lazy.as_ref().is_none_or(|l| l.is_connected())
            && self.bus.as_ref().is_none_or(|b| b.is_connected())
    }
}

/// Puts the cache `plan` describes (from `cache`) in front of `durable`. A shared cache
/// store opens as its URL says (lazily, for a network one, by default); an in-process
/// cache's bus connects in the background unless its server's URL says `connect=eager`.
pub(crate) async fn build(
    durable: Arc<dyn SessionStore>,
    plan: Plan,
    cache: &CacheUrl,
    ctx: OpenContext,
) -> Result<CacheParts> {
    let shown = cache.to_string();
    match plan {
        Plan::Shared(url) => {
            let opened = url.open(ctx).await?;
            let tiered = TieredStore::shared(opened.store, durable)?;
            Ok(CacheParts {
                tiered,
                lazy: opened.lazy,
                bus: None,
                shown,
            })
        }
        Plan::Local(local) => {
            let mut memory = LocalCache::new().with_clock(ctx.clock.clone());
            if let Some(capacity) = local.capacity {
                memory = memory.with_capacity(capacity);
            }
            if let Some(ttl) = local.ttl {
                memory = memory.with_ttl(ttl);
            }
            if let Some(heartbeat) = local.heartbeat {
                memory = memory.with_heartbeat(heartbeat);
            }
            let bus = match &local.bus {
                Some(plan) => {
                    let bus = Arc::new(LazyBus::new(plan));
                    if plan.connect_mode()? == ConnectMode::Eager {
                        bus.connect_now().await?;
                    }
                    memory = memory.with_bus(bus.clone());
                    Some(bus)
                }
                None => None,
            };
            let tiered = TieredStore::local(durable, memory)?;
            Ok(CacheParts {
                tiered,
                lazy: None,
                bus,
                shown,
            })
        }
    }
}
