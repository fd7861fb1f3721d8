//! The server-side Lua scripts.
//!
//! The session scripts (`create`, `save`, `touch`, `delete`) run on both deployments
//! with an `inline` argument. On a standalone server (`'1'`) they keep the user index
//! in the same script as the write, so the two change together: the new user's index
//! is `KEYS[2]`, and the old user's, read from the stored header, is named from the
//! session key's prefix (a key the script does not declare, which a standalone server
//! allows). On a cluster (`'0'`) they touch `KEYS[1]` only, which the key's node runs
//! atomically, and answer the old user so that the caller unfiles it afterwards; the
//! caller files a new binding before the write (`file.lua`, on the index's node).
//! `revoke.lua` and `prune.lua` are standalone-only (several keys), `file.lua` and
//! `delete_if_bound.lua` cluster-only (one key each).
//!
//! They are called by SHA-1 (`EVALSHA`) through redis-rs's [`Script`], which loads a
//! script and retries when the server answers `NOSCRIPT` (a restart, a failover, a
//! `SCRIPT FLUSH`). The connecting constructors also load the request scripts up front,
//! so the first request already costs one round trip.

use std::sync::LazyLock;

use redis::aio::ConnectionLike;
use redis::{Cmd, FromRedisValue, RedisResult, Script, Value};

/// A script's source: the shared header reader and index helpers
/// (`scripts/header.lua`), then the script itself.
macro_rules! script_source {
    ($file:literal) => {
        concat!(
            include_str!("scripts/header.lua"),
            include_str!(concat!("scripts/", $file))
        )
    };
}

/// A script whose common case runs first (`$first`), before the shared helpers are
/// defined: the helpers cost a hot call about a quarter of a microsecond of the
/// server's time (closures made on every call), a sixth of a whole save.
macro_rules! fast_first_source {
    ($first:literal, $file:literal) => {
        concat!(
            include_str!(concat!("scripts/", $first)),
            include_str!("scripts/header.lua"),
            include_str!(concat!("scripts/", $file))
        )
    };
}

/// Compare-and-set save (see `scripts/save_first.lua`, then `scripts/save.lua`).
pub(crate) static SAVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(fast_first_source!("save_first.lua", "save.lua")));

/// Deadline-only update (see `scripts/touch_first.lua`, then `scripts/touch.lua`).
pub(crate) static TOUCH: LazyLock<Script> =
    LazyLock::new(|| Script::new(fast_first_source!("touch_first.lua", "touch.lua")));

/// Create over a leftover expired by the store's clock, or a bound create on a
/// standalone server (see `scripts/create.lua`).
pub(crate) static CREATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("create.lua")));

/// Delete, in any case or only if expired by the store's clock (see
/// `scripts/delete_first.lua`, then `scripts/delete.lua`).
pub(crate) static DELETE: LazyLock<Script> =
    LazyLock::new(|| Script::new(fast_first_source!("delete_first.lua", "delete.lua")));

/// Cluster: file in (or only stretch) a user's index (see `scripts/file.lua`).
pub(crate) static FILE: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("file.lua")));

/// Cluster: delete a session only if bound to the user (see
/// `scripts/delete_if_bound.lua`).
pub(crate) static DELETE_IF_BOUND: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("delete_if_bound.lua")));

/// Standalone: a batch of a revoke, atomic with the index (see `scripts/revoke.lua`).
pub(crate) static REVOKE: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("revoke.lua")));

/// Standalone: drop stale index members (see `scripts/prune.lua`).
pub(crate) static PRUNE: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("prune.lua")));

/// Every script requests use, for loading up front (the index scripts of both
/// deployments: loading one a deployment does not use costs nothing but the load).
pub(crate) fn all() -> [&'static Script; 5] {
    [&SAVE, &TOUCH, &CREATE, &DELETE, &FILE]
}

/// The start of an `EVALSHA` of `script` over `keys` keys, for the hot paths (`save`,
/// `touch`, `delete`): the caller appends the keys and arguments straight into the command, where
/// [`Script::key`]/[`arg`](redis::ScriptInvocation::arg) would first copy each one
/// (the value included) into its own buffer and then again into the command.
pub(crate) fn evalsha(script: &Script, keys: usize) -> Cmd {
    let mut cmd = redis::cmd("EVALSHA");
    cmd.arg(script.get_hash()).arg(keys);
    cmd
}

/// Runs `cmd` (built by [`evalsha`] for `script`); on `NOSCRIPT` (a restart, a
/// failover, a `SCRIPT FLUSH`) loads the script and sends it once more.
pub(crate) async fn invoke<T: FromRedisValue, C: ConnectionLike>(
    script: &Script,
    cmd: &Cmd,
    conn: &mut C,
) -> RedisResult<T> {
    match cmd.query_async(conn).await {
        Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
            script.prepare_invoke().load_async(conn).await?;
            cmd.query_async(conn).await
        }
        other => other,
    }
}

/// The `inline` argument of the session scripts.
pub(crate) fn inline(cluster: bool) -> &'static str {
    if cluster {
        "0"
    } else {
        "1"
    }
}

