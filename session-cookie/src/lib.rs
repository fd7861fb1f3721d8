//! [`CookieStore`]: the whole session sealed in the cookie, with authenticated
//! encryption, key rotation and honest size limits. Beaker's cookie backend without the
//! pickle.
//!
//! # ⚠ A cookie session cannot be revoked before it expires
//!
//! Nothing is kept on the server. Logging out expires the cookie in the browser that
//! logs out, but any copy of the value taken before (a stolen cookie, a replayed
//! request) **keeps opening until the deadline sealed inside it**. `delete` answers
//! [`Error::Unsupported`](session_core::Error::Unsupported) and the store declares no
//! server-side revoke. So:
//!
//! - give cookie sessions a **short absolute lifetime** (hours, not weeks:
//!   [`Expiry::new`](session_core::Expiry::new) with an absolute limit), together with an
//!   idle timeout;
//! - use a server-side store (files, SQL, Redis, memcached) wherever a logout, a
//!   password change or an admin action must end a session everywhere at once;
//! - rotating every secret (dropping the old ones) is the only way to end all cookie
//!   sessions early, and it ends them all.
//!
//! For the same reason there is **no index of sessions by user**
//! ([`Capabilities::user_index`](session_core::Capabilities::user_index) is false;
//! `sessions_of`, `revoke_user` and `revoke_session` answer `Unsupported`): the server
//! never sees a session it did not just receive, so it can neither list a user's devices
//! nor end one. A binding made with
//! [`Session::bind_user`](session_core::Session::bind_user) is sealed in the cookie
//! like the data, so [`Session::verify_user`](session_core::Session::verify_user) works:
//! keep a per-user auth hash the app changes (at a password change or a "log out
//! everywhere") and every cookie bound under the old hash is refused on its next request.
//!
//! # Use
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use session_core::{CookieChange, Expiry, SessionDriver, SessionOptions};
//! use session_cookie::CookieStore;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // In production: 32+ random bytes from the environment or a secret manager.
//! let secret = session_cookie::generate_secret();
//! let store = Arc::new(CookieStore::builder().secret(secret).cookie_name("sid").build()?);
//! let options = Arc::new(SessionOptions::default().with_expiry(Expiry::new(
//!     Some(Duration::from_secs(30 * 60)), // idle
//!     Some(Duration::from_secs(8 * 3600)), // absolute: short, see above
//! )?));
//!
//! let session = SessionDriver::new(store.clone(), options.clone(), None);
//! session.insert("user", "ada").await?;
//! let CookieChange::Set(cookie) = session.finish().await?.cookie else { unreachable!() };
//! assert!(cookie.len() <= store.max_value_len());
//!
//! let session = SessionDriver::new(store, options, Some(cookie));
//! assert_eq!(session.get::<String>("user").await?.as_deref(), Some("ada"));
//! # Ok::<(), session_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # The sealed value
//!
//! The plaintext is the 32-byte session id followed by the record's
//! [`Codec`](session_core::Codec) envelope (format byte and MessagePack: version,
//! timestamps including the deadline, data), DEFLATE-compressed when that pays. It is
//! sealed with XChaCha20-Poly1305 under a key that HKDF-SHA256 derives from the current
//! secret, with a fresh random 192-bit nonce each time:
//!
//! ```text
//! offset  bytes  field
//! 0       1      envelope version 0x01
//! 1       4      key id: HKDF output naming the secret (not the key)
//! 5       1      flags: bit 0 = compressed; other bits must be zero
//! 6       24     nonce
//! 30      n      ciphertext of id ‖ body
//! 30+n    16     Poly1305 tag
//! ```
//!
//! The associated data is a fixed domain string, the 6 header bytes and the cookie
//! name, so no header byte can be altered and a value issued under one cookie name does
//! not open under another. The whole is unpadded URL-safe base64. The id is inside the
//! ciphertext: a cookie shows no id.
//!
//! [`CookieStore::open`] rejects, in order and without panicking: values over 4096
//! characters, anything that is not canonical unpadded URL-safe base64, an unknown
//! version, flag or key id, a failed tag, and an expired deadline (against the store's
//! [`Clock`](session_core::Clock)). All of those are `Ok(None)` from `load`. Only a
//! value that authenticates and then does not decode (written by another version with
//! the same secret, or a bug) is [`Error::Corrupt`](session_core::Error::Corrupt); a
//! client cannot produce one without the secret.
//!
//! # Size
//!
//! A browser keeps at most 4096 bytes per cookie, name and attributes included (RFC
//! 6265 §6.1), and may silently drop a larger one. The store therefore refuses an
//! oversized record with [`Error::TooLarge`](session_core::Error::TooLarge) *before*
//! anything is produced, so the handler's error surfaces instead of a lost session:
//!
//! ```text
//! V = 4096 − attribute budget − len(cookie name) − 1      longest value, characters
//! B = ⌊3V / 4⌋                                            sealed bytes that fit in V
//! L = B − 46 − 32                                          envelope, session id
//! ```
//!
//! With the defaults (name `session`, a 256-byte attribute budget) `V` = 3832 and
//! `L` = 2796. `L` is declared as
//! [`Capabilities::max_record_size`](session_core::Capabilities::max_record_size): every
//! record whose encoded envelope is at most `L` bytes fits, compressible or not. A
//! record body over `L` is compressed (by default only such a body; see
//! [`CookieStoreBuilder::compression_threshold`]), so repetitive records well over `L`
//! fit too; `TooLarge { limit: L, size }` reports the body size after compression. Bodies over
//! [`MAX_INFLATED_LEN`] are refused outright, so nothing is sealed that would not open.
//! One session is never split over several cookies.
//!
//! # Compression and length
//!
//! Compressing before encrypting makes the cookie's length depend on how repetitive
//! its contents are. If an attacker can put chosen text into a victim's session (a
//! search term, a form draft) next to a secret (a CSRF token) and watch the cookie's
//! length, they can guess the secret piece by piece (the CRIME/BREACH family).
//! By default only sessions over the record budget `L` are compressed (smaller ones
//! are sealed as they are); if yours mix attacker-chosen text with secrets and may grow
//! past it, turn compression off with
//! [`CookieStoreBuilder::compression_threshold`]`(None)`.
//!
//! # Key rotation
//!
//! Configure secrets newest first. The first seals; every one opens, found by the key
//! id in the header, without trial decryption. Each secret must be at least
//! [`MIN_SECRET_LEN`] bytes, and shorter ones are a
//! [`Config`](session_core::Error::Config) error.
//!
//! A value opened with a retired key is re-sealed with the current key by the **next
//! `create`, `save` or `touch`** of its record, since every seal uses the current key.
//! The session handle calls `touch` as its [`TouchPolicy`](session_core::TouchPolicy)
//! says: on every request that uses the session with `Always`, at most once per
//! interval with `Throttled`, and only on change with `OnChange`. So:
//!
//! - with `TouchPolicy::Always`, the response to the first request that uses the
//!   session carries it re-sealed;
//! - otherwise it is re-sealed on its next write or due touch, and until then
//!   [`CookieStore::needs_reseal`] (or [`Opened::needs_reseal`]) tells;
//! - in every case a value sealed with a retired key stops opening at the deadline
//!   sealed inside it. **A retired secret can be removed once the longest session
//!   lifetime (the absolute lifetime, or the idle timeout if there is none) has passed
//!   since the rotation**: no live cookie depends on it any more.
//!
//! With several servers, roll a new secret out in two steps: first add it *last*
//! everywhere (it opens but does not seal yet), then move it to the front. Otherwise a
//! server that has not yet learnt it answers a cookie sealed with it as "no session".
//!
//! # Capabilities
//!
//! No server-side revoke, no enumeration (`count` and `delete_expired` answer
//! `Unsupported`), no compare-and-set (the last response's cookie wins; concurrent
//! requests that change different keys do not merge), expiry embedded in the value and
//! checked on every load, `max_record_size` as above. `touch` seals the record it is
//! given, data included: there is no stored copy whose data it could keep instead.
//! `save` and `touch` of a record whose deadline has already passed answer
//! [`Error::NotFound`](session_core::Error::NotFound) rather than seal it again.

mod compress;
mod keys;
mod options;
mod seal;
mod size;
mod store;

pub use compress::{DEFAULT_COMPRESSION_THRESHOLD, MAX_INFLATED_LEN};
pub use keys::{generate_secret, KeyId, KEY_ID_LEN, MIN_SECRET_LEN};
pub use options::{CookieOptions, COOKIE_SECRET_ENV};
pub use size::{BROWSER_COOKIE_LIMIT, DEFAULT_ATTRIBUTE_BUDGET, MIN_RECORD_BUDGET};
pub use store::{CookieStore, CookieStoreBuilder, Opened, DEFAULT_COOKIE_NAME};

/// Compiles and runs the README's example as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
