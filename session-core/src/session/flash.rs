//! Flash messages: notes for the user that live in the session until a later request
//! shows them (Rails' `flash`, Django's `messages`, axum-messages).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{value_error, Session};
use crate::Result;

/// The session key flash messages are stored under. Reserved: it appears among the
/// session's keys like any other, and a value of another shape there is an
/// [`Error::Value`](crate::Error::Value) from [`Session::take_flashes`].
pub const FLASH_KEY: &str = "_flash";

/// How important a flash message is: Django's message levels, which also name the
/// usual CSS classes (`Level::as_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Development detail.
    Debug,
    /// Informational.
    Info,
    /// An action succeeded.
    Success,
    /// Not a failure, but worth attention.
    Warning,
    /// An action failed.
    Error,
}

impl Level {
    /// The level's name in lower case (`"info"`), as stored and as a CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One flash message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Flash {
    /// How important it is.
    pub level: Level,
    /// What to show.
    pub text: String,
}

impl Flash {
    /// A message at `level`.
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Flash {
            level,
            text: text.into(),
        }
    }
}

impl Session {
    /// Keeps a message for the next request that calls [`take_flashes`](Self::take_flashes)
    /// (typically the page a redirect leads to). Stored in the session under
    /// [`FLASH_KEY`], so it survives the redirect on any backend; messages flashed by
    /// concurrent requests are all kept.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{CookieChange, Level, MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let options = Arc::new(SessionOptions::default());
    /// // POST /login ... then a redirect:
    /// let driver = SessionDriver::new(store.clone(), options.clone(), None);
    /// driver.session().flash(Level::Success, "Welcome back, Ada").await?;
    /// let CookieChange::Set(cookie) = driver.finish().await?.cookie else { panic!() };
    ///
    /// // GET / shows it once:
    /// let driver = SessionDriver::new(store.clone(), options.clone(), Some(cookie.clone()));
    /// let shown = driver.session().take_flashes().await?;
    /// assert_eq!(shown[0].text, "Welcome back, Ada");
    /// driver.finish().await?;
    ///
    /// // ... and never again.
    /// let driver = SessionDriver::new(store, options, Some(cookie));
    /// assert!(driver.session().take_flashes().await?.is_empty());
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn flash(&self, level: Level, text: impl Into<String>) -> Result<()> {
        let message = Flash::new(level, text);
        // An update, not an insert: on a conflict it re-runs on the other request's
        // list, so both requests' messages survive.
        self.update(FLASH_KEY, move |list: Option<Vec<Flash>>| {
            let mut list = list.unwrap_or_default();
            list.push(message.clone());
            list
        })
        .await
        .map(drop)
    }

    /// A message for this request only (Rails' `flash.now`): returned by
    /// [`take_flashes`](Self::take_flashes) later in the same request, never stored. For a
    /// page rendered directly, without a redirect.
    pub async fn flash_now(&self, level: Level, text: impl Into<String>) {
        let mut st = self.shared.state.lock().await;
        st.flash_now.push(Flash::new(level, text));
    }

    /// The messages flashed for this request: the stored ones (from earlier requests,
    /// oldest first), then this request's [`flash_now`](Self::flash_now) ones. The
    /// stored ones are removed from the session, so each is shown once. When there is
    /// nothing to take, nothing is written.
    ///
    /// A value of another shape under [`FLASH_KEY`] is
    /// [`Error::Value`](crate::Error::Value) and stays where it is.
    pub async fn take_flashes(&self) -> Result<Vec<Flash>> {
        let mut st = self.loaded().await?;
        let mut taken = match st.data.get(FLASH_KEY) {
            Some(stored) => {
                Vec::<Flash>::deserialize(stored).map_err(|e| value_error(FLASH_KEY, e))?
            }
            None => Vec::new(),
        };
        st.remove_key(FLASH_KEY);
        taken.append(&mut st.flash_now);
        Ok(taken)
    }
}
