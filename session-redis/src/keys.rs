//! Redis key names: the prefix plus the hex storage key, and the `SCAN` pattern that
//! finds exactly those.

use session_core::{SessionId, StorageKey, UserKey};

/// Hex digits of a [`StorageKey`].
const HEX_LEN: usize = 64;

/// The keys one store owns.
#[derive(Debug, Clone)]
pub(crate) struct KeySpace {
    prefix: String,
    pattern: String,
}

impl KeySpace {
    pub(crate) fn new(prefix: &str) -> Self {
        let mut pattern = String::with_capacity(prefix.len() * 2 + HEX_LEN);
        for c in prefix.chars() {
            // A prefix is literal text, but `SCAN MATCH` reads it as a glob.
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        // Exactly 64 characters after the prefix, so a store with prefix `s:` does not
        // count the sessions of a store with prefix `s:x:`; `owns` then checks the hex.
        pattern.extend(std::iter::repeat_n('?', HEX_LEN));
        KeySpace {
            prefix: prefix.to_owned(),
            pattern,
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of `id`'s record: never the raw id (contract rule 7).
    pub(crate) fn key(&self, id: &SessionId) -> String {
        self.key_of_storage_key(&id.storage_key())
    }

    /// The key of the record stored under `key`.
    pub(crate) fn key_of_storage_key(&self, key: &StorageKey) -> String {
        let mut out = String::with_capacity(self.prefix.len() + HEX_LEN);
        out.push_str(&self.prefix);
        out.push_str(&key.to_hex());
        out
    }

    /// The keys of the store's user indexes: `prefix` + `user:` + the user key's hex,
    /// a key space of its own (its keys are 69 characters after the prefix, so the
    /// session pattern never matches them).
    pub(crate) fn indexes(&self) -> KeySpace {
        KeySpace::new(&format!("{}user:", self.prefix))
    }

    /// In the [`KeySpace::indexes`] space: the index key of `user`.
    pub(crate) fn key_of_user(&self, user: &UserKey) -> String {
        let mut out = String::with_capacity(self.prefix.len() + HEX_LEN);
        out.push_str(&self.prefix);
        out.push_str(&user.to_hex());
        out
    }

    /// In the [`KeySpace::indexes`] space: the user an index key found by `SCAN` is of.
    pub(crate) fn user_key(&self, key: &[u8]) -> Option<UserKey> {
        key.strip_prefix(self.prefix.as_bytes())
            .filter(|rest| rest.len() == HEX_LEN)
            .and_then(|rest| std::str::from_utf8(rest).ok())
            .and_then(UserKey::from_hex)
    }

    /// The `SCAN MATCH` glob for this store's keys.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether a key found by `SCAN` is one of this store's records.
    pub(crate) fn owns(&self, key: &[u8]) -> bool {
        self.storage_key(key).is_some()
    }

    /// The storage key a key found by `SCAN` files, if it is one of this store's.
    pub(crate) fn storage_key(&self, key: &[u8]) -> Option<StorageKey> {
        key.strip_prefix(self.prefix.as_bytes())
            .filter(|rest| rest.len() == HEX_LEN)
            .and_then(|rest| std::str::from_utf8(rest).ok())
            .and_then(StorageKey::from_hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_prefix_and_hex_of_the_storage_key() {
        let ks = KeySpace::new("app:s:");
        let id = SessionId::generate();
        let key = ks.key(&id);
        assert_eq!(key, format!("app:s:{}", id.storage_key().to_hex()));
        assert!(!key.contains(&id.to_string()));
        assert!(ks.owns(key.as_bytes()));
    }

    #[test]
    fn owns_only_its_own_shape() {
        let ks = KeySpace::new("s:");
        let hex = SessionId::generate().storage_key().to_hex();
        assert!(ks.owns(format!("s:{hex}").as_bytes()));
        assert!(!ks.owns(format!("t:{hex}").as_bytes()));
        assert!(!ks.owns(format!("s:{}", &hex[..63]).as_bytes()));
        assert!(!ks.owns(format!("s:x:{}", &hex[..62]).as_bytes()));
        assert!(!ks.owns(format!("s:{}", "g".repeat(64)).as_bytes()));
    }

    #[test]
    fn user_indexes_are_a_key_space_of_their_own() {
        let ks = KeySpace::new("s:");
        let indexes = ks.indexes();
        let user = UserKey::of("ada");
        let key = indexes.key_of_user(&user);
        assert_eq!(key, format!("s:user:{}", user.to_hex()));
        assert!(!key.contains("ada"));
        assert!(
            !ks.owns(key.as_bytes()),
            "a session walk never sees an index"
        );
        assert_eq!(indexes.user_key(key.as_bytes()), Some(user));
        assert_eq!(ks.user_key(b"s:nothex"), None);
    }

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        let ks = KeySpace::new(r"a*b?[c]\d:");
        assert_eq!(
            ks.pattern(),
            format!(r"a\*b\?\[c\]\\d:{}", "?".repeat(HEX_LEN))
        );
    }
}
