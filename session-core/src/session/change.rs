//! What a request did to each key, kept so a save that lost a race can be replayed on
//! the winner's data (keys, not the whole map).

use std::sync::Arc;

use serde_json::Value;

use crate::{Data, Result};

/// A read-modify-write step, re-run on the fresh value after a conflict.
pub(crate) type UpdateFn = dyn Fn(Option<&Value>) -> Result<Value> + Send + Sync;

#[derive(Clone)]
pub(crate) enum Change {
    /// A blind write: replayed as is (last writer wins on this key).
    Set(Value),
    /// A removal.
    Remove,
    /// A read-modify-write: replayed by calling the function again, so concurrent
    /// increments all count.
    Update(Arc<UpdateFn>),
}

impl Change {
    /// The change that results from applying `then` after `self` to one key.
    pub(crate) fn then_update(self, then: Arc<UpdateFn>, result: &Value) -> Change {
        match self {
            // The earlier step fixed the value, so the outcome no longer depends on the
            // stored one: replaying the result is exact.
            Change::Set(_) | Change::Remove => Change::Set(result.clone()),
            Change::Update(first) => Change::Update(Arc::new(move |old| {
                let mid = first(old)?;
                then(Some(&mid))
            })),
        }
    }

    /// Applies this change to `key` in `data`.
    pub(crate) fn apply(&self, key: &str, data: &mut Data) -> Result<()> {
        match self {
            Change::Set(v) => {
                data.insert(key.to_owned(), v.clone());
            }
            Change::Remove => {
                data.remove(key);
            }
            Change::Update(f) => {
                let v = f(data.get(key))?;
                data.insert(key.to_owned(), v);
            }
        }
        Ok(())
    }
}