/// A session script's answer: its code, and on a cluster the user's key hex the caller
/// must still see to (`{code, user}`).
pub(crate) fn reply(value: &Value) -> Option<(i64, Option<String>)> {
    match value {
        Value::Int(code) => Some((*code, None)),
        Value::Array(items) => match items.as_slice() {
            [Value::Int(code), Value::BulkString(user)] => {
                Some((*code, Some(String::from_utf8(user.clone()).ok()?)))
            }
            _ => None,
        },
        _ => None,
    }
}

/// What the save script answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaveReply {
    Saved,
    NotFound,
    Conflict,
    UnknownLayout,
}

impl SaveReply {
    pub(crate) fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(SaveReply::Saved),
            0 => Some(SaveReply::NotFound),
            -1 => Some(SaveReply::Conflict),
            -2 => Some(SaveReply::UnknownLayout),
            _ => None,
        }
    }
}

/// What the touch script answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TouchReply {
    Touched,
    NotFound,
    UnknownLayout,
}

impl TouchReply {
    pub(crate) fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(TouchReply::Touched),
            0 => Some(TouchReply::NotFound),
            -2 => Some(TouchReply::UnknownLayout),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout;

    /// The scripts hard-code the header's offsets (Lua strings are 1-based, SETRANGE and
    /// GETRANGE 0-based); this pins them to the layout module.
    #[test]
    fn scripts_agree_with_the_layout() {
        assert_eq!(layout::HEADER_LEN, 61);
        assert_eq!(layout::VERSION_AT, 1);
        assert_eq!(layout::TIMES_AT, 21);
        assert_eq!(layout::EXPIRES_AT, 41);
        assert_eq!(layout::USER_AT, 61);
        assert_eq!(layout::HEADER_V2_LEN, 125);
        assert_eq!(layout::LAYOUT_V1, b'1');
        assert_eq!(layout::LAYOUT_V2, b'2');
        let header = include_str!("scripts/header.lua");
        let pattern = format!(
            "local V =\n  '^[12]{}[+-]{}[+-]{}$'",
            "%d".repeat(20),
            "%d".repeat(19),
            "%d".repeat(19)
        );
        assert!(header.contains(&pattern), "{header}");
        assert!(header.contains(&format!("local HEX =\n  '^{}$'", "%x".repeat(64))));
        assert!(header.contains("redis.call('GETRANGE', key, 0, 124)"));
        assert!(header.contains("string.sub(head, 1, 61), V)"));
        assert!(header.contains("string.byte(head, 1) == 50"));
        assert!(header.contains("string.sub(head, 62, 125)"));
        assert!(header.contains("tonumber(string.sub(head, 42, 61)), string.sub(head, 2, 21)"));
        for source in [
            fast_first_source!("save_first.lua", "save.lua"),
            fast_first_source!("touch_first.lua", "touch.lua"),
            fast_first_source!("delete_first.lua", "delete.lua"),
        ] {
            assert!(source.contains(header));
            assert_eq!(source.matches("local V =").count(), 1, "{source}");
        }
        for source in [
            script_source!("create.lua"),
            script_source!("file.lua"),
            script_source!("delete_if_bound.lua"),
            script_source!("revoke.lua"),
            script_source!("prune.lua"),
        ] {
            assert!(source.starts_with(header));
            assert_eq!(source.matches("local V =").count(), 1, "{source}");
        }
        assert!(include_str!("scripts/touch.lua").contains("'SETRANGE', KEYS[1], 21,"));
        assert!(include_str!("scripts/touch_first.lua").contains("'SETRANGE', KEYS[1], 21,"));
        // The fast paths compare the deadline field (Lua 42..61) with now as text.
        for first in [
            include_str!("scripts/save_first.lua"),
            include_str!("scripts/touch_first.lua"),
        ] {
            assert!(first.contains("string.sub(head, 42, 61) >"), "{first}");
            assert!(first.contains("string.byte(head, 42) == 43"), "{first}");
        }
        assert_eq!(
            layout::now_field(session_core::Timestamp::from_millis(5)),
            "+0000000000000000005"
        );
        // Scripts a cluster runs name one key only.
        for cluster in [
            include_str!("scripts/file.lua"),
            include_str!("scripts/delete_if_bound.lua"),
            include_str!("scripts/touch.lua"),
            include_str!("scripts/touch_first.lua"),
            include_str!("scripts/delete.lua"),
        ] {
            assert!(!cluster.contains("KEYS[2]"), "{cluster}");
        }
    }

    #[test]
    fn reply_codes() {
        assert_eq!(SaveReply::from_code(-1), Some(SaveReply::Conflict));
        assert_eq!(SaveReply::from_code(7), None);
        assert_eq!(TouchReply::from_code(-1), None);
        assert_eq!(all().len(), 5);
        assert_eq!(reply(&Value::Int(1)), Some((1, None)));
        assert_eq!(
            reply(&Value::Array(vec![
                Value::Int(1),
                Value::BulkString(b"ab".to_vec())
            ])),
            Some((1, Some("ab".to_owned())))
        );
        assert_eq!(reply(&Value::Nil), None);
        assert_eq!(inline(true), "0");
    }
}
