//! Django's `SessionTestsMixin`, translated: each case names the Django test it comes
//! from; where our semantics differ on purpose, the case asserts ours and its comment
//! says why.
//!
//! Django runs the mixin on one session object against each backend; here each case
//! runs requests through a [`SessionDriver`] over the store under test, so what Django
//! checks on the object is also checked after a round trip through the backend (the
//! next request's view). The vocabulary maps as follows:
//!
//! | Django | here |
//! |---|---|
//! | `session.accessed` | [`Session::is_loaded`](session_core::Session::is_loaded) |
//! | `session.modified` | [`Session::is_modified`](session_core::Session::is_modified) |
//! | `session.save()` | `persist()` (now) or `save()` (at the end of the request) |
//! | `session.exists(key)` | the store's `load` of the cookie answers `Some` |
//! | `pop(key)`, `pop(key, default)` | `remove::<T>(key)`, `.unwrap_or(default)` |
//! | `setdefault`, `update`, `in`, `values`, `keys`, `items` | `get_or_insert_with`, `extend`, `contains_key`, `values`, `keys`, `entries` |
//! | `flush()` / `cycle_key()` | `invalidate()` / `cycle_id()` |
//! | `set_expiry(n)`, `set_expiry(timedelta)` | `set_expiry(SessionExpiry::persistent(Expiry::idle(n)))` |
//! | `set_expiry(0)` | `set_expiry(SessionExpiry::browser_session(layer's expiry))` |
//! | `set_expiry(None)` | `set_expiry(None)` |
//! | `get_expiry_age()` / `get_expiry_date()` | `expiry_age()` / `Outcome::expires_at`, `expires_at()` |
//! | `get_expire_at_browser_close()` | `expiry()`'s cookie lifetime, `Outcome::lifetime` (`None`: the adapter's default) |
//! | `UpdateError` on a save after a concurrent logout | `Err(NotFound)` from `persist` |
//!
//! The layer's expiry is Django's default `SESSION_COOKIE_AGE` (two weeks, counted
//! from the last write), and sessions are touched only when they change, so every
//! write a case counts is one the case asked for.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use session_core::{
    Capabilities, CookieChange, CookieLifetime, Error, Expiry, Outcome, SaveMode, SessionDriver,
    SessionExpiry, SessionOptions, SessionStore, TouchPolicy,
};

use crate::wrappers::{CountingStore, OpCounts};
use crate::{CaseResult, Check, Failure, Fixture, Harness};

/// Django's default `SESSION_COOKIE_AGE`.
const COOKIE_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// The per-session age Django's expiry tests set (`set_expiry(10)`).
const TEN_SECONDS: Duration = Duration::from_secs(10);

/// Requests over the fixture's store with Django's default settings, counting the
/// store operations they cost.
struct Requests {
    c: Check,
    fx: Fixture,
    store: Arc<CountingStore<Arc<dyn SessionStore>>>,
    options: Arc<SessionOptions>,
}

impl Requests {
    /// A fresh fixture, saving at the end of every request that changed something.
    async fn start(c: Check, h: &Harness) -> Result<Self, Failure> {
        Self::start_with_mode(c, h, SaveMode::Auto).await
    }

    async fn start_with_mode(c: Check, h: &Harness, mode: SaveMode) -> Result<Self, Failure> {
        let fx = h.fixture().await;
        let store = Arc::new(CountingStore::new(fx.store().clone()));
        let options = SessionOptions::default()
            .with_expiry(layer_expiry(c)?)
            .with_touch(TouchPolicy::OnChange)
            .with_save_mode(mode)
            .with_clock(h.clock().clone());
        Ok(Requests {
            c,
            fx,
            store,
            options: Arc::new(options),
        })
    }

    /// A request that sent `cookie` (or none).
    fn request(&self, cookie: Option<&str>) -> SessionDriver {
        SessionDriver::new(
            self.store.clone(),
            self.options.clone(),
            cookie.map(str::to_owned),
        )
    }

    /// The store operations so far.
    fn counts(&self) -> OpCounts {
        self.store.counts()
    }

    /// Ends a request that only read: the session was accessed, is not modified, and
    /// ending the request writes nothing.
    async fn finish_read_only(&self, s: SessionDriver) -> CaseResult {
        let c = self.c;
        c.eq("accessed", true, s.is_loaded().await)?;
        c.eq("not modified", false, s.is_modified().await)?;
        let before = self.counts().writes();
        c.ok("finish", s.finish().await)?;
        c.eq("nothing written", before, self.counts().writes())
    }

    /// Ends a request whose session is gone (deleted, expired, or never there): the
    /// cookie is expired.
    async fn finish_removed(&self, s: SessionDriver) -> CaseResult {
        let out = self.c.ok("finish", s.finish().await)?;
        self.c
            .eq("cookie expired", CookieChange::Remove, out.cookie)
    }

    /// What the store can do.
    fn caps(&self) -> Capabilities {
        self.fx.caps()
    }

