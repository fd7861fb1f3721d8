//! The end-of-request side of a session, kept apart from the handle handlers get.

use std::ops::Deref;
use std::sync::Arc;

use crate::observe::in_span;
use crate::{Error, Result, SessionOptions, SessionStore};

use super::state::Phase;
use super::{Outcome, Session};

/// Drives one request's session: builds the [`Session`] handle handlers use and, once,
/// ends the request by writing what the handle changed and reporting what to do with
/// the cookie.
///
/// Only a framework adapter (the tower layer, or your own) should hold one. Handlers
/// get a [`Session`] (from [`SessionDriver::session`]), which reads and writes but
/// cannot end the request: a handler that could call `finish` would make the adapter's
/// own `finish` answer "unchanged", so a new session's cookie would never be sent and
/// its record would be orphaned. [`finish`](SessionDriver::finish) and
/// [`finish_unsaved`](SessionDriver::finish_unsaved) take the driver by value, so the
/// request ends exactly once.
///
/// The driver dereferences to its [`Session`], which keeps tests and adapters short.
///
/// ```
/// use std::sync::Arc;
/// use session_core::{CookieChange, MemoryStore, SessionDriver, SessionOptions};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let options = Arc::new(SessionOptions::default());
///
/// // The adapter, when a request arrives without a cookie:
/// let driver = SessionDriver::new(store.clone(), options.clone(), None);
/// let handle = driver.session(); // what the handler gets
/// handle.insert("user", "ada").await?;
/// // ... and before the response headers go out:
/// let outcome = driver.finish().await?;
/// assert!(matches!(outcome.cookie, CookieChange::Set(_)));
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
pub struct SessionDriver {
    session: Session,
}

impl std::fmt::Debug for SessionDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionDriver").finish_non_exhaustive()
    }
}

impl SessionDriver {
    /// Starts the session of a request that sent `cookie_value` (or none). Nothing is
    /// read from the store until the handle needs the data.
    pub fn new(
        store: Arc<dyn SessionStore>,
        options: Arc<SessionOptions>,
        cookie_value: Option<String>,
    ) -> Self {
        SessionDriver {
            session: Session::start(store, options, cookie_value),
        }
    }

    /// The handle for handlers. Clones share this request's state.
    pub fn session(&self) -> Session {
        self.session.clone()
    }

    /// Ends the request: writes or touches as the save mode and touch policy say, and
    /// reports what to do with the cookie. Call it before the response headers are
    /// sent.
    ///
    /// A session found deleted or expired while saving (a concurrent logout) is not an
    /// error here: the outcome removes the cookie. Changes whose write already failed
    /// in [`Session::persist`] were rolled back there and are not written now.
    pub async fn finish(self) -> Result<Outcome> {
        let shared = &self.session.shared;
        let mut st = shared.state.lock().await;
        if st.is_dirty() && !st.write_wanted(&shared.options) && st.is_ready() {
            tracing::debug!("explicit save mode: dropping unsaved session changes");
        }
        let flushed = in_span(&shared.span, st.flush(&*shared.store, &shared.options)).await;
        let flushed = match flushed {
            Err(Error::NotFound) => {
                tracing::info!("session vanished while being saved (deleted or expired)");
                Ok(())
            }
            other => other,
        };
        st.trace
            .finish(&shared.span, st.phase != Phase::Unloaded, flushed.is_err());
        flushed.map(|()| st.outcome())
    }

    /// Ends the request without writing anything more (the response failed), but
    /// reports what already happened: a `delete` or `persist` done during the request
    /// still changes the cookie.
    pub async fn finish_unsaved(self) -> Outcome {
        let shared = &self.session.shared;
        let mut st = shared.state.lock().await;
        st.trace
            .finish(&shared.span, st.phase != Phase::Unloaded, false);
        st.outcome()
    }
}

impl Deref for SessionDriver {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}
