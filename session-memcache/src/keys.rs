//! The memcached key a session lives under: a validated prefix plus the hex storage key.

use std::fmt;

use session_core::{Error, Result, SessionId};

/// memcached refuses keys longer than this many bytes.
pub const MAX_KEY_LEN: usize = 250;

/// Length of [`StorageKey::to_hex`](session_core::StorageKey::to_hex): 32 bytes as hex.
const STORAGE_KEY_HEX_LEN: usize = 64;

/// The longest prefix that still leaves room for the storage key.
pub const MAX_PREFIX_LEN: usize = MAX_KEY_LEN - STORAGE_KEY_HEX_LEN;

/// The prefix every session key of a store starts with, e.g. `session:` or
/// `myapp:session:`.
///
/// Validated once, when it is built: at most [`MAX_PREFIX_LEN`] bytes of printable
/// ASCII without spaces (`!` to `~`). memcached's text and meta protocols end a key at
/// whitespace and reject control characters, and a multi-byte character would make the
/// 250-byte limit depend on the encoding; refusing all of them up front means no key
/// this store builds can be rejected, or worse split in two, by the server.
///
/// The prefix is the store's namespace: two stores (two apps, or the test fixtures)
/// sharing servers must use different prefixes. Nothing ever flushes a server; a
/// prefix is the only separation there is.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// The prefix used when none is configured.
    pub const DEFAULT: &'static str = "session:";

    /// Validates `prefix`; [`Error::Config`] names the problem.
    pub fn new(prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        if prefix.len() > MAX_PREFIX_LEN {
            return Err(Error::Config(format!(
                "memcached key prefix is {} bytes; at most {MAX_PREFIX_LEN} fit before the \
                 {STORAGE_KEY_HEX_LEN}-character storage key in memcached's {MAX_KEY_LEN}-byte keys",
                prefix.len()
            )));
        }
        if let Some(bad) = prefix.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(Error::Config(format!(
                "memcached key prefix {prefix:?} contains {bad:?}: use printable ASCII without \
                 spaces ('!' to '~')"
            )));
        }
        Ok(KeyPrefix(prefix))
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full memcached key of `id`: this prefix plus the hex of
    /// [`SessionId::storage_key`], never the raw id.
    pub fn key_for(&self, id: &SessionId) -> String {
        let mut key = String::with_capacity(self.0.len() + STORAGE_KEY_HEX_LEN);
        key.push_str(&self.0);
        key.push_str(&id.storage_key().to_hex());
        key
    }

    /// The length in bytes of every key [`KeyPrefix::key_for`] builds.
    pub fn key_len(&self) -> usize {
        self.0.len() + STORAGE_KEY_HEX_LEN
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        KeyPrefix(Self::DEFAULT.to_owned())
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPrefix({:?})", self.0)
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_prefix_plus_storage_key_hex() {
        let prefix = KeyPrefix::new("app:s:").unwrap();
        let id = SessionId::generate();
        let key = prefix.key_for(&id);
        assert_eq!(key, format!("app:s:{}", id.storage_key().to_hex()));
        assert_eq!(key.len(), prefix.key_len());
        assert!(!key.contains(&id.to_string()));
    }

    #[test]
    fn longest_prefix_fills_the_key_exactly() {
        let prefix = KeyPrefix::new("p".repeat(MAX_PREFIX_LEN)).unwrap();
        assert_eq!(prefix.key_for(&SessionId::generate()).len(), MAX_KEY_LEN);
        assert!(matches!(
            KeyPrefix::new("p".repeat(MAX_PREFIX_LEN + 1)),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn rejects_what_memcached_would_split_or_refuse() {
        for bad in [
            "a b",
            "tab\there",
            "nl\n",
            "cr\r",
            "nul\0",
            "del\x7f",
            "é",
            "\u{feff}",
        ] {
            assert!(
                matches!(KeyPrefix::new(bad), Err(Error::Config(_))),
                "{bad:?} accepted"
            );
        }
        assert!(KeyPrefix::new("").is_ok());
        assert!(KeyPrefix::new("!#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~").is_ok());
        assert_eq!(KeyPrefix::default().as_str(), KeyPrefix::DEFAULT);
    }
}