    /// Nothing is stored under `cookie`, and (where the store can count) nothing at all.
    async fn holds_nothing(&self, cookie: &str) -> CaseResult {
        self.c.eq(
            "the cookie names nothing",
            false,
            self.exists(cookie).await?,
        )?;
        if self.caps().enumerate {
            let count = self.c.ok("count", self.fx.store().count().await)?;
            self.c.eq("no record", 0, count)?;
        }
        Ok(())
    }

    /// One request that stores `pairs` in a new session; its cookie.
    async fn stored<V: Serialize>(&self, pairs: &[(&str, V)]) -> Result<String, Failure> {
        let s = self.request(None);
        let pairs = pairs.iter().map(|(k, v)| (*k, v));
        self.c
            .ok("store the first request's keys", s.extend(pairs).await)?;
        let out = self.c.ok("finish the first request", s.finish().await)?;
        set_cookie(self.c, "the first request sets a cookie", out)
    }

    /// Ends a request that sent `cookie`: the cookie the client holds afterwards.
    async fn end(&self, s: SessionDriver, cookie: &str) -> Result<String, Failure> {
        match self.c.ok("finish", s.finish().await)?.cookie {
            CookieChange::Set(v) => Ok(v),
            CookieChange::Unchanged => Ok(cookie.to_owned()),
            CookieChange::Remove => Err(self.c.fail(
                "finish a request on a live session",
                "the cookie kept or set",
                "Remove",
            )),
        }
    }

    /// Django's `exists(session_key)`: the store opens the cookie to a live record.
    async fn exists(&self, cookie: &str) -> Result<bool, Failure> {
        let loaded = self.c.ok("load", self.store.load(cookie).await)?;
        Ok(loaded.is_some_and(|r| !r.is_expired(self.options.clock.now())))
    }

    /// The data a later request sees under `cookie`.
    async fn entries(&self, cookie: &str) -> Result<Vec<(String, Value)>, Failure> {
        let s = self.request(Some(cookie));
        let entries = self.c.ok("entries of a later request", s.entries().await)?;
        self.c.ok("finish the later request", s.finish().await)?;
        Ok(entries)
    }
}

fn layer_expiry(c: Check) -> Result<Expiry, Failure> {
    c.ok("the layer's expiry", Expiry::idle(COOKIE_AGE))
}

fn ten_seconds(c: Check) -> Result<SessionExpiry, Failure> {
    Ok(SessionExpiry::persistent(c.ok(
        "a ten-second idle expiry",
        Expiry::idle(TEN_SECONDS),
    )?))
}

fn set_cookie(c: Check, step: &str, out: Outcome) -> Result<String, Failure> {
    match out.cookie {
        CookieChange::Set(v) => Ok(v),
        other => Err(c.fail(step, "Set(..)", format!("{other:?}"))),
    }
}

fn pairs(list: &[(&str, Value)]) -> Vec<(String, Value)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// `test_new_session`: a session nobody has used is neither accessed nor modified, and
/// ending its request costs no store operation, with or without a cookie.
pub async fn django_new_session(h: &Harness) -> CaseResult {
    let c = Check::new("django_new_session");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let before = r.counts();
    for incoming in [None, Some(cookie.as_str())] {
        let s = r.request(incoming);
        c.eq("not accessed", false, s.is_loaded().await)?;
        c.eq("not modified", false, s.is_modified().await)?;
        let out = c.ok("finish", s.finish().await)?;
        c.eq("cookie left alone", CookieChange::Unchanged, out.cookie)?;
    }
    c.eq("no store operation", before, r.counts())
}

/// `test_get_empty`: a missing key reads as nothing, on a new session and on a stored
/// one, and reading it changes nothing.
pub async fn django_get_empty(h: &Harness) -> CaseResult {
    let c = Check::new("django_get_empty");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    for incoming in [None, Some(cookie.as_str())] {
        let s = r.request(incoming);
        c.eq("get cat", None, c.ok("get", s.get::<String>("cat").await)?)?;
        c.eq(
            "get cat with a default",
            "none".to_owned(),
            c.ok("get_or", s.get_or("cat", "none".to_owned()).await)?,
        )?;
        r.finish_read_only(s).await?;
    }
    Ok(())
}

/// `test_store`: storing a key modifies the session, and `pop` (our `remove`) gives it
/// back. Run over a stored session, whose next request sees neither.
pub async fn django_store(h: &Harness) -> CaseResult {
    let c = Check::new("django_store");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let s = r.request(Some(&cookie));
    c.ok("insert cat", s.insert("cat", "dog").await)?;
    c.eq("modified", true, s.is_modified().await)?;
    c.eq(
        "pop cat",
        Some("dog".to_owned()),
        c.ok("remove", s.remove::<String>("cat").await)?,
    )?;
    let cookie = r.end(s, &cookie).await?;
    c.eq(
        "the next request sees the session as it was",
        pairs(&[("user", json!("ada"))]),
        r.entries(&cookie).await?,
    )
}

/// `test_pop`: popping a stored key accesses and modifies the session and the key is
/// gone, here and (once written) in the next request.
pub async fn django_pop(h: &Harness) -> CaseResult {
    let c = Check::new("django_pop");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("some key", "exists")]).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "pop",
        Some("exists".to_owned()),
        c.ok("remove", s.remove::<String>("some key").await)?,
    )?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.eq("modified", true, s.is_modified().await)?;
    c.eq(
        "gone",
        None,
        c.ok("get", s.get::<String>("some key").await)?,
    )?;
    let cookie = r.end(s, &cookie).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "gone in the next request",
        None,
        c.ok("get", s.get::<String>("some key").await)?,
    )
}

