//! Helpers shared by the tests of the built `session-admin` binary: running it,
//! seeding a store through the library with live and expired sessions, and the scenario
//! every enumerable backend goes through.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{json, Value};
use session_any::AnyStore;
use session_core::{
    CookieChange, Data, Record, SessionDriver, SessionId, SessionOptions, SessionStore, Timestamp,
};

/// Exit codes, as documented by `session-admin --help`.
pub const OK: i32 = 0;
pub const FAILURE: i32 = 1;
pub const USAGE: i32 = 2;
pub const UNSUPPORTED: i32 = 3;
pub const NOT_FOUND: i32 = 4;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as the one JSON object `--json` promises.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!("stdout is not one JSON object ({e}): {self:?}");
        })
    }

    /// Asserts the exit code, showing everything the run printed if it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }
}

/// Runs `session-admin` with `args` and the extra environment `env`, nothing else of
/// the session environment inherited.
pub fn admin_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-admin"));
    cmd.args(args);
    for var in [
        "SESSION_URL",
        "SESSION_CACHE_URL",
        "SESSION_SECRET",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECRET",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the session-admin binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `session-admin` against `url` with `args`.
pub fn admin(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--url", url];
    all.extend_from_slice(args);
    admin_env(&all, &[])
}

/// Runs `session-admin --json` against `url` and returns its object, checking the exit
/// code is 0 and nothing went to stderr (no progress bar when stderr is not a terminal).
pub fn admin_json(url: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = admin(url, &all).expect(OK);
    assert_eq!(run.stderr, "", "stderr of a successful run: {run:#?}");
    run.json()
}

/// A fresh name part: seconds since the epoch and 32 random bits.
pub fn fresh_tag() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let tag: u32 = rand::thread_rng().gen();
    format!("{secs}_{tag:08x}")
}

/// Moves the deadline of the given records into the past in place (see [`seed`]).
pub type Backdate<'a> = &'a dyn Fn(&[SessionId]);

/// What was seeded: the live sessions (cookie value and data), and the ids of the
/// expired ones.
pub struct Seeded {
    pub live: Vec<(String, Data)>,
    pub expired: Vec<SessionId>,
}

fn now() -> Timestamp {
    Timestamp::from_system(SystemTime::now())
}

/// Writes `live` sessions through the session handle (as an app would) and `expired`
/// records whose deadline has passed through the store API.
///
/// `backdate` is for stores that cannot hold a record past its deadline (Redis drops a
/// key at its `PXAT`): they get the expired records written live, then handed to
/// `backdate` to move their deadline into the past in place.
pub async fn seed(
    store: &AnyStore,
    live: usize,
    expired: usize,
    backdate: Option<Backdate<'_>>,
) -> Seeded {
    let store: Arc<dyn SessionStore> = store.clone().into_inner();
    let options = Arc::new(SessionOptions::default());
    let mut out = Seeded {
        live: Vec::new(),
        expired: Vec::new(),
    };
    for i in 0..live {
        let session = SessionDriver::new(store.clone(), options.clone(), None);
        session.insert("user", format!("user-{i}")).await.unwrap();
        session.insert("visits", i).await.unwrap();
        session
            .insert("prefs", json!({"theme": "dark", "tags": ["a", "ß", i]}))
            .await
            .unwrap();
        let CookieChange::Set(cookie) = session.finish().await.unwrap().cookie else {
            panic!("a written session sets its cookie");
        };
        let loaded = store.load(&cookie).await.unwrap().expect("just written");
        out.live.push((cookie, loaded.data));
    }
    for i in 0..expired {
        let mut data = BTreeMap::new();
        data.insert("stale".to_owned(), json!(i));
        let id = SessionId::generate();
        let record = if backdate.is_some() {
            let t = now();
            Record::new(id, data, t, t.saturating_add(Duration::from_secs(3600)))
        } else {
            let t = now().saturating_sub(Duration::from_secs(7200));
            Record::new(id, data, t, t.saturating_add(Duration::from_secs(3600)))
        };
        store.create(&record).await.unwrap();
        out.expired.push(id);
    }
    if let Some(backdate) = backdate {
        backdate(&out.expired);
    }
    for id in &out.expired {
        assert_eq!(store.load(&id.to_string()).await.unwrap(), None);
    }
    out
}

