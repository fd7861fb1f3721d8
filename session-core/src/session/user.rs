//! Sessions by user on the handle (contract rule 12): bind at login, check the auth
//! hash, list the user's devices, log out one or all of them.

use super::state::Phase;
use super::Session;
use crate::observe::in_span;
use crate::{Result, ScanCursor, StorageKey, UserBinding, UserSessionsPage};

impl Session {
    /// Binds this session to a user: call it at login, next to
    /// [`cycle_id`](Self::cycle_id). Stored with the record when the session is next
    /// written; stores with [`Capabilities::user_index`](crate::Capabilities::user_index)
    /// then list it among the user's sessions. Binding again replaces the binding (a
    /// session belongs to at most one user); it survives `cycle_id`, and
    /// [`delete`](Self::delete) and [`invalidate`](Self::invalidate) drop it.
    ///
    /// No I/O and nothing to fail, like [`set_expiry`](Self::set_expiry).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions, UserBinding};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// // At login, after checking the password:
    /// session.bind_user(UserBinding::new("42")?.with_auth_hash("hmac-of-password-hash")?).await;
    /// session.cycle_id().await;
    /// assert_eq!(session.user().await?.map(|u| u.user_id().to_owned()), Some("42".into()));
    ///
    /// // On a later request, with the user's current hash:
    /// assert!(session.verify_user("hmac-of-password-hash").await?);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn bind_user(&self, user: UserBinding) {
        self.change_user(Some(user)).await;
    }

    /// Unbinds the session from its user (it stays, with its data). Written with the
    /// next write, like [`bind_user`](Self::bind_user).
    pub async fn unbind_user(&self) {
        self.change_user(None).await;
    }

    async fn change_user(&self, user: Option<UserBinding>) {
        let mut st = self.shared.state.lock().await;
        if st.phase == Phase::Deleted {
            return;
        }
        let stored = st.base.as_ref().and_then(|b| b.user.as_ref());
        if st.is_ready() && stored == user.as_ref() {
            st.user_change = None;
        } else {
            st.user_change = Some(user);
        }
    }

    /// The user this session is bound to: the binding made in this request, else the
    /// stored one.
    pub async fn user(&self) -> Result<Option<UserBinding>> {
        Ok(self.loaded().await?.own_user().cloned())
    }

    /// Checks the session's user against the app's current auth hash for that user
    /// (Django's `get_session_auth_hash`), and ends the session if it does not match.
    ///
    /// Returns `true` when the session is bound and its stored auth hash equals
    /// `current` (compared in constant time). A bound session whose hash differs, or
    /// that stored none, was logged in under credentials that have changed since (a
    /// password change, "log out everywhere"): it is removed from the store and the
    /// request continues with a fresh, empty session, as after
    /// [`invalidate`](Self::invalidate); the answer is `false`. An unbound session
    /// answers `false` and is left alone.
    ///
    /// Call it early in each request of a logged-in user. It closes every race a store
    /// walk leaves open: a session bound while [`revoke_user`](crate::SessionStore::revoke_user)
    /// ran, or one a Redis Cluster index lost, fails this check once the app's hash has
    /// changed.
    pub async fn verify_user(&self, current: &str) -> Result<bool> {
        let mut st = self.loaded().await?;
        match st.own_user() {
            None => Ok(false),
            Some(user) if user.auth_hash_matches(current) => Ok(true),
            Some(_) => {
                self.remove_stored(&mut st).await?;
                st.phase = Phase::Ready;
                Ok(false)
            }
        }
    }

    /// The key the store keeps this session under (what listings show), `None` until
    /// the session is first written. Compare it with
    /// [`UserSession::key`](crate::UserSession::key) to mark the current device.
    pub async fn storage_key(&self) -> Result<Option<StorageKey>> {
        Ok(self.id().await?.map(|id| id.storage_key()))
    }

    /// One page of the live sessions of this session's user ("your devices"), as
    /// [`SessionStore::sessions_of`](crate::SessionStore::sessions_of) lists them; an
    /// empty page when the session is bound to nobody. Stores without
    /// [`Capabilities::user_index`](crate::Capabilities::user_index) answer
    /// [`Unsupported`](crate::Error::Unsupported).
    pub async fn user_sessions(
        &self,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let Some(user) = self.user().await?.map(|u| u.user_key()) else {
            return Ok(UserSessionsPage::default());
        };
        let listing = self.shared.store.sessions_of(&user, cursor, limit);
        in_span(&self.shared.span, listing).await
    }

    /// Ends every other session of this session's user ("log out my other devices")
    /// and keeps this one; returns how many went (0 when bound to nobody).
    pub async fn revoke_other_sessions(&self) -> Result<u64> {
        let st = self.loaded().await?;
        let Some(user) = st.own_user().map(UserBinding::user_key) else {
            return Ok(0);
        };
        let current = st.base.as_ref().map(|b| b.id.storage_key());
        let revoke = self.shared.store.revoke_user(&user, current.as_ref());
        in_span(&self.shared.span, revoke).await
    }

    /// Ends every session of this session's user, this one included ("log out
    /// everywhere"): the others are gone on their next request, and this request goes
    /// on with a fresh, empty session, as after [`invalidate`](Self::invalidate).
    /// Returns how many went, this one included (0 when bound to nobody).
    ///
    /// Pair it with a new auth hash for the user (see [`verify_user`](Self::verify_user))
    /// to also end a session that logs in while the revocation runs.
    pub async fn revoke_all_sessions(&self) -> Result<u64> {
        let mut st = self.loaded().await?;
        let Some(user) = st.own_user().map(UserBinding::user_key) else {
            return Ok(0);
        };
        let current = st.base.as_ref().map(|b| b.id.storage_key());
        let revoke = self.shared.store.revoke_user(&user, current.as_ref());
        let others = in_span(&self.shared.span, revoke).await?;
        self.remove_stored(&mut st).await?;
        st.phase = Phase::Ready;
        Ok(others + u64::from(current.is_some()))
    }

    /// Ends one session of this session's user, by the key a listing showed; only if
    /// it belongs to the user (a key from another user's listing ends nothing). Ending
    /// the current session this way is [`delete`](Self::delete). Returns whether a
    /// session went.
    pub async fn revoke_session(&self, key: &StorageKey) -> Result<bool> {
        let mut st = self.loaded().await?;
        let Some(user) = st.own_user().map(UserBinding::user_key) else {
            return Ok(false);
        };
        if st.base.as_ref().is_some_and(|b| b.id.storage_key() == *key) {
            self.remove_stored(&mut st).await?;
            st.phase = Phase::Deleted;
            return Ok(true);
        }
        let revoke = self.shared.store.revoke_session(&user, key);
        in_span(&self.shared.span, revoke).await
    }
}
