//! Per-session expiry on the handle: remember-me and its read-back.

use std::time::Duration;

use super::state::Phase;
use super::Session;
use crate::{Result, SessionExpiry};

impl Session {
    /// Gives this session its own expiry (`Some`), or puts it back on the layer's
    /// (`None`): its idle timeout, absolute lifetime and whether its cookie persists.
    /// Stored with the record when the session is next written, so it holds on every
    /// later request and survives [`cycle_id`](Self::cycle_id); the cookie's `Max-Age`
    /// follows it. [`invalidate`](Self::invalidate) and [`delete`](Self::delete) drop it
    /// with the rest of the session.
    ///
    /// No I/O and nothing to fail: the choice is applied when the request ends (or at
    /// [`persist`](Self::persist)). Setting the expiry the session already has writes
    /// nothing. In [`SaveMode::Explicit`](crate::SaveMode::Explicit) it is written with
    /// the next save, like any change.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # use session_core::{CookieLifetime, Expiry, MemoryStore, SessionDriver, SessionExpiry, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// session.insert("user", "ada").await?;
    /// let remember = SessionExpiry::remember_for(Duration::from_secs(30 * 86_400))?;
    /// session.set_expiry(remember).await;
    /// assert_eq!(session.expiry().await?, Some(remember));
    /// assert_eq!(session.expiry_age().await?, Duration::from_secs(30 * 86_400));
    ///
    /// // A shared computer: a cookie that goes when the browser closes, 15 idle minutes.
    /// let short = SessionExpiry::browser_session(Expiry::idle(Duration::from_secs(900))?);
    /// session.set_expiry(short).await;
    /// session.set_expiry(None).await; // back to the layer's expiry
    /// assert_eq!(session.expiry().await?, None);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_expiry(&self, expiry: impl Into<Option<SessionExpiry>>) {
        let expiry = expiry.into();
        let mut st = self.shared.state.lock().await;
        if st.phase == Phase::Deleted {
            // Deleted in this request: nothing more is written, so nothing is pending.
            return;
        }
        if st.is_ready() && st.base.as_ref().and_then(|b| b.expiry) == expiry {
            // Back to what is stored: no change left to write.
            st.expiry_change = None;
        } else {
            st.expiry_change = Some(expiry);
        }
    }

    /// This session's own expiry, if it has one (`None`: the layer's applies): the one
    /// set in this request, else the stored one.
    pub async fn expiry(&self) -> Result<Option<SessionExpiry>> {
        Ok(self.loaded().await?.own_expiry())
    }

    /// How long from now until the session would end if it were written now (with
    /// its own expiry, or the layer's): what a cookie's `Max-Age` would say.
    pub async fn expiry_age(&self) -> Result<Duration> {
        let st = self.loaded().await?;
        let options = &self.shared.options;
        let now = options.clock.now();
        let created = st.base.as_ref().map_or(now, |b| b.created_at);
        Ok(st.expiry(options).deadline(created, now).since(now))
    }
}
