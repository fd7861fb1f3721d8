//! The request-local session handle, independent of any HTTP framework.
//!
//! The HTTP layer builds a [`SessionDriver`] from the request's cookie value, hands its
//! [`Session`] to the handler, and calls [`SessionDriver::finish`] before the response
//! headers go out; the [`Outcome`] says what to do with the cookie.

mod change;
mod dict;
mod driver;
mod expiry;
mod flash;
mod state;
mod user;

use std::sync::Arc;

use tokio::sync::Mutex;

use crate::observe::in_span;
use crate::{CookieLifetime, Error, Result, SessionId, SessionOptions, SessionStore, Timestamp};
use state::{Phase, State};

pub use driver::SessionDriver;
pub use flash::{Flash, Level, FLASH_KEY};

/// What the response should do with the session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CookieChange {
    /// Leave the client's cookie as it is (or send none).
    #[default]
    Unchanged,
    /// Send this cookie value. Sent after every write or touch, so a cookie with a
    /// Max-Age can be refreshed; for server stores the value is usually unchanged.
    Set(String),
    /// Expire the client's cookie: the session was deleted, or the cookie named no
    /// live session.
    Remove,
}

/// The result of [`SessionDriver::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// What to do with the cookie.
    pub cookie: CookieChange,
    /// The session's deadline, for a cookie Max-Age; `None` when there is no session.
    pub expires_at: Option<Timestamp>,
    /// Whether the cookie persists, when the session chose for itself
    /// ([`Session::set_expiry`]); `None`: the adapter's default applies.
    pub lifetime: Option<CookieLifetime>,
}

/// A request-local, dict-like session.
///
/// Cheap to clone (clones share state) and `Send + Sync`. Nothing is read from the
/// store until a method needs the data, so a request that never touches the session
/// costs no store operation. Values are any serde type.
///
/// A method returns `Result` exactly when it may do I/O or convert a value: the
/// dict-like methods (`get`, `insert`, `remove`, `take`, `get_or_insert_with`,
/// `extend`, `keys`, `entries` …) load the session on first use, `persist`, `delete`
/// and `invalidate` write. Wishes that wait for the end of the request ([`save`](Self::save),
/// [`cycle_id`](Self::cycle_id), [`set_expiry`](Self::set_expiry),
/// [`flash_now`](Self::flash_now)) and the handle's own state ([`options`](Self::options),
/// [`is_loaded`](Self::is_loaded), [`is_modified`](Self::is_modified)) cannot fail and
/// return no `Result`.
///
/// A handler gets this handle from its framework adapter; the adapter keeps the
/// [`SessionDriver`] that created it and alone ends the request. The handle has no way
/// to end it:
///
/// ```compile_fail
/// async fn handler(session: session_core::Session) {
///     session.finish().await; // only the adapter's `SessionDriver` can
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn SessionStore>,
    options: Arc<SessionOptions>,
    // An async mutex: store calls are awaited while it is held, which also serialises
    // the handle's own writes.
    state: Mutex<State>,
    /// The request's `session.request` span: every store call of the request runs in
    /// it, whichever handler or task makes it.
    span: tracing::Span,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

fn value_error(key: &str, e: serde_json::Error) -> Error {
    Error::Value {
        key: key.to_owned(),
        message: e.to_string(),
    }
}

impl Session {
    /// A handle for a request that sent `cookie_value` (or none); only
    /// [`SessionDriver::new`] makes one, so the handle and the driver stay two things.
    fn start(
        store: Arc<dyn SessionStore>,
        options: Arc<SessionOptions>,
        cookie_value: Option<String>,
    ) -> Self {
        Session {
            shared: Arc::new(Shared {
                store,
                options,
                state: Mutex::new(State::new(cookie_value)),
                span: crate::observe::RequestTrace::span(),
            }),
        }
    }

    /// The options this session runs with.
    pub fn options(&self) -> &SessionOptions {
        &self.shared.options
    }

    /// The id of the stored session, `None` until the session is first written.
    pub async fn id(&self) -> Result<Option<SessionId>> {
        Ok(self.loaded().await?.base.as_ref().map(|b| b.id))
    }

    /// When the stored session was created.
    pub async fn created_at(&self) -> Result<Option<Timestamp>> {
        Ok(self.loaded().await?.base.as_ref().map(|b| b.created_at))
    }

    /// When the stored session was last written or touched.
    pub async fn last_accessed(&self) -> Result<Option<Timestamp>> {
        Ok(self.loaded().await?.base.as_ref().map(|b| b.accessed_at))
    }

