//! Sessions by user (contract rule 12): the binding is stored with every record; stores
//! with `user_index` list a user's live sessions, revoke all (or all but one) of them,
//! and revoke one by its storage key, exactly under the handle's own operations.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use session_core::{
    CookieChange, Record, ScanCursor, SessionDriver, SessionId, SessionOptions, SessionStore,
    StorageKey, UserBinding, UserKey, UserSession,
};

use super::util::{data, record_at, TTL};
use crate::{CaseResult, Check, Failure, Fixture, Harness};

fn binding(c: &Check, user: &str) -> Result<UserBinding, Failure> {
    c.ok("binding", UserBinding::new(user))
}

/// A record bound to `user` (label `label`), created at the harness's now.
fn bound(h: &Harness, user: &UserBinding, ttl: Duration) -> Record {
    record_at(h.clock().now(), ttl, data([("k", json!(1))])).with_user(Some(user.clone()))
}

/// Creates `n` records bound to `user`, all at once; returns them.
async fn create_bound(
    c: &Check,
    h: &Harness,
    fx: &Fixture,
    user: &UserBinding,
    n: usize,
) -> Result<Vec<Record>, Failure> {
    let records: Vec<Record> = (0..n).map(|_| bound(h, user, TTL)).collect();
    // In waves, so a 1,000-session case does not open 1,000 connections at once.
    for wave in records.chunks(32) {
        for result in join_all(wave.iter().map(|r| fx.store().create(r))).await {
            c.ok("create bound", result)?;
        }
    }
    Ok(records)
}