/// `test_pop_default` and `test_pop_default_named_argument` (Rust has no named
/// arguments: both are `remove(..).unwrap_or(default)`): popping a missing key gives
/// the default, accesses the session, modifies nothing and writes nothing.
pub async fn django_pop_default(h: &Harness) -> CaseResult {
    let c = Check::new("django_pop_default");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    for incoming in [None, Some(cookie.as_str())] {
        let s = r.request(incoming);
        let popped = c.ok("remove", s.remove::<String>("some key").await)?;
        c.eq(
            "the default",
            "does not exist",
            popped.as_deref().unwrap_or("does not exist"),
        )?;
        r.finish_read_only(s).await?;
    }
    Ok(())
}

/// `test_pop_no_default_keyerror_raised`, adapted: Django raises `KeyError` for a
/// missing key without a default; ours answers `Ok(None)`, since a missing key is the
/// normal case, not an error. What is an error here is a value that does not convert
/// to the type asked for: `Err(Value)`, and the value stays.
pub async fn django_pop_no_default(h: &Harness) -> CaseResult {
    let c = Check::new("django_pop_no_default");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("n", "not a number")]).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "pop of a missing key",
        None,
        c.ok("remove", s.remove::<String>("some key").await)?,
    )?;
    c.err(
        "pop as the wrong type",
        s.remove::<u32>("n").await,
        "Value",
        |e| matches!(e, Error::Value { key, .. } if key == "n"),
    )?;
    c.eq(
        "the value stays",
        Some(json!("not a number")),
        c.ok("get_value", s.get_value("n").await)?,
    )?;
    c.eq("not modified", false, s.is_modified().await)?;
    c.ok("finish", s.finish().await).map(drop)
}

/// `test_setdefault`: the first `setdefault` stores its value, the second keeps it;
/// the session is modified, and the next request sees the value.
pub async fn django_setdefault(h: &Harness) -> CaseResult {
    let c = Check::new("django_setdefault");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    let first = s.get_or_insert_with("foo", || "bar".to_owned()).await;
    c.eq(
        "first setdefault",
        "bar".to_owned(),
        c.ok("setdefault", first)?,
    )?;
    let second = s.get_or_insert_with("foo", || "baz".to_owned()).await;
    c.eq(
        "second setdefault",
        "bar".to_owned(),
        c.ok("setdefault", second)?,
    )?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.eq("modified", true, s.is_modified().await)?;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;

    let s = r.request(Some(&cookie));
    let again = s.get_or_insert_with("foo", || "baz".to_owned()).await;
    c.eq(
        "kept in the next request",
        "bar".to_owned(),
        c.ok("setdefault", again)?,
    )?;
    r.finish_read_only(s).await
}

/// `test_update`: `update` (our `extend`) accesses and modifies the session and the
/// value reads back, here and in the next request.
pub async fn django_update(h: &Harness) -> CaseResult {
    let c = Check::new("django_update");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.ok("update", s.extend([("update key", 1)]).await)?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.eq("modified", true, s.is_modified().await)?;
    c.eq(
        "get",
        Some(1),
        c.ok("get", s.get::<u32>("update key").await)?,
    )?;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    c.eq(
        "the next request",
        pairs(&[("update key", json!(1))]),
        r.entries(&cookie).await?,
    )
}

/// `test_has_key`: `in` (our `contains_key`) on a stored key accesses the session,
/// modifies nothing and writes nothing.
pub async fn django_has_key(h: &Harness) -> CaseResult {
    let c = Check::new("django_has_key");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("some key", 1)]).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "contains",
        true,
        c.ok("contains_key", s.contains_key("some key").await)?,
    )?;
    r.finish_read_only(s).await
}

/// Django's `test_keys`, `test_values` and `test_items` on a stored session: the read
/// lists the stored data, accesses the session and modifies nothing.
async fn listing_reads<T: PartialEq + std::fmt::Debug>(
    c: Check,
    h: &Harness,
    expected: T,
    read: impl AsyncFn(&SessionDriver) -> session_core::Result<T>,
) -> CaseResult {
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("x", 1)]).await?;
    let s = r.request(Some(&cookie));
    c.eq("the stored data", expected, c.ok("read", read(&s).await)?)?;
    r.finish_read_only(s).await
}

/// `test_values`: an empty session has no values (and reading them accesses it); a
/// stored one lists its values without being modified.
pub async fn django_values(h: &Harness) -> CaseResult {
    let c = Check::new("django_values");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.eq(
        "no values",
        Vec::<Value>::new(),
        c.ok("values", s.values().await)?,
    )?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.ok("finish", s.finish().await)?;
    listing_reads(c, h, vec![json!(1)], async |s| s.values().await).await
}

/// `test_keys`: a stored session lists its keys without being modified.
pub async fn django_keys(h: &Harness) -> CaseResult {
    let c = Check::new("django_keys");
    listing_reads(c, h, vec!["x".to_owned()], async |s| s.keys().await).await
}

