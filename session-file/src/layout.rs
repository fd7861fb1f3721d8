//! Where `FileStore` keeps what inside its directory.
//!
//! ```text
//! <root>/                       0700
//!   .locks/00 … .locks/ff       0600, one advisory lock file per first key byte
//!   ab/                         0700, first byte of the storage key in hex
//!     cd/                       0700, second byte
//!       abcd…(64 hex digits)    0600, one session: the session-core envelope, nothing else
//!       .tmp-XXXXXXXXXXXXXXXX   a write in progress (or left by a crash)
//!   users/                      0700, the user index (contract rule 12)
//!     ef/                       0700, first byte of the user key in hex
//!       ef01…(64 hex digits)/   0700, one user: the SHA-256 user key, never the user id
//!         abcd…(64 hex digits)  0600, empty: a marker naming one of the user's sessions
//! ```
//!
//! File names are the hex storage key (a SHA-256 of the id), never the id itself, and
//! are only ever built from a parsed id, so no client input reaches a path. Two fan-out
//! levels give 65,536 leaf directories: ten million sessions are ~150 files per
//! directory. Fan-out directories are never removed (at most 65,792 of them), so a
//! writer never races a cleanup that deletes the directory it is writing into.

use std::ffi::OsStr;
use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use session_core::{StorageKey, UserKey};

use crate::atomic::sync_dir;

/// Name of the directory holding the user index.
pub(crate) const USERS_DIR: &str = "users";
/// Name of the directory holding the lock stripes.
pub(crate) const LOCK_DIR: &str = ".locks";
/// Prefix of temporary files. The leading dot keeps them apart from record names,
/// which are pure hex.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";
/// Directories are private to the owner.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Files are private to the owner.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Paths inside one store directory.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: PathBuf) -> Self {
        Layout { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn lock_dir(&self) -> PathBuf {
        self.root.join(LOCK_DIR)
    }

    /// The first-level fan-out directory for key byte `first`.
    pub(crate) fn top_dir(&self, first: u8) -> PathBuf {
        self.root.join(hex_byte(first))
    }

    /// The leaf directory a key's file lives in: `<root>/ab/cd`.
    pub(crate) fn shard_dir(&self, key: &StorageKey) -> PathBuf {
        let b = key.as_bytes();
        self.top_dir(b[0]).join(hex_byte(b[1]))
    }

    /// The record file for a key: `<root>/ab/cd/<64 hex>`.
    ///
    /// Built in one buffer with a table lookup per digit: every load builds one, and
    /// three `join`s over `format!` and `hex::encode` (a char iterator) cost about
    /// 0.3 µs of a 7 µs cached load.
    pub(crate) fn record_path(&self, key: &StorageKey) -> PathBuf {
        let b = key.as_bytes();
        let mut tail = [0u8; 2 + 1 + 2 + 1 + 64];
        put_hex(&mut tail[0..2], &b[..1]);
        tail[2] = b'/';
        put_hex(&mut tail[3..5], &b[1..2]);
        tail[5] = b'/';
        put_hex(&mut tail[6..], b);
        let mut path = PathBuf::with_capacity(self.root.as_os_str().len() + 1 + tail.len());
        path.push(&self.root);
        // Hex digits and '/' only: always ASCII.
        path.push(std::str::from_utf8(&tail).unwrap_or_default());
        path
    }

    /// The directory of one user's markers: `<root>/users/ef/<64 hex>`.
    pub(crate) fn user_dir(&self, user: &UserKey) -> PathBuf {
        self.users_top(user.as_bytes()[0]).join(user.to_hex())
    }

    /// The user index's fan-out directory for user key byte `first`.
    pub(crate) fn users_top(&self, first: u8) -> PathBuf {
        self.root.join(USERS_DIR).join(hex_byte(first))
    }

    /// The marker filing `key` under `user`: `<root>/users/ef/<user hex>/<key hex>`.
    pub(crate) fn marker_path(&self, user: &UserKey, key: &StorageKey) -> PathBuf {
        self.user_dir(user).join(key.to_hex())
    }

    /// Creates `users/`, its fan-out directory and the directory of `user` if missing;
    /// with `durable`, fsyncs the parent of each new one.
    pub(crate) fn create_user_dir(&self, user: &UserKey, durable: bool) -> io::Result<()> {
        let users = self.root.join(USERS_DIR);
        let top = self.users_top(user.as_bytes()[0]);
        let dir = self.user_dir(user);
        for (parent, child) in [(&self.root, &users), (&users, &top), (&top, &dir)] {
            if make_dir(child)? && durable {
                sync_dir(parent)?;
            }
        }
        Ok(())
    }

    /// Creates the two fan-out levels for `key` if missing. With `durable`, the parent
    /// of each new directory is fsynced so the new entry survives a power cut.
    pub(crate) fn create_shard_dir(&self, key: &StorageKey, durable: bool) -> io::Result<()> {
        let b = key.as_bytes();
        let top = self.top_dir(b[0]);
        let leaf = top.join(hex_byte(b[1]));
        if make_dir(&top)? && durable {
            sync_dir(&self.root)?;
        }
        if make_dir(&leaf)? && durable {
            sync_dir(&top)?;
        }
        Ok(())
    }
}