/// Every page of `user`'s sessions, `limit` at a time, checking each page's bound.
async fn list_all(
    c: &Check,
    store: &dyn SessionStore,
    user: &UserKey,
    limit: usize,
) -> Result<Vec<UserSession>, Failure> {
    let mut all = Vec::new();
    let mut cursor: Option<ScanCursor> = None;
    for _ in 0..100_000 {
        let page = c.ok("sessions_of", store.sessions_of(user, cursor, limit).await)?;
        c.that(
            "a page holds at most the limit",
            page.sessions.len() <= limit.max(1),
            &format!("≤ {limit}"),
            page.sessions.len(),
        )?;
        all.extend(page.sessions);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
    Err(c.fail("listing ends", "a last page", "endless cursors"))
}

async fn listed_keys(
    c: &Check,
    store: &dyn SessionStore,
    user: &UserKey,
) -> Result<BTreeSet<StorageKey>, Failure> {
    let all = list_all(c, store, user, 100).await?;
    let keys: BTreeSet<StorageKey> = all.iter().map(|s| s.key).collect();
    c.eq("no session listed twice", all.len(), keys.len())?;
    Ok(keys)
}

fn keys_of(records: &[Record]) -> BTreeSet<StorageKey> {
    records.iter().map(|r| r.id.storage_key()).collect()
}

/// For a store without `user_index`: every index operation answers `Unsupported`.
/// Returns whether the store has the capability.
async fn has_index(c: &Check, fx: &Fixture) -> Result<bool, Failure> {
    if fx.caps().user_index {
        return Ok(true);
    }
    let user = UserKey::of("ada");
    let key = SessionId::generate().storage_key();
    c.unsupported("sessions_of", fx.store().sessions_of(&user, None, 10).await)?;
    c.unsupported("revoke_user", fx.store().revoke_user(&user, None).await)?;
    c.unsupported(
        "revoke_session",
        fx.store().revoke_session(&user, &key).await,
    )?;
    Ok(false)
}

/// A bound record loads back with its binding on every store (the binding lives in the
/// envelope); with `user_index`, the user's listing shows exactly their live sessions,
/// with created, last access, deadline and label, and never another user's.
pub async fn user_bind_and_list(h: &Harness) -> CaseResult {
    let c = Check::new("user_bind_and_list");
    let fx = h.fixture().await;
    let ada = c.ok(
        "binding",
        UserBinding::new("ada@example.com")
            .and_then(|b| b.with_auth_hash("h1"))
            .and_then(|b| b.with_label("Firefox on Linux")),
    )?;
    let r = bound(h, &ada, TTL);
    let cookie = c.ok("create", fx.store().create(&r).await)?;
    let back = c.ok("load", fx.store().load(&cookie).await)?;
    c.eq("the binding round-trips", Some(r.clone()), back)?;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let mut more = create_bound(&c, h, &fx, &ada, 2).await?;
    more.push(r.clone());
    let bob = binding(&c, "bob@example.com")?;
    create_bound(&c, h, &fx, &bob, 1).await?;
    let unbound = record_at(h.clock().now(), TTL, data([("k", json!(2))]));
    c.ok("create unbound", fx.store().create(&unbound).await)?;

    let listed = list_all(&c, &**fx.store(), &ada.user_key(), 100).await?;
    let keys: BTreeSet<_> = listed.iter().map(|s| s.key).collect();
    c.eq("ada's sessions, exactly", keys_of(&more), keys)?;
    let entry = listed.iter().find(|s| s.key == r.id.storage_key());
    c.eq(
        "the entry's fields",
        Some(UserSession::of(&r)),
        entry.cloned(),
    )?;
    c.eq(
        "the label is listed",
        Some("Firefox on Linux"),
        entry.and_then(|e| e.label.as_deref()),
    )?;
    let nobody = c.ok(
        "sessions_of an unknown user",
        fx.store()
            .sessions_of(&UserKey::of("carol"), None, 10)
            .await,
    )?;
    c.eq("an unknown user has none", 0, nobody.sessions.len())?;
    c.eq("and no next page", None, nobody.next)
}

/// `revoke_user` removes every session of the user and returns how many went; other
/// users' and unbound sessions stay.
pub async fn user_revoke_all(h: &Harness) -> CaseResult {
    let c = Check::new("user_revoke_all");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let bob = binding(&c, "bob")?;
    let adas = create_bound(&c, h, &fx, &ada, 3).await?;
    let bobs = create_bound(&c, h, &fx, &bob, 2).await?;
    let unbound = record_at(h.clock().now(), TTL, data([("k", json!(2))]));
    c.ok("create unbound", fx.store().create(&unbound).await)?;

    let n = c.ok(
        "revoke_user",
        fx.store().revoke_user(&ada.user_key(), None).await,
    )?;
    c.eq("revoked count", 3, n)?;
    for r in &adas {
        let got = c.ok("load revoked", fx.store().load(&r.id.to_string()).await)?;
        c.eq("a revoked session is gone", None, got.map(|r| r.id))?;
    }
    for r in bobs.iter().chain([&unbound]) {
        let got = c.ok("load other", fx.store().load(&r.id.to_string()).await)?;
        c.eq("another user's session stays", Some(r.clone()), got)?;
    }
    let left = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq("nothing listed after revoke", BTreeSet::new(), left)?;
    c.eq("bob's listing", keys_of(&bobs), {
        listed_keys(&c, &**fx.store(), &bob.user_key()).await?
    })?;
    let again = c.ok(
        "revoke again",
        fx.store().revoke_user(&ada.user_key(), None).await,
    )?;
    c.eq("revoking again removes nothing", 0, again)
}

/// `revoke_user` with `except` keeps exactly that session ("log out my other devices").
pub async fn user_revoke_all_but_current(h: &Harness) -> CaseResult {
    let c = Check::new("user_revoke_all_but_current");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let adas = create_bound(&c, h, &fx, &ada, 4).await?;
    let current = adas[2].id.storage_key();
    let n = c.ok(
        "revoke_user except current",
        fx.store()
            .revoke_user(&ada.user_key(), Some(&current))
            .await,
    )?;
    c.eq("revoked count", 3, n)?;
    for r in &adas {
        let got = c.ok("load", fx.store().load(&r.id.to_string()).await)?;
        let kept = r.id.storage_key() == current;
        c.eq("only the current session stays", kept, got.is_some())?;
    }
    let left = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq(
        "the current one is still listed",
        BTreeSet::from([current]),
        left,
    )
}

/// `revoke_session` ends one listed session of the user, and never another user's.
pub async fn user_revoke_one_by_key(h: &Harness) -> CaseResult {
    let c = Check::new("user_revoke_one_by_key");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let bob = binding(&c, "bob")?;
    let adas = create_bound(&c, h, &fx, &ada, 2).await?;
    let bobs = create_bound(&c, h, &fx, &bob, 1).await?;
    let (one, other) = (adas[0].id.storage_key(), adas[1].id.storage_key());
    let gone = c.ok(
        "revoke_session",
        fx.store().revoke_session(&ada.user_key(), &one).await,
    )?;
    c.eq("the listed session went", true, gone)?;
    let got = c.ok(
        "load revoked",
        fx.store().load(&adas[0].id.to_string()).await,
    )?;
    c.eq("revoked session gone", None, got.map(|r| r.id))?;
    let left = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq("the other one is listed", BTreeSet::from([other]), left)?;

    let bobs_key = bobs[0].id.storage_key();
    let stolen = c.ok(
        "revoke another user's session",
        fx.store().revoke_session(&ada.user_key(), &bobs_key).await,
    )?;
    c.eq("another user's key ends nothing", false, stolen)?;
    let kept = c.ok("load bob", fx.store().load(&bobs[0].id.to_string()).await)?;
    c.eq("bob's session stays", Some(bobs[0].clone()), kept)?;
    let unknown = SessionId::generate().storage_key();
    let none = c.ok(
        "revoke an unknown key",
        fx.store().revoke_session(&ada.user_key(), &unknown).await,
    )?;
    c.eq("an unknown key ends nothing", false, none)?;
    let twice = c.ok(
        "revoke the same key again",
        fx.store().revoke_session(&ada.user_key(), &one).await,
    )?;
    c.eq("a second revoke ends nothing", false, twice)
}

fn opts(h: &Harness) -> Arc<SessionOptions> {
    Arc::new(SessionOptions::default().with_clock(h.clock().clone()))
}

fn set_cookie(c: &Check, change: CookieChange) -> Result<String, Failure> {
    match change {
        CookieChange::Set(v) => Ok(v),
        other => Err(c.fail("a cookie is set", "Set(..)", format!("{other:?}"))),
    }
}

/// Logs `user` in through the handle (bind, then a cycle, as a login does); returns the
/// cookie.
async fn login(
    c: &Check,
    h: &Harness,
    store: &Arc<dyn SessionStore>,
    user: &UserBinding,
) -> Result<String, Failure> {
    let s = SessionDriver::new(store.clone(), opts(h), None);
    c.ok("insert", s.insert("cart", 1).await)?;
    s.bind_user(user.clone()).await;
    s.cycle_id().await;
    set_cookie(c, c.ok("finish login", s.finish().await)?.cookie)
}

async fn key_of(
    c: &Check,
    store: &Arc<dyn SessionStore>,
    cookie: &str,
) -> Result<StorageKey, Failure> {
    let r = c.ok("load", store.load(cookie).await)?;
    r.map(|r| r.id.storage_key())
        .ok_or_else(|| c.fail("the session loads", "Some(..)", "None"))
}

/// Through the handle: `cycle_id` moves the binding to the new id (the old key leaves
/// the listing), rebinding moves the session to the other user, `unbind_user` and
/// `delete` take it out of the listing.
pub async fn user_cycle_keeps_binding(h: &Harness) -> CaseResult {
    let c = Check::new("user_cycle_keeps_binding");
    let fx = h.fixture().await;
    let ada = binding(&c, "ada")?;
    let cookie = login(&c, h, fx.store(), &ada).await?;
    // A later request cycles the id again (a privilege change).
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(cookie.clone()));
    s.cycle_id().await;
    let cycled = set_cookie(&c, c.ok("finish cycle", s.finish().await)?.cookie)?;
    let back = c.ok("load cycled", fx.store().load(&cycled).await)?;
    c.eq(
        "the binding survives the cycle",
        Some("ada"),
        back.as_ref()
            .and_then(|r| r.user.as_ref())
            .map(|u| u.user_id()),
    )?;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let old = c.ok("load old", fx.store().load(&cookie).await)?;
    c.eq("the old id is gone", None, old.map(|r| r.id))?;
    let new_key = key_of(&c, fx.store(), &cycled).await?;
    let listed = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq(
        "only the new key is listed",
        BTreeSet::from([new_key]),
        listed,
    )?;

    // Rebinding to another user moves the session between listings.
    let bob = binding(&c, "bob")?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(cycled.clone()));
    s.bind_user(bob.clone()).await;
    c.ok("finish rebind", s.finish().await)?;
    let adas = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq("rebound: not ada's any more", BTreeSet::new(), adas)?;
    let bobs = listed_keys(&c, &**fx.store(), &bob.user_key()).await?;
    c.eq("rebound: bob's now", BTreeSet::from([new_key]), bobs)?;

    // Unbinding takes it out of every listing; the session itself stays.
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(cycled.clone()));
    s.unbind_user().await;
    c.ok("finish unbind", s.finish().await)?;
    let bobs = listed_keys(&c, &**fx.store(), &bob.user_key()).await?;
    c.eq("unbound: listed nowhere", BTreeSet::new(), bobs)?;
    let kept = c.ok("load unbound", fx.store().load(&cycled).await)?;
    c.eq("unbound: the session stays", true, kept.is_some())
}