/// `test_items`: a stored session lists its items (our `entries`) without being
/// modified.
pub async fn django_items(h: &Harness) -> CaseResult {
    let c = Check::new("django_items");
    listing_reads(c, h, pairs(&[("x", json!(1))]), async |s| s.entries().await).await
}

/// `test_clear`: clearing a stored session empties it and modifies it; the session
/// itself stays, stored empty, and the next request sees it empty.
pub async fn django_clear(h: &Harness) -> CaseResult {
    let c = Check::new("django_clear");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("x", 1)]).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "items before",
        pairs(&[("x", json!(1))]),
        c.ok("entries", s.entries().await)?,
    )?;
    c.ok("clear", s.clear().await)?;
    c.eq(
        "items after",
        Vec::new(),
        c.ok("entries", s.entries().await)?,
    )?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.eq("modified", true, s.is_modified().await)?;
    let cookie = r.end(s, &cookie).await?;
    c.eq("still a session", true, r.exists(&cookie).await?)?;
    c.eq("stored empty", Vec::new(), r.entries(&cookie).await?)
}

/// `test_save`, adapted: Django's `save()` stores even an empty new session; ours never
/// stores an empty, never-written session (every anonymous hit would otherwise leave a
/// record behind, and Django's own middleware does not save empty sessions either).
/// A session with data that asks to be saved, in `Explicit` mode so that `save()` is
/// what decides, exists afterwards.
pub async fn django_save(h: &Harness) -> CaseResult {
    let c = Check::new("django_save");
    let r = Requests::start_with_mode(c, h, SaveMode::Explicit).await?;
    let s = r.request(None);
    s.save().await;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "an empty new session: no cookie",
        CookieChange::Unchanged,
        out.cookie,
    )?;
    c.eq("and no write", 0, r.counts().writes())?;

    let s = r.request(None);
    c.ok("insert", s.insert("user", "ada").await)?;
    s.save().await;
    let cookie = set_cookie(c, "saved", c.ok("finish", s.finish().await)?)?;
    c.eq("exists", true, r.exists(&cookie).await?)
}

/// `test_delete`: after a saved session is deleted it no longer exists. Where the store
/// cannot revoke (a sealed cookie), the old cookie opens until it expires: documented.
pub async fn django_delete(h: &Harness) -> CaseResult {
    let c = Check::new("django_delete");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let s = r.request(Some(&cookie));
    c.ok("delete", s.delete().await)?;
    r.finish_removed(s).await?;
    c.eq("exists", !r.caps().revoke, r.exists(&cookie).await?)
}

/// `test_flush` (our `invalidate`): the old session no longer exists and the handle has
/// no id until something is written. Django marks the flushed session modified so its
/// middleware deletes the cookie; ours has already deleted the record, has nothing
/// left to write, and says so in the outcome: the cookie is removed.
pub async fn django_flush(h: &Harness) -> CaseResult {
    let c = Check::new("django_flush");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("foo", "bar")]).await?;
    let s = r.request(Some(&cookie));
    let prev = c.ok("id", s.id().await)?;
    c.that("a stored session has an id", prev.is_some(), "Some", prev)?;
    c.ok("flush", s.invalidate().await)?;
    c.eq("no id after a flush", None, c.ok("id", s.id().await)?)?;
    c.eq("accessed", true, s.is_loaded().await)?;
    c.eq("empty", true, c.ok("is_empty", s.is_empty().await)?)?;
    r.finish_removed(s).await?;
    c.eq(
        "old session exists",
        !r.caps().revoke,
        r.exists(&cookie).await?,
    )
}

/// `test_cycle` (our `cycle_id`, written here with `persist` as Django's `cycle_key`
/// writes at once): a new id, the same items, and the old id no longer exists (where
/// the store can revoke). Django keeps a session's own expiry in its data, so it moves
/// with the items; ours is stored beside them and must move too.
pub async fn django_cycle(h: &Harness) -> CaseResult {
    let c = Check::new("django_cycle");
    let r = Requests::start(c, h).await?;
    let at_close = SessionExpiry::browser_session(layer_expiry(c)?);
    let s = r.request(None);
    c.ok("store a and b", s.extend([("a", "c"), ("b", "d")]).await)?;
    s.set_expiry(at_close).await;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    let s = r.request(Some(&cookie));
    let prev_id = c.ok("id", s.id().await)?;
    let prev_data = c.ok("entries", s.entries().await)?;
    s.cycle_id().await;
    c.ok("write the cycle", s.persist().await)?;
    let new_id = c.ok("id", s.id().await)?;
    c.that("a new id", new_id != prev_id, "a different id", new_id)?;
    c.eq(
        "same items",
        prev_data.clone(),
        c.ok("entries", s.entries().await)?,
    )?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "own expiry kept",
        Some(CookieLifetime::BrowserSession),
        out.lifetime,
    )?;
    let new = set_cookie(c, "cycled", out)?;
    c.eq("old id exists", !r.caps().revoke, r.exists(&cookie).await?)?;
    c.eq(
        "same items under the new id",
        prev_data,
        r.entries(&new).await?,
    )?;
    let s = r.request(Some(&new));
    c.eq(
        "own expiry under the new id",
        Some(at_close),
        c.ok("expiry", s.expiry().await)?,
    )
}

