//! One session's own expiry, chosen by the app (remember-me) and stored with the record.

use std::time::Duration;

use crate::{Expiry, Result};

/// Whether the session cookie outlives the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieLifetime {
    /// No `Max-Age` and no `Expires`: the browser drops the cookie when it closes
    /// (Django's `SESSION_EXPIRE_AT_BROWSER_CLOSE`, tower-sessions' `OnSessionEnd`). The
    /// server still ends the session at its deadline.
    BrowserSession,
    /// `Max-Age` set to the time left before the session's deadline, refreshed whenever
    /// the session is written or touched.
    Persistent,
}

/// How one session expires, overriding the layer's default for that session only:
/// its idle timeout and absolute lifetime, and whether its cookie persists.
///
/// Set with [`Session::set_expiry`](crate::Session::set_expiry); it is stored with the
/// record (so it holds on every later request, on every backend) and survives
/// [`cycle_id`](crate::Session::cycle_id). Remember-me is one call at login:
///
/// ```
/// # use std::sync::Arc;
/// # use std::time::Duration;
/// # use session_core::{CookieLifetime, MemoryStore, SessionDriver, SessionExpiry, SessionOptions};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
/// # let session = driver.session();
/// session.insert("user", "ada").await?;
/// session.set_expiry(SessionExpiry::remember_for(Duration::from_secs(30 * 24 * 3600))?).await;
/// let outcome = driver.finish().await?;
/// assert_eq!(outcome.lifetime, Some(CookieLifetime::Persistent)); // a 30-day Max-Age
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionExpiry {
    expiry: Expiry,
    cookie: CookieLifetime,
}

impl SessionExpiry {
    /// `expiry` on the server, and a cookie the browser drops when it closes.
    pub fn browser_session(expiry: Expiry) -> Self {
        SessionExpiry {
            expiry,
            cookie: CookieLifetime::BrowserSession,
        }
    }

    /// `expiry` on the server, and a cookie whose `Max-Age` follows the deadline.
    pub fn persistent(expiry: Expiry) -> Self {
        SessionExpiry {
            expiry,
            cookie: CookieLifetime::Persistent,
        }
    }

    /// "Remember me": a persistent cookie and an idle timeout of `idle`, with no
    /// absolute lifetime, so a session used at least once per `idle` stays logged in.
    /// The touch policy keeps extending it (a throttle longer than half of `idle` is
    /// shortened for this session). `Err(Config)` for a zero duration.
    pub fn remember_for(idle: Duration) -> Result<Self> {
        Ok(Self::persistent(Expiry::idle(idle)?))
    }

    /// The idle timeout and absolute lifetime.
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// Whether the cookie persists.
    pub fn cookie(&self) -> CookieLifetime {
        self.cookie
    }

    /// The same expiry with another cookie lifetime.
    pub fn with_cookie(mut self, cookie: CookieLifetime) -> Self {
        self.cookie = cookie;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remember_for_is_persistent_and_idle_only() {
        let day = Duration::from_secs(86_400);
        let e = SessionExpiry::remember_for(day * 30).unwrap();
        assert_eq!(e.cookie(), CookieLifetime::Persistent);
        assert_eq!(e.expiry().idle_timeout(), Some(day * 30));
        assert_eq!(e.expiry().absolute_lifetime(), None);
        assert!(SessionExpiry::remember_for(Duration::ZERO).is_err());
        let closing = e.with_cookie(CookieLifetime::BrowserSession);
        assert_eq!(closing, SessionExpiry::browser_session(e.expiry()));
    }
}