/// Creates one private directory; `Ok(false)` when it already existed.
pub(crate) fn make_dir(path: &Path) -> io::Result<bool> {
    match DirBuilder::new().mode(DIR_MODE).create(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Two lower-case hex digits.
pub(crate) fn hex_byte(b: u8) -> String {
    format!("{b:02x}")
}

/// Writes `bytes` as lower-case hex into `out`, two digits a byte (`out` is twice as
/// long as `bytes`).
fn put_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

/// The key a record file name stands for, if `name` is one (64 lower-case hex digits).
/// Also the name of a marker in a user's directory.
pub(crate) fn record_key(name: &OsStr) -> Option<StorageKey> {
    StorageKey::from_hex(hex64(name)?)
}

/// The user a user directory's name stands for, if it is one (64 lower-case hex digits).
pub(crate) fn user_key(name: &OsStr) -> Option<UserKey> {
    UserKey::from_hex(hex64(name)?)
}

/// `name`, if it is 64 lower-case hex digits.
fn hex64(name: &OsStr) -> Option<&str> {
    let name = name.to_str()?;
    (name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(name)
}

/// Whether `name` is one of this store's temporary files.
pub(crate) fn is_temp_name(name: &OsStr) -> bool {
    name.as_encoded_bytes().starts_with(TEMP_PREFIX.as_bytes())
}

/// Whether `name` is a fan-out directory name (two lower-case hex digits).
pub(crate) fn fanout_byte(name: &OsStr) -> Option<u8> {
    let name = name.to_str()?;
    if name.len() != 2 || !name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u8::from_str_radix(name, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::SessionId;

    #[test]
    fn record_path_fans_out_by_key_bytes() {
        let layout = Layout::new(PathBuf::from("/s"));
        let id = SessionId::generate();
        let key = id.storage_key();
        let hex = key.to_hex();
        let expected = format!("/s/{}/{}/{}", &hex[..2], &hex[2..4], hex);
        assert_eq!(layout.record_path(&key), PathBuf::from(expected));
        assert!(!layout
            .record_path(&key)
            .to_string_lossy()
            .contains(&id.to_string()));
        // The one-buffer path is the joined one, whatever the root looks like.
        for root in ["/s", "/s/", "rel/dir", "."] {
            let layout = Layout::new(PathBuf::from(root));
            for _ in 0..200 {
                let key = SessionId::generate().storage_key();
                assert_eq!(
                    layout.record_path(&key),
                    layout.shard_dir(&key).join(key.to_hex()),
                    "{root}"
                );
            }
        }
    }

    #[test]
    fn names_are_recognised_strictly() {
        let key = SessionId::generate().storage_key();
        assert_eq!(record_key(OsStr::new(&key.to_hex())), Some(key));
        assert_eq!(record_key(OsStr::new(&key.to_hex().to_uppercase())), None);
        assert_eq!(record_key(OsStr::new(&key.to_hex()[1..])), None);
        assert_eq!(record_key(OsStr::new(".tmp-abc")), None);
        assert!(is_temp_name(OsStr::new(".tmp-abc")));
        assert!(!is_temp_name(OsStr::new(&key.to_hex())));
        assert_eq!(fanout_byte(OsStr::new("0f")), Some(15));
        assert_eq!(fanout_byte(OsStr::new("0F")), None);
        assert_eq!(fanout_byte(OsStr::new(".locks")), None);
        assert_eq!(fanout_byte(OsStr::new("+1")), None);
        let user = UserKey::of("ada");
        assert_eq!(user_key(OsStr::new(&user.to_hex())), Some(user));
        assert_eq!(user_key(OsStr::new("ada")), None);
    }

    #[test]
    fn markers_live_under_the_user_key() {
        let layout = Layout::new(PathBuf::from("/s"));
        let user = UserKey::of("ada@example.com");
        let key = SessionId::generate().storage_key();
        let (u, k) = (user.to_hex(), key.to_hex());
        let expected = format!("/s/users/{}/{u}/{k}", &u[..2]);
        assert_eq!(layout.marker_path(&user, &key), PathBuf::from(expected));
        assert!(!layout
            .marker_path(&user, &key)
            .to_string_lossy()
            .contains("ada@"));
    }
}
