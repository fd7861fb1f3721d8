//! Session ids and the storage keys server stores file records under (contract rule 7).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of entropy in an id.
pub const ID_BYTES: usize = 32;
/// Length of an id's text form: 32 bytes in unpadded URL-safe base64.
pub const ID_TEXT_LEN: usize = 43;

/// A session id: 256 bits from the operating system's CSPRNG.
///
/// Its text form is 43 characters of unpadded URL-safe base64. Parsing checks length
/// and charset before decoding, and rejects non-canonical encodings, so every id has
/// exactly one text form. `Debug` shows only a prefix: ids are bearer secrets and
/// should not end up whole in logs.
#[derive(Clone, Copy, Eq)]
pub struct SessionId {
    bytes: [u8; ID_BYTES],
    /// Hashed once, where the id is made: a request's load and save would otherwise
    /// hash the same id again on every store call.
    key: StorageKey,
}

/// Why a string is not a session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidId {
    /// Not exactly [`ID_TEXT_LEN`] characters.
    #[error("a session id has {ID_TEXT_LEN} characters")]
    Length,
    /// A character outside `A-Z a-z 0-9 - _`.
    #[error("a session id uses only URL-safe base64 characters")]
    Charset,
    /// Right length and charset but not the canonical encoding of 32 bytes.
    #[error("a session id is the canonical base64 of 32 bytes")]
    Encoding,
}

impl SessionId {
    /// A fresh random id from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        OsRng.fill_bytes(&mut bytes);
        SessionId::from_bytes(bytes)
    }

    /// Parses the text form, validating before decoding (no allocation for junk).
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        if text.len() != ID_TEXT_LEN {
            return Err(InvalidId::Length);
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(InvalidId::Charset);
        }
        let mut bytes = [0u8; ID_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(ID_BYTES) => Ok(SessionId::from_bytes(bytes)),
            _ => Err(InvalidId::Encoding),
        }
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.bytes
    }

    /// Builds an id from raw bytes (for stores that keep ids in binary form). Like
    /// every way of making an id, this hashes its [`storage_key`](Self::storage_key)
    /// once, here.
    pub fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"session-core/storage-key/v1\0")
            .chain_update(bytes)
            .finalize();
        SessionId {
            bytes,
            key: StorageKey(digest.into()),
        }
    }

    /// The key a server store files this session under: SHA-256 of the id.
    ///
    /// A dump of the store then holds no replayable cookie, and lookups compare
    /// hashes, so they leak nothing useful through timing.
    pub fn storage_key(&self) -> StorageKey {
        self.key
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; ID_TEXT_LEN];
        // 32 bytes always encode to exactly 43 characters.
        match URL_SAFE_NO_PAD.encode_slice(self.bytes, &mut buf) {
            Ok(_) => f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_string();
        write!(f, "SessionId({}…)", &text[..6])
    }
}

impl FromStr for SessionId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionId::parse(s)
    }
}

/// SHA-256 of a session id: the only key a server store may use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey([u8; 32]);

impl StorageKey {
    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from its 32 digest bytes, for stores that keep keys in binary form and
    /// hand them back from a scan. Never derive one from anything but a stored key or
    /// [`SessionId::storage_key`].
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        StorageKey(bytes)
    }

    /// Lower-case hex, 64 characters: safe as a file name, SQL value or cache key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form back (for tools that list a store).
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(StorageKey(out))
    }
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageKey({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_roundtrip() {
        let id = SessionId::generate();
        let text = id.to_string();
        assert_eq!(text.len(), ID_TEXT_LEN);
        assert_eq!(SessionId::parse(&text), Ok(id));
        assert_ne!(SessionId::generate(), id);
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(SessionId::parse(""), Err(InvalidId::Length));
        assert_eq!(
            SessionId::parse(&"a".repeat(10_000)),
            Err(InvalidId::Length)
        );
        let slashy = format!("../{}", "a".repeat(ID_TEXT_LEN - 3));
        assert_eq!(SessionId::parse(&slashy), Err(InvalidId::Charset));
        let nul = format!("{}\0", "a".repeat(ID_TEXT_LEN - 1));
        assert_eq!(SessionId::parse(&nul), Err(InvalidId::Charset));
        // Right charset, but the last character carries non-zero padding bits.
        let noncanonical = format!("{}B", "A".repeat(ID_TEXT_LEN - 1));
        assert_eq!(SessionId::parse(&noncanonical), Err(InvalidId::Encoding));
    }

    #[test]
    fn storage_key_is_not_the_id() {
        let id = SessionId::generate();
        let key = id.storage_key();
        assert_ne!(key.as_bytes(), id.as_bytes());
        assert_eq!(key, id.storage_key());
        assert_eq!(StorageKey::from_hex(&key.to_hex()), Some(key));
        assert!(!format!("{id:?}").contains(&id.to_string()));
    }

    /// Stored records are filed under this derivation: it must never change, however
    /// the id computes it. The key is the same whichever way the id was made.
    #[test]
    fn storage_key_is_the_tagged_sha256_of_the_id_however_it_was_made() {
        let id = SessionId::generate();
        let expected: [u8; 32] = Sha256::new()
            .chain_update(b"session-core/storage-key/v1\0")
            .chain_update(id.as_bytes())
            .finalize()
            .into();
        assert_eq!(id.storage_key().as_bytes(), &expected);
        let parsed = SessionId::parse(&id.to_string()).unwrap();
        assert_eq!(parsed.storage_key(), id.storage_key());
        assert_eq!(
            SessionId::from_bytes(*id.as_bytes()).storage_key(),
            id.storage_key()
        );
        assert_eq!(
            SessionId::from_bytes([0; ID_BYTES]).storage_key().to_hex(),
            "0c24e5ff671c8b8c69cd5df622285b47f3fcf6d0043c4cd55361be75a7eec036"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = SessionId::parse(&s);
        }

        #[test]
        fn parse_accepts_only_canonical(bytes in proptest::array::uniform32(any::<u8>())) {
            let id = SessionId::from_bytes(bytes);
            prop_assert_eq!(SessionId::parse(&id.to_string()), Ok(id));
        }
    }
}