/// `delete` (store and handle) and `invalidate` remove the session from the listing.
pub async fn user_delete_removes(h: &Harness) -> CaseResult {
    let c = Check::new("user_delete_removes");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let records = create_bound(&c, h, &fx, &ada, 2).await?;
    c.ok("store delete", fx.store().delete(&records[0].id).await)?;
    let listed = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq(
        "a deleted session is not listed",
        BTreeSet::from([records[1].id.storage_key()]),
        listed,
    )?;

    let first = login(&c, h, fx.store(), &ada).await?;
    let second = login(&c, h, fx.store(), &ada).await?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(first));
    c.ok("handle delete", s.delete().await)?;
    c.ok("finish delete", s.finish().await)?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(second));
    c.ok("handle invalidate", s.invalidate().await)?;
    c.ok("insert after invalidate", s.insert("fresh", true).await)?;
    c.ok("finish invalidate", s.finish().await)?;
    let listed = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq(
        "deleted and invalidated sessions are not listed",
        BTreeSet::from([records[1].id.storage_key()]),
        listed,
    )
}

/// Expired sessions are never listed, and a sweep (where the store can enumerate)
/// leaves the index consistent.
pub async fn user_expired_not_listed(h: &Harness) -> CaseResult {
    let c = Check::new("user_expired_not_listed");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let short = bound(h, &ada, Duration::from_secs(30));
    c.ok("create short-lived", fx.store().create(&short).await)?;
    let long = create_bound(&c, h, &fx, &ada, 1).await?;
    h.clock().advance(Duration::from_secs(31));
    let want = keys_of(&long);
    c.eq(
        "the expired session is not listed",
        want.clone(),
        listed_keys(&c, &**fx.store(), &ada.user_key()).await?,
    )?;
    if fx.caps().enumerate {
        c.ok("delete_expired", fx.store().delete_expired().await)?;
        c.eq(
            "after the sweep",
            want,
            listed_keys(&c, &**fx.store(), &ada.user_key()).await?,
        )?;
    }
    let gone = c.ok(
        "revoke the expired one by key",
        fx.store()
            .revoke_session(&ada.user_key(), &short.id.storage_key())
            .await,
    )?;
    c.eq("an expired session is not revoked again", false, gone)
}