/// `test_cycle_with_no_session_cache`: cycling a session this request has not read yet
/// (Django's "no session cache"; ours: not loaded) keeps its items under a new id. The
/// cycle itself reads nothing.
pub async fn django_cycle_with_no_session_cache(h: &Harness) -> CaseResult {
    let c = Check::new("django_cycle_with_no_session_cache");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("a", "c"), ("b", "d")]).await?;
    let prev_data = r.entries(&cookie).await?;
    let s = r.request(Some(&cookie));
    s.cycle_id().await;
    c.eq("cycling reads nothing", false, s.is_loaded().await)?;
    let new = set_cookie(c, "cycled", c.ok("finish", s.finish().await)?)?;
    c.that("a new cookie", new != cookie, "a different cookie", &new)?;
    c.eq("same items", prev_data, r.entries(&new).await?)?;
    c.eq("old id exists", !r.caps().revoke, r.exists(&cookie).await?)
}

/// `test_save_doesnt_clear_data`: the data is still there after a save, whether it is
/// written now (`persist`) or asked for (`save`).
pub async fn django_save_doesnt_clear_data(h: &Harness) -> CaseResult {
    let c = Check::new("django_save_doesnt_clear_data");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.ok("insert", s.insert("a", "b").await)?;
    c.ok("persist", s.persist().await)?;
    c.eq(
        "after persist",
        Some("b".to_owned()),
        c.ok("get", s.get::<String>("a").await)?,
    )?;
    c.ok("insert", s.insert("c", "d").await)?;
    s.save().await;
    c.eq(
        "after save",
        Some("b".to_owned()),
        c.ok("get", s.get::<String>("a").await)?,
    )?;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    c.eq(
        "and in the next request",
        pairs(&[("a", json!("b")), ("c", json!("d"))]),
        r.entries(&cookie).await?,
    )
}

/// A key the client chose is never adopted: the session reads empty and has no id, an
/// empty one writes nothing and expires the cookie, and one with data is stored under
/// a fresh id the store issued, while the client's key still names nothing.
async fn client_key_not_adopted(c: Check, h: &Harness, key: &str) -> CaseResult {
    let r = Requests::start(c, h).await?;
    let s = r.request(Some(key));
    c.eq("get cat", None, c.ok("get", s.get::<String>("cat").await)?)?;
    c.eq("no id", None, c.ok("id", s.id().await)?)?;
    r.finish_removed(s).await?;
    c.eq("nothing written", 0, r.counts().writes())?;

    let s = r.request(Some(key));
    c.ok("insert", s.insert("cat", "dog").await)?;
    let new = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    c.that("a fresh key", new != key, "not the client's key", &new)?;
    c.eq(
        "the client's key names nothing",
        false,
        r.exists(key).await?,
    )?;
    c.eq(
        "the data is under the fresh key",
        pairs(&[("cat", json!("dog"))]),
        r.entries(&new).await?,
    )
}

/// `test_invalid_key`: a made-up key (`"1"`) is replaced by a new one and reads empty.
pub async fn django_invalid_key(h: &Harness) -> CaseResult {
    client_key_not_adopted(Check::new("django_invalid_key"), h, "1").await
}

/// `test_session_key_empty_string_invalid`: an empty key names no session.
pub async fn django_session_key_empty_string_invalid(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_key_empty_string_invalid");
    client_key_not_adopted(c, h, "").await
}

/// `test_session_key_too_short_invalid`: a seven-character key names no session.
pub async fn django_session_key_too_short_invalid(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_key_too_short_invalid");
    client_key_not_adopted(c, h, "1234567").await
}

/// `test_session_key_valid_string_saved`, reversed on purpose: Django accepts any key
/// of eight characters or more and saves the session under it; ours never adopts a key
/// the store did not issue, however well-formed, because a key chosen by the client is
/// session fixation.
pub async fn django_session_key_valid_string_not_adopted(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_key_valid_string_not_adopted");
    client_key_not_adopted(c, h, "12345678").await
}

/// `test_session_key_is_read_only`: the handle has no way to set its id; Django checks
/// for `AttributeError` at run time, Rust refuses at compile time:
///
/// ```compile_fail
/// fn plant(session: &session_core::Session, id: session_core::SessionId) {
///     session.id = id; // `id` is a read-only method, not a field
/// }
/// ```
///
/// And at run time: no id before the first write, then the id the store issued, the
/// one its record carries.
pub async fn django_session_key_is_read_only(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_key_is_read_only");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.ok("insert", s.insert("user", "ada").await)?;
    c.eq(
        "no id before the first write",
        None,
        c.ok("id", s.id().await)?,
    )?;
    c.ok("persist", s.persist().await)?;
    let id = c.ok("id", s.id().await)?;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    let record = c.ok("load", r.fx.store().load(&cookie).await)?;
    c.that("issued", id.is_some(), "Some(id)", id)?;
    c.eq("the store's id", id, record.map(|r| r.id))
}