    /// The stored session's current deadline.
    pub async fn expires_at(&self) -> Result<Option<Timestamp>> {
        Ok(self.loaded().await?.base.as_ref().map(|b| b.expires_at))
    }

    /// Asks for the session to be saved at the end of the request. Needed in
    /// [`SaveMode::Explicit`](crate::SaveMode::Explicit); harmless in `Auto`. On an
    /// unchanged session it extends the deadline.
    ///
    /// Nothing is read or written here, so nothing can fail: the write happens when the
    /// adapter ends the request ([`SessionDriver::finish`]). If that write is refused
    /// (the store is down, the record is [`TooLarge`](Error::TooLarge)), the adapter
    /// answers with its error response instead of the handler's, and the write is not
    /// retried. A handler that wants to see the failure itself, and answer it (a 413,
    /// say), calls [`Session::persist`] instead.
    pub async fn save(&self) {
        self.shared.state.lock().await.save_requested = true;
    }

    /// Writes the session now, mid-request, whatever the save mode.
    ///
    /// If the write fails, the changes it carried are rolled back: the handle reads as
    /// the stored session again, and the end of the request does not write them later
    /// behind the handler's back (a handler that caught `TooLarge` and answered 413 has
    /// not stored the value after all). A pending [`cycle_id`](Session::cycle_id) is
    /// dropped with them. Changes made after the failure are written as usual. If the
    /// session was deleted or expired meanwhile, the error is
    /// [`NotFound`](Error::NotFound) and the handle continues as a deleted session.
    pub async fn persist(&self) -> Result<()> {
        let mut st = self.loaded().await?;
        st.save_requested = true;
        let result = self.flush(&mut st).await;
        if result.is_err() {
            st.roll_back();
        }
        result
    }

    /// Removes the stored session now and expires the cookie. Changes made later in
    /// the same request are discarded; use [`Session::invalidate`] to start afresh.
    pub async fn delete(&self) -> Result<()> {
        let mut st = self.loaded().await?;
        self.remove_stored(&mut st).await?;
        st.phase = Phase::Deleted;
        Ok(())
    }

    /// Removes the stored session now and continues with a fresh, empty one under a new
    /// id (written only if something is put in it).
    pub async fn invalidate(&self) -> Result<()> {
        let mut st = self.loaded().await?;
        self.remove_stored(&mut st).await?;
        st.phase = Phase::Ready;
        Ok(())
    }

    /// Keeps the data under a new id and deletes the old record when the session is
    /// next written (at the latest at the end of this request). Call it after login:
    /// it defeats session fixation. If the session was deleted in the meantime (a
    /// logout in another request), the cycle fails with `NotFound` instead of bringing
    /// it back. A session never written has no id to cycle: nothing happens.
    ///
    /// Nothing is read or written here: the cycle happens with the next write.
    /// In [`SaveMode::Explicit`](crate::SaveMode::Explicit) a cycle counts as a save
    /// request: the session is written under its new id with the changes made so far.
    pub async fn cycle_id(&self) {
        let mut st = self.shared.state.lock().await;
        // Once loaded, a session without a stored record has nothing to cycle; before
        // the load the wish is kept and settled when the record is read.
        let cycles = match st.phase {
            Phase::Unloaded => true,
            Phase::Ready => st.base.is_some(),
            Phase::Deleted => false,
        };
        if cycles {
            st.cycle = true;
            st.save_requested = true;
        }
    }

    /// Whether the store has been read during this request.
    pub async fn is_loaded(&self) -> bool {
        self.shared.state.lock().await.phase != Phase::Unloaded
    }

    /// Whether there are unwritten changes.
    pub async fn is_modified(&self) -> bool {
        self.shared.state.lock().await.is_dirty()
    }

    async fn loaded(&self) -> Result<tokio::sync::MutexGuard<'_, State>> {
        let mut st = self.shared.state.lock().await;
        if st.phase == Phase::Unloaded {
            in_span(
                &self.shared.span,
                st.load(&*self.shared.store, &self.shared.options),
            )
            .await?;
        }
        Ok(st)
    }

    async fn remove_stored(&self, st: &mut State) -> Result<()> {
        in_span(&self.shared.span, st.delete_stored(&*self.shared.store)).await
    }

    async fn flush(&self, st: &mut State) -> Result<()> {
        in_span(
            &self.shared.span,
            st.flush(&*self.shared.store, &self.shared.options),
        )
        .await
    }
}

#[cfg(test)]
mod tests;