/// Users are isolated, even with ids that differ only in case or spacing, and the
/// index does not show raw user ids in the store's keys.
pub async fn user_isolated(h: &Harness) -> CaseResult {
    let c = Check::new("user_isolated");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let names = [
        "ada-lovelace",
        "Ada-lovelace",
        "ada-lovelace ",
        "ada-lovelac",
    ];
    let mut made = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let user = binding(&c, name)?;
        made.push((user.clone(), create_bound(&c, h, &fx, &user, i + 1).await?));
    }
    for (user, records) in &made {
        let listed = listed_keys(&c, &**fx.store(), &user.user_key()).await?;
        c.eq("each user sees only their own", keys_of(records), listed)?;
    }
    if let Some(raw) = fx.raw_entries().await {
        let leaked = raw
            .iter()
            .any(|(k, _)| k.windows(12).any(|w| w == b"ada-lovelace"));
        c.eq("no raw user id in a stored key", false, leaked)?;
    }
    Ok(())
}

/// 1,000 sessions of one user list completely in bounded pages, each session once.
pub async fn user_thousand_sessions_paged(h: &Harness) -> CaseResult {
    let c = Check::new("user_thousand_sessions_paged");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let records = create_bound(&c, h, &fx, &ada, 1_000).await?;
    let listed = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    c.eq("all 1,000 listed", keys_of(&records), listed)?;
    let first = c.ok(
        "a page of one",
        fx.store().sessions_of(&ada.user_key(), None, 1).await,
    )?;
    c.eq("a page of one holds one", 1, first.sessions.len())?;
    c.that(
        "and more follow",
        first.next.is_some(),
        "Some(cursor)",
        &first.next,
    )?;
    let n = c.ok(
        "revoke all",
        fx.store().revoke_user(&ada.user_key(), None).await,
    )?;
    c.eq("all 1,000 revoked", 1_000, n)
}