/// `test_default_expiry`: a session's age is the layer's; so is that of a session that
/// expires at browser close (Django's `set_expiry(0)`, ours
/// `SessionExpiry::browser_session` with the layer's expiry). The choice is stored:
/// the next request reads it back, and both requests report a browser-session cookie.
pub async fn django_default_expiry(h: &Harness) -> CaseResult {
    let c = Check::new("django_default_expiry");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.eq(
        "default age",
        COOKIE_AGE,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    let at_close = SessionExpiry::browser_session(layer_expiry(c)?);
    s.set_expiry(at_close).await;
    c.eq(
        "age at browser close",
        COOKIE_AGE,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.ok("insert", s.insert("user", "ada").await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "a browser-session cookie",
        Some(CookieLifetime::BrowserSession),
        out.lifetime,
    )?;
    c.eq(
        "deadline",
        Some(h.clock().now().saturating_add(COOKIE_AGE)),
        out.expires_at,
    )?;
    let cookie = set_cookie(c, "stored", out)?;

    h.clock().advance(Duration::from_secs(3600));
    let s = r.request(Some(&cookie));
    c.eq(
        "stored expiry",
        Some(at_close),
        c.ok("expiry", s.expiry().await)?,
    )?;
    c.eq("age", COOKIE_AGE, c.ok("expiry_age", s.expiry_age().await)?)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "still a browser-session cookie",
        Some(CookieLifetime::BrowserSession),
        out.lifetime,
    )
}

/// `test_custom_expiry_seconds` and `test_custom_expiry_timedelta` (an int and a
/// timedelta are both a `Duration` here): a ten-second expiry gives an age of ten
/// seconds and a deadline ten seconds after the last write, here and after the round
/// trip through the store.
pub async fn django_custom_expiry_seconds(h: &Harness) -> CaseResult {
    let c = Check::new("django_custom_expiry_seconds");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    s.set_expiry(ten_seconds(c)?).await;
    c.eq(
        "age",
        TEN_SECONDS,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.ok("insert", s.insert("user", "ada").await)?;
    let out = c.ok("finish", s.finish().await)?;
    let modification = h.clock().now();
    c.eq(
        "deadline",
        Some(modification.saturating_add(TEN_SECONDS)),
        out.expires_at,
    )?;
    c.eq("persistent", Some(CookieLifetime::Persistent), out.lifetime)?;
    let cookie = set_cookie(c, "stored", out)?;

    h.clock().advance(Duration::from_secs(5));
    let s = r.request(Some(&cookie));
    c.eq(
        "stored deadline",
        Some(modification.saturating_add(TEN_SECONDS)),
        c.ok("expires_at", s.expires_at().await)?,
    )?;
    c.eq(
        "age if written now",
        TEN_SECONDS,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.ok("insert", s.insert("visits", 1).await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq(
        "a write moves the deadline",
        Some(h.clock().now().saturating_add(TEN_SECONDS)),
        out.expires_at,
    )
}

/// `test_custom_expiry_datetime`, adapted: Django can end a session at a wall-clock
/// datetime; ours ends it a lifetime after its creation (`Expiry::absolute`), which is
/// the same instant for a new session (for an existing one, the lifetime is the
/// datetime minus `created_at()`). Unlike an idle expiry, later writes do not move it,
/// and the session is gone at that instant.
pub async fn django_custom_expiry_datetime(h: &Harness) -> CaseResult {
    let c = Check::new("django_custom_expiry_datetime");
    let r = Requests::start(c, h).await?;
    let at = h.clock().now().saturating_add(TEN_SECONDS);
    let s = r.request(None);
    let absolute = c.ok("absolute expiry", Expiry::absolute(TEN_SECONDS))?;
    s.set_expiry(SessionExpiry::persistent(absolute)).await;
    c.eq(
        "age",
        TEN_SECONDS,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.ok("insert", s.insert("user", "ada").await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("deadline", Some(at), out.expires_at)?;
    let cookie = set_cookie(c, "stored", out)?;

    h.clock().advance(Duration::from_secs(5));
    let s = r.request(Some(&cookie));
    c.eq(
        "age left",
        Duration::from_secs(5),
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.ok("insert", s.insert("visits", 1).await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("a write does not move it", Some(at), out.expires_at)?;
    let cookie = set_cookie(c, "written", out)?;

    h.clock().set(at);
    let s = r.request(Some(&cookie));
    c.eq(
        "gone at the deadline",
        None,
        c.ok("get", s.get::<String>("user").await)?,
    )?;
    r.finish_removed(s).await
}

/// `test_custom_expiry_reset`: `set_expiry(None)` puts the layer's expiry back, before
/// the session is written (and then nothing is left to write) and on a stored session
/// that had its own (then the next request has the layer's again).
pub async fn django_custom_expiry_reset(h: &Harness) -> CaseResult {
    let c = Check::new("django_custom_expiry_reset");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let before = r.counts();
    let s = r.request(Some(&cookie));
    c.ok("read", s.get::<String>("user").await)?;
    s.set_expiry(None).await;
    s.set_expiry(ten_seconds(c)?).await;
    s.set_expiry(None).await;
    c.eq(
        "layer's age",
        COOKIE_AGE,
        c.ok("expiry_age", s.expiry_age().await)?,
    )?;
    c.eq("no own expiry", None, c.ok("expiry", s.expiry().await)?)?;
    c.eq("not modified", false, s.is_modified().await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("the adapter's cookie lifetime", None, out.lifetime)?;
    c.eq("nothing written", before.writes(), r.counts().writes())?;

    let s = r.request(Some(&cookie));
    s.set_expiry(ten_seconds(c)?).await;
    let cookie = r.end(s, &cookie).await?;
    let s = r.request(Some(&cookie));
    c.eq(
        "stored own expiry",
        Some(ten_seconds(c)?),
        c.ok("expiry", s.expiry().await)?,
    )?;
    s.set_expiry(None).await;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("the adapter's cookie lifetime", None, out.lifetime)?;
    c.eq(
        "the layer's deadline",
        Some(h.clock().now().saturating_add(COOKIE_AGE)),
        out.expires_at,
    )?;
    let cookie = set_cookie(c, "reset written", out)?;
    let s = r.request(Some(&cookie));
    c.eq("reset stored", None, c.ok("expiry", s.expiry().await)?)?;
    c.eq(
        "layer's age",
        COOKIE_AGE,
        c.ok("expiry_age", s.expiry_age().await)?,
    )
}

/// `test_get_expire_at_browser_close`: a ten-second expiry persists the cookie, a
/// browser-close one does not, and `None` defers to the default, each as stored and
/// read back by the next request. Django's default is a setting
/// (`SESSION_EXPIRE_AT_BROWSER_CLOSE`, its `override_settings` half); ours is the
/// adapter's cookie configuration, which the core reports as `lifetime: None`.
pub async fn django_get_expire_at_browser_close(h: &Harness) -> CaseResult {
    let c = Check::new("django_get_expire_at_browser_close");
    let r = Requests::start(c, h).await?;
    let mut cookie = r.stored(&[("user", "ada")]).await?;
    let ten = ten_seconds(c)?;
    let at_close = SessionExpiry::browser_session(layer_expiry(c)?);
    let steps = [
        (Some(ten), Some(CookieLifetime::Persistent)),
        (Some(at_close), Some(CookieLifetime::BrowserSession)),
        (None, None),
    ];
    for (expiry, lifetime) in steps {
        let s = r.request(Some(&cookie));
        s.set_expiry(expiry).await;
        let own = c.ok("expiry", s.expiry().await)?;
        c.eq("cookie lifetime set", lifetime, own.map(|e| e.cookie()))?;
        let out = c.ok("finish", s.finish().await)?;
        c.eq("outcome's lifetime", lifetime, out.lifetime)?;
        cookie = set_cookie(c, "written", out)?;
        let s = r.request(Some(&cookie));
        c.eq("read back", expiry, c.ok("expiry", s.expiry().await)?)?;
        let out = c.ok("finish", s.finish().await)?;
        c.eq("outcome's lifetime read back", lifetime, out.lifetime)?;
    }
    Ok(())
}

/// `test_decode`, adapted: Django encodes and decodes with the session's serializer;
/// ours is the store's codec, so what the store gives back for the cookie is what the
/// session wrote.
pub async fn django_decode(h: &Harness) -> CaseResult {
    let c = Check::new("django_decode");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("a test key", "a test value")]).await?;
    let record = c.ok("load", r.fx.store().load(&cookie).await)?;
    let data = record.map(|r| r.data.into_iter().collect::<Vec<_>>());
    c.eq(
        "decoded",
        Some(pairs(&[("a test key", json!("a test value"))])),
        data,
    )
}

/// `test_decode_failure_logged_to_security` and `test_decode_serializer_exception`,
/// adapted: Django decodes bad bytes to `{}`; a store here cannot be handed bad bytes
/// through its contract, but a client can alter its cookie. An altered cookie opens
/// nothing: the request gets a new, empty session, no error, and the cookie is
/// expired.
pub async fn django_decode_failure(h: &Harness) -> CaseResult {
    let c = Check::new("django_decode_failure");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let mut altered: Vec<char> = cookie.chars().collect();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    let s = r.request(Some(&altered));
    c.eq("empty", true, c.ok("is_empty", s.is_empty().await)?)?;
    c.eq("no id", None, c.ok("id", s.id().await)?)?;
    r.finish_removed(s).await?;
    c.eq(
        "the genuine cookie still opens",
        pairs(&[("user", json!("ada"))]),
        r.entries(&cookie).await?,
    )
}

/// `test_actual_expiry`, adapted: Django sets a negative expiry so the session is
/// already over when it is saved; ours refuses a zero (or negative) duration up front,
/// so the case lets a ten-second expiry run out instead. The expired session's data is
/// not seen and its cookie is expired.
pub async fn django_actual_expiry(h: &Harness) -> CaseResult {
    let c = Check::new("django_actual_expiry");
    c.err(
        "a deadline already past",
        Expiry::idle(Duration::ZERO),
        "Config",
        |e| matches!(e, Error::Config(_)),
    )?;
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.ok("insert", s.insert("foo", "bar").await)?;
    s.set_expiry(ten_seconds(c)?).await;
    let cookie = set_cookie(c, "stored", c.ok("finish", s.finish().await)?)?;
    h.clock().advance(TEN_SECONDS + Duration::from_secs(1));
    let s = r.request(Some(&cookie));
    c.eq(
        "foo not in the expired session",
        false,
        c.ok("contains_key", s.contains_key("foo").await)?,
    )?;
    c.eq("no id", None, c.ok("id", s.id().await)?)?;
    r.finish_removed(s).await
}

/// `test_session_load_does_not_create_record`: loading an unknown key creates no
/// record (that would be a denial of service), and the key is not reused.
pub async fn django_session_load_does_not_create_record(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_load_does_not_create_record");
    let r = Requests::start(c, h).await?;
    let s = r.request(Some("someunknownkey"));
    c.eq("empty", true, c.ok("is_empty", s.is_empty().await)?)?;
    c.eq("no id", None, c.ok("id", s.id().await)?)?;
    r.finish_removed(s).await?;
    c.eq("no write", 0, r.counts().writes())?;
    r.holds_nothing("someunknownkey").await
}

/// `test_session_save_does_not_resurrect_session_logged_out_in_other_context`: a
/// session logged out by another request is not brought back by this one's save,
/// which fails (Django's `UpdateError`, ours `NotFound`), and the session reads empty.
/// Without revoke the logout cannot remove the record, so the save goes through:
/// documented.
pub async fn django_save_does_not_resurrect(h: &Harness) -> CaseResult {
    let c = Check::new("django_save_does_not_resurrect");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("test_data", "value1")]).await?;
    let s1 = r.request(Some(&cookie));
    c.ok("first context reads", s1.get::<String>("test_data").await)?;
    let s2 = r.request(Some(&cookie));
    c.ok("logout in another context", s2.delete().await)?;
    c.ok("logout finishes", s2.finish().await)?;
    c.ok("modify", s1.insert("test_data", "value2").await)?;
    let saved = s1.persist().await;
    if !r.caps().revoke {
        return c.ok("save without revoke goes through", saved);
    }
    c.err("save after the logout", saved, "NotFound", |e| {
        matches!(e, Error::NotFound)
    })?;
    c.eq(
        "reads empty",
        Vec::new(),
        c.ok("entries", s1.entries().await)?,
    )?;
    r.finish_removed(s1).await?;
    r.holds_nothing(&cookie).await
}

// Django's `SessionMiddlewareTests` that are about the session rather than the cookie's
// attributes (those are the adapter's: session-tower's tests).

/// `test_session_save_on_500`: a response that failed saves nothing (our adapter ends
/// such a request with `finish_unsaved`).
pub async fn django_session_save_on_500(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_save_on_500");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    let before = r.counts();
    let s = r.request(Some(&cookie));
    c.ok("insert", s.insert("hello", "world").await)?;
    let out = s.finish_unsaved().await;
    c.eq("cookie left alone", CookieChange::Unchanged, out.cookie)?;
    c.eq("nothing written", before.writes(), r.counts().writes())?;
    c.eq(
        "the value was not saved",
        pairs(&[("user", json!("ada"))]),
        r.entries(&cookie).await?,
    )
}

/// `test_session_delete_on_end`: flushing (our `invalidate`) the session of a request
/// that sent a cookie expires the cookie rather than re-creating it, whether the
/// cookie named a stored session or, as in Django's test, nothing (`"abc"`).
pub async fn django_session_delete_on_end(h: &Harness) -> CaseResult {
    let c = Check::new("django_session_delete_on_end");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("user", "ada")]).await?;
    for incoming in [cookie.as_str(), "abc"] {
        let s = r.request(Some(incoming));
        c.ok("flush", s.invalidate().await)?;
        r.finish_removed(s).await?;
    }
    c.eq(
        "flushed session exists",
        !r.caps().revoke,
        r.exists(&cookie).await?,
    )
}

/// `test_flush_empty_without_session_cookie_doesnt_set_cookie`: flushing the session of
/// a request without a cookie sets no cookie and writes nothing.
pub async fn django_flush_empty_without_session_cookie_doesnt_set_cookie(
    h: &Harness,
) -> CaseResult {
    let c = Check::new("django_flush_empty_without_session_cookie_doesnt_set_cookie");
    let r = Requests::start(c, h).await?;
    let s = r.request(None);
    c.ok("flush", s.invalidate().await)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("no cookie", CookieChange::Unchanged, out.cookie)?;
    c.eq("no store operation", 0, r.counts().total())
}

/// `test_empty_session_saved`: a stored session emptied of its data is still written
/// (stored empty) and keeps its cookie, since it was emptied, not flushed.
pub async fn django_empty_session_saved(h: &Harness) -> CaseResult {
    let c = Check::new("django_empty_session_saved");
    let r = Requests::start(c, h).await?;
    let cookie = r.stored(&[("foo", "bar")]).await?;
    let s = r.request(Some(&cookie));
    c.ok("delete foo", s.remove_value("foo").await)?;
    let out = c.ok("finish", s.finish().await)?;
    let cookie = set_cookie(c, "the emptied session's cookie is sent", out)?;
    c.eq("still a session", true, r.exists(&cookie).await?)?;
    c.eq("stored empty", Vec::new(), r.entries(&cookie).await?)
}
