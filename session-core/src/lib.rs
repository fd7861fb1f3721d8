//! The core of the session workspace: the [`SessionStore`] contract every backend
//! implements, the request-local [`Session`] handle the HTTP layer hands to handlers,
//! and [`MemoryStore`] for development and tests.
//!
//! ```
//! use std::sync::Arc;
//! use session_core::{CookieChange, MemoryStore, SessionDriver, SessionOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = Arc::new(MemoryStore::new());
//! let options = Arc::new(SessionOptions::default());
//!
//! // First request: no cookie. The adapter keeps the driver; the handler gets the
//! // session and puts something in it.
//! let driver = SessionDriver::new(store.clone(), options.clone(), None);
//! let session = driver.session();
//! session.insert("user", "ada").await?;
//! let CookieChange::Set(cookie) = driver.finish().await?.cookie else { panic!() };
//!
//! // Next request: the cookie brings the session back.
//! let session = SessionDriver::new(store, options, Some(cookie)).session();
//! assert_eq!(session.get::<String>("user").await?.as_deref(), Some("ada"));
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```

mod backend_error;
mod codec;
mod error;
mod id;
mod memory;
pub mod observe;
mod options;
pub mod params;
mod record;
mod scan;
mod session;
mod session_expiry;
mod settings;
mod store;
mod time;
mod user;

pub use backend_error::{with_timeout, BackendError, BackendErrorKind, Operation};
pub use codec::{
    Codec, DEFAULT_MAX_RECORD_SIZE, FORMAT_JSON_V1, FORMAT_JSON_V2, FORMAT_JSON_V3,
    FORMAT_MSGPACK_V1, FORMAT_MSGPACK_V2, FORMAT_MSGPACK_V3, MAX_DEPTH,
};
pub use error::{BoxError, Error, Result};
pub use id::{InvalidId, SessionId, StorageKey, ID_BYTES, ID_TEXT_LEN};
pub use memory::MemoryStore;
pub use options::{Expiry, SaveMode, SessionOptions, TouchPolicy};
pub use params::{redact_url, Params};
pub use record::{Data, Record};
pub use scan::{DeleteIf, ScanCursor, ScanEntry, ScanPage};
pub use session::{CookieChange, Flash, Level, Outcome, Session, SessionDriver, FLASH_KEY};
pub use session_expiry::{CookieLifetime, SessionExpiry};
pub use settings::StoreSettings;
pub use store::{Capabilities, SessionStore};
pub use time::{Clock, ManualClock, Timestamp};
pub use user::{
    UserBinding, UserKey, UserSession, UserSessionsPage, MAX_USER_FIELD_LEN, MAX_USER_ID_LEN,
};

/// Re-exported so stores and apps name the same value type.
pub use serde_json::Value;

/// Keeps the README's example compiling and passing.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