/// A revoke racing new logins: every session bound before the revoke started is gone
/// after it; afterwards a session loads exactly when it is listed (the index lost
/// nothing and kept nothing).
pub async fn user_concurrent_bind_and_revoke(h: &Harness) -> CaseResult {
    let c = Check::new("user_concurrent_bind_and_revoke");
    let fx = h.fixture().await;
    if !has_index(&c, &fx).await? {
        return Ok(());
    }
    let ada = binding(&c, "ada")?;
    let before = create_bound(&c, h, &fx, &ada, 40).await?;
    let during: Vec<Record> = (0..40).map(|_| bound(h, &ada, TTL)).collect();
    let creates = join_all(during.iter().map(|r| fx.store().create(r)));
    let user = ada.user_key();
    let (revoked, created) = futures::join!(fx.store().revoke_user(&user, None), creates);
    let revoked = c.ok("revoke_user", revoked)?;
    for result in created {
        c.ok("create during revoke", result)?;
    }
    c.that(
        "revoked at least the sessions bound before",
        (40..=80).contains(&revoked),
        "40..=80",
        revoked,
    )?;
    for r in &before {
        let got = c.ok("load", fx.store().load(&r.id.to_string()).await)?;
        c.eq("bound before the revoke: gone", None, got.map(|r| r.id))?;
    }
    let listed = listed_keys(&c, &**fx.store(), &ada.user_key()).await?;
    let mut live = BTreeSet::new();
    for r in &during {
        if c.ok("load", fx.store().load(&r.id.to_string()).await)?
            .is_some()
        {
            live.insert(r.id.storage_key());
        }
    }
    let gone = before.len() + during.len() - live.len();
    c.eq("a session loads exactly when it is listed", live, listed)?;
    c.eq("the count is what went", gone as u64, revoked)
}

