//! The server-side Lua scripts. Each touches exactly one key (its `KEYS[1]`), so each
//! runs unchanged on Redis Cluster, where the key's node executes it atomically.
//!
//! They are called by SHA-1 (`EVALSHA`) through redis-rs's [`Script`], which loads a
//! script and retries when the server answers `NOSCRIPT` (a restart, a failover, a
//! `SCRIPT FLUSH`). The connecting constructors also load them up front, so the first
//! request already costs one round trip.

use std::sync::LazyLock;

use redis::Script;

/// A script's source: the shared v1-header pattern (`scripts/v1_header.lua`), then the
/// script itself.
macro_rules! script_source {
    ($file:literal) => {
        concat!(
            include_str!("scripts/v1_header.lua"),
            include_str!(concat!("scripts/", $file))
        )
    };
}

/// Compare-and-set save (see `scripts/save.lua`).
pub(crate) static SAVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("save.lua")));

/// Deadline-only update (see `scripts/touch.lua`).
pub(crate) static TOUCH: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("touch.lua")));

/// Create over a leftover expired by the store's clock (see
/// `scripts/create_over_expired.lua`).
pub(crate) static CREATE_OVER_EXPIRED: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("create_over_expired.lua")));

/// Delete only if expired by the store's clock (see `scripts/delete_if_expired.lua`).
/// Only admin tools run it, so it is not loaded up front: the first call loads it.
pub(crate) static DELETE_IF_EXPIRED: LazyLock<Script> =
    LazyLock::new(|| Script::new(script_source!("delete_if_expired.lua")));

/// Every script requests use, for loading up front.
pub(crate) fn all() -> [&'static Script; 3] {
    [&SAVE, &TOUCH, &CREATE_OVER_EXPIRED]
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
        assert_eq!(layout::LAYOUT_V1, b'1');
        let v1_pattern = format!(
            "local V1 =\n  '^1{}[+-]{}[+-]{}$'",
            "%d".repeat(20),
            "%d".repeat(19),
            "%d".repeat(19)
        );
        for source in [
            script_source!("save.lua"),
            script_source!("touch.lua"),
            script_source!("create_over_expired.lua"),
            script_source!("delete_if_expired.lua"),
        ] {
            assert!(source.contains("redis.call('GETRANGE', KEYS[1], 0, 60)"));
            assert!(source.starts_with(include_str!("scripts/v1_header.lua")));
            assert_eq!(source.matches("local V1 =").count(), 1, "{source}");
            assert!(source.contains(&v1_pattern), "{source}");
            assert!(source.contains("string.find(head, V1)"));
            assert!(source.contains("tonumber(string.sub(head, 42, 61))"));
            assert!(!source.contains("KEYS[2]"), "one key per script (Cluster)");
        }
        assert!(include_str!("scripts/save.lua").contains("string.sub(head, 2, 21)"));
        assert!(include_str!("scripts/touch.lua").contains("'SETRANGE', KEYS[1], 21,"));
    }

    #[test]
    fn reply_codes() {
        assert_eq!(SaveReply::from_code(-1), Some(SaveReply::Conflict));
        assert_eq!(SaveReply::from_code(7), None);
        assert_eq!(TouchReply::from_code(-1), None);
        assert_eq!(all().len(), 3);
    }
}