/// Asserts `stats` reports exactly `live` live and `expired` expired sessions.
pub fn assert_stats(url: &str, live: u64, expired: u64) -> Value {
    let stats = admin_json(url, &["stats", "--page-size", "4"]);
    assert_eq!(stats["command"], "stats");
    assert_eq!(stats["sessions"], live + expired, "{stats}");
    assert_eq!(stats["live"], live, "{stats}");
    assert_eq!(stats["expired"], expired, "{stats}");
    assert_eq!(stats["unreadable"], 0, "{stats}");
    stats
}

/// The scenario every enumerable backend runs, on a store `url` names that
/// `seeded` filled with live and expired sessions. `reopen` opens the store through
/// the library again, to check from the app's side what the binary did (the store
/// must not be held open meanwhile: the shelf allows one owner at a time).
pub async fn scenario<F, Fut>(url: &str, seeded: &Seeded, reopen: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = AnyStore>,
{
    let live = seeded.live.len() as u64;
    let expired = seeded.expired.len() as u64;
    assert!(
        live >= 3 && expired >= 1,
        "the scenario needs sessions of both kinds"
    );

    // stats: exact counts, sizes.
    let stats = assert_stats(url, live, expired);
    assert!(stats["bytes"]["total"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["bytes"]["min"].as_u64().unwrap() > 0, "{stats}");
    let histogram: u64 = stats["size_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["sessions"].as_u64().unwrap())
        .sum();
    assert_eq!(histogram, live + expired);

    // inspect: the data written through the API; an expired session is not found.
    let (cookie, data) = &seeded.live[0];
    let record = admin_json(url, &["inspect", cookie]);
    assert_eq!(record["data"], serde_json::to_value(data).unwrap());
    assert_eq!(record["data"]["user"], "user-0");
    assert_eq!(record["version"], 1);
    let key = SessionId::parse(cookie).unwrap().storage_key().to_hex();
    assert_eq!(record["storage_key"], key);
    assert!(record["expires_in_secs"].as_u64().unwrap() > 0);
    assert!(!admin(url, &["inspect", cookie])
        .expect(OK)
        .stdout
        .is_empty());
    let gone = admin(url, &["inspect", &seeded.expired[0].to_string()]).expect(NOT_FOUND);
    assert!(gone.stderr.contains("no live session"), "{gone:?}");
    admin(url, &["inspect", "not-an-id"]).expect(USAGE);

    // gc --dry-run counts and deletes nothing.
    let dry = admin_json(url, &["gc", "--dry-run", "--page-size", "2"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["scanned"], live + expired, "{dry}");
    assert_eq!(dry["expired"], expired, "{dry}");
    assert_eq!(dry["removed"], 0, "{dry}");
    assert_stats(url, live, expired);

    // gc removes exactly the expired sessions; every live one still loads.
    let gc = admin_json(url, &["gc", "--page-size", "2"]);
    assert_eq!(gc["removed"], expired, "{gc}");
    assert_eq!(gc["expired"], expired, "{gc}");
    assert_stats(url, live, 0);
    {
        let store = reopen().await;
        for (cookie, data) in &seeded.live {
            let got = store
                .load(cookie)
                .await
                .unwrap()
                .expect("live session kept");
            assert_eq!(&got.data, data);
        }
    }
    let again = admin_json(url, &["gc"]);
    assert_eq!(again["removed"], 0, "{again}");

    // purge refuses without --yes, deleting nothing.
    let refused = admin(url, &["purge"]).expect(USAGE);
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    assert_stats(url, live, 0);

    // delete one session by id: gone for the app; deleting again finds nothing.
    let deleted = admin_json(url, &["delete", cookie]);
    assert_eq!(deleted["removed"], 1, "{deleted}");
    assert_eq!(deleted["storage_key"], key);
    {
        let store = reopen().await;
        assert_eq!(store.load(cookie).await.unwrap(), None);
        let (other, _) = &seeded.live[1];
        assert!(store.load(other).await.unwrap().is_some());
    }
    assert_eq!(admin_json(url, &["delete", cookie])["removed"], 0);
    admin(url, &["inspect", cookie]).expect(NOT_FOUND);
    assert_stats(url, live - 1, 0);

    // Human output, quiet mode.
    let text = admin(url, &["stats"]).expect(OK);
    assert!(
        text.stdout.contains(&format!("live      {}", live - 1)),
        "{text:?}"
    );
    let quiet = admin(url, &["--quiet", "gc"]).expect(OK);
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));

    // purge --yes deletes every session.
    let purged = admin_json(url, &["purge", "--yes", "--page-size", "2"]);
    assert_eq!(purged["removed"], live - 1, "{purged}");
    assert_stats(url, 0, 0);
    {
        let store = reopen().await;
        for (cookie, _) in &seeded.live {
            assert_eq!(store.load(cookie).await.unwrap(), None);
        }
    }
}

/// Writes one session bound to `user` (labelled `label`) through the session handle,
/// as an app's login would, and returns its storage key's hex.
pub async fn bound_session(store: &Arc<dyn SessionStore>, user: &str, label: &str) -> String {
    let session = SessionDriver::new(store.clone(), Arc::new(SessionOptions::default()), None);
    session.insert("logged_in", true).await.unwrap();
    let binding = session_core::UserBinding::new(user)
        .unwrap()
        .with_label(label)
        .unwrap();
    session.bind_user(binding).await;
    let CookieChange::Set(cookie) = session.finish().await.unwrap().cookie else {
        panic!("a written session sets its cookie");
    };
    SessionId::parse(&cookie).unwrap().storage_key().to_hex()
}

/// The user commands on the store at `url` (which has a user index): three sessions
/// of one user and one of another, written through `store` (dropped before the binary
/// runs), then listed, revoked with `--except`, and one revoked by key; another user's
/// key revokes nothing. User names carry `tag`, for stores other runs share.
pub async fn user_scenario(url: &str, store: AnyStore, tag: &str) {
    // Not hex ('l', 'o', 'v'), so "no raw id printed" cannot match inside a storage key.
    let ada = format!("ada-lovelace{tag}");
    let bob = format!("bob{tag}");
    let (mut keys, bobs) = {
        let store: Arc<dyn SessionStore> = store.into_inner();
        let mut keys = Vec::new();
        for i in 0..3 {
            keys.push(bound_session(&store, &ada, &format!("device {i}")).await);
        }
        (keys, bound_session(&store, &bob, "bob's phone").await)
    };
    keys.sort();
    let listed = |user: &str| {
        let list = admin_json(url, &["user-sessions", user, "--page-size", "2"]);
        let mut got: Vec<String> = list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["storage_key"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        got
    };
    assert_eq!(listed(&ada), keys, "every page walked");
    assert_eq!(listed(&bob), vec![bobs.clone()]);
    let text = admin(url, &["user-sessions", &ada]).expect(OK).stdout;
    assert!(
        text.contains("3 sessions") && text.contains("device 1"),
        "{text}"
    );
    assert!(!text.contains(&ada), "no raw user id printed: {text}");

    // Bob's key under Ada's name ends nothing.
    let other = admin_json(url, &["revoke-session", &ada, &bobs]);
    assert_eq!(other["revoked"], false, "{other}");
    assert_eq!(listed(&bob), vec![bobs.clone()]);

    let revoked = admin_json(url, &["revoke-user", &ada, "--except", &keys[0]]);
    assert_eq!(revoked["revoked"], 2, "{revoked}");
    assert_eq!(listed(&ada), vec![keys[0].clone()]);
    assert_eq!(listed(&bob), vec![bobs.clone()], "another user's stay");

    let one = admin_json(url, &["revoke-session", &ada, &keys[0]]);
    assert_eq!(one["revoked"], true, "{one}");
    assert_eq!(listed(&ada), Vec::<String>::new());
    let text = admin(url, &["revoke-user", &bob]).expect(OK).stdout;
    assert!(text.contains("ended 1 session"), "{text}");

    // A bad storage key is a usage error, before any I/O.
    admin(url, &["revoke-session", &ada, "not-a-key"]).expect(USAGE);
    admin(url, &["revoke-user", &ada, "--except", "abc"]).expect(USAGE);
    admin(url, &["user-sessions", ""]).expect(USAGE);
}