/// Through the handle: `verify_user` keeps a session whose auth hash matches and ends
/// one whose hash changed (a password change), on every store.
pub async fn user_verify_auth_hash(h: &Harness) -> CaseResult {
    let c = Check::new("user_verify_auth_hash");
    let fx = h.fixture().await;
    let ada = c.ok(
        "binding",
        UserBinding::new("ada").and_then(|b| b.with_auth_hash("h1")),
    )?;
    let cookie = login(&c, h, fx.store(), &ada).await?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(cookie.clone()));
    c.eq(
        "the current hash passes",
        true,
        c.ok("verify", s.verify_user("h1").await)?,
    )?;
    c.eq(
        "the data is still there",
        Some(1),
        c.ok("get", s.get::<i32>("cart").await)?,
    )?;
    c.ok("finish", s.finish().await)?;

    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(cookie.clone()));
    c.eq(
        "a changed hash fails",
        false,
        c.ok("verify", s.verify_user("h2").await)?,
    )?;
    c.eq(
        "the session is empty now",
        None,
        c.ok("get", s.get::<i32>("cart").await)?,
    )?;
    c.eq("and bound to nobody", None, c.ok("user", s.user().await)?)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("the cookie is removed", CookieChange::Remove, out.cookie)?;
    if fx.caps().revoke {
        let got = c.ok("load", fx.store().load(&cookie).await)?;
        c.eq("the stored session is gone", None, got.map(|r| r.id))?;
    }
    let unbound = SessionDriver::new(fx.store().clone(), opts(h), None);
    c.eq(
        "an unbound session does not verify",
        false,
        c.ok("verify", unbound.verify_user("h1").await)?,
    )
}

/// Through the handle: "your devices", "log out my other devices" and "log out
/// everywhere".
pub async fn user_handle_devices_and_logout_everywhere(h: &Harness) -> CaseResult {
    let c = Check::new("user_handle_devices_and_logout_everywhere");
    let fx = h.fixture().await;
    let ada = binding(&c, "ada")?;
    let bob = binding(&c, "bob")?;
    let mut adas = Vec::new();
    for _ in 0..3 {
        adas.push(login(&c, h, fx.store(), &ada).await?);
    }
    let bobs = login(&c, h, fx.store(), &bob).await?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(adas[0].clone()));
    if !fx.caps().user_index {
        c.unsupported("user_sessions", s.user_sessions(None, 10).await)?;
        return c.unsupported("revoke_all_sessions", s.revoke_all_sessions().await);
    }
    let devices = c.ok("user_sessions", s.user_sessions(None, 10).await)?;
    let current = c.ok("storage_key", s.storage_key().await)?;
    c.eq("three devices", 3, devices.sessions.len())?;
    c.that(
        "the current one is among them",
        devices.sessions.iter().any(|d| Some(d.key) == current),
        "listed",
        current,
    )?;
    let others = c.ok("revoke_other_sessions", s.revoke_other_sessions().await)?;
    c.eq("two others went", 2, others)?;
    c.ok("finish", s.finish().await)?;
    for (i, cookie) in adas.iter().enumerate() {
        let got = c.ok("load", fx.store().load(cookie).await)?;
        c.eq("only the current device stays", i == 0, got.is_some())?;
    }

    let again = login(&c, h, fx.store(), &ada).await?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(adas[0].clone()));
    let all = c.ok("revoke_all_sessions", s.revoke_all_sessions().await)?;
    c.eq("both of ada's sessions went", 2, all)?;
    c.eq("the handle is empty", None, c.ok("user", s.user().await)?)?;
    let out = c.ok("finish", s.finish().await)?;
    c.eq("the cookie is removed", CookieChange::Remove, out.cookie)?;
    for cookie in [&adas[0], &again] {
        let got = c.ok("load", fx.store().load(cookie).await)?;
        c.eq("logged out everywhere", None, got.map(|r| r.id))?;
    }
    let kept = c.ok("load bob", fx.store().load(&bobs).await)?;
    c.eq("another user stays logged in", true, kept.is_some())?;

    // Revoking one device by its listed key, from another device.
    let one = login(&c, h, fx.store(), &bob).await?;
    let one_key = key_of(&c, fx.store(), &one).await?;
    let s = SessionDriver::new(fx.store().clone(), opts(h), Some(bobs.clone()));
    c.eq(
        "revoke one device",
        true,
        c.ok("revoke_session", s.revoke_session(&one_key).await)?,
    )?;
    c.ok("finish", s.finish().await)?;
    let got = c.ok("load", fx.store().load(&one).await)?;
    c.eq("that device is logged out", None, got.map(|r| r.id))?;
    let kept = c.ok("load", fx.store().load(&bobs).await)?;
    c.eq("the device that asked stays", true, kept.is_some())
}
