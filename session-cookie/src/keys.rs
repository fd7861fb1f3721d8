//! Master secrets, the keys HKDF derives from them, and the key ids that let a sealed
//! value name the key that opens it.

use std::fmt;

use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{Key, XChaCha20Poly1305};
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore;
use session_core::{Error, Result};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The shortest master secret accepted, in bytes. HKDF cannot add entropy, so a short
/// secret would make every derived key as guessable as the secret itself.
pub const MIN_SECRET_LEN: usize = 32;

/// Bytes of a [`KeyId`] in the envelope.
pub const KEY_ID_LEN: usize = 4;

/// HKDF salt: fixed, because the secrets are already uniformly random (RFC 5869 §3.1
/// allows a constant salt); it separates this crate's keys from any other use of the
/// same secret.
const HKDF_SALT: &[u8] = b"session-cookie/v1 hkdf salt";
/// HKDF `info` for the AEAD key.
const INFO_AEAD_KEY: &[u8] = b"session-cookie/v1 xchacha20poly1305 key";
/// HKDF `info` for the key id: a separate output, so publishing the id in every cookie
/// says nothing about the encryption key.
const INFO_KEY_ID: &[u8] = b"session-cookie/v1 key id";

/// A short public name for a secret, carried in clear in every sealed cookie so the
/// store knows which key opens it without trial decryption.
///
/// It is derived from the secret by HKDF, so it reveals nothing about the secret or
/// the encryption key, and it stays the same for the same secret across processes and
/// restarts. Show it in logs to tell which secret a value was sealed with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// The id's bytes as they appear in the envelope.
    pub fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }

    pub(crate) fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        KeyId(bytes)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// A fresh 32-byte master secret from the operating system's CSPRNG, for tools and
/// tests. Keep it out of source control; load it from the environment or a secret
/// store.
pub fn generate_secret() -> [u8; MIN_SECRET_LEN] {
    let mut secret = [0u8; MIN_SECRET_LEN];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// One derived key, ready to seal and open.
pub(crate) struct SealKey {
    pub(crate) id: KeyId,
    // The cipher owns the expanded key and zeroizes it on drop.
    pub(crate) cipher: XChaCha20Poly1305,
}

impl SealKey {
    /// Derives the AEAD key and the key id from one master secret.
    fn derive(secret: &[u8]) -> Result<Self> {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut key = Zeroizing::new([0u8; 32]);
        let mut id = [0u8; KEY_ID_LEN];
        // Both lengths are far below HKDF-SHA256's 8160-byte maximum, so these cannot
        // fail; mapping the error keeps the code free of panics all the same.
        hk.expand(INFO_AEAD_KEY, key.as_mut())
            .and_then(|()| hk.expand(INFO_KEY_ID, &mut id))
            .map_err(|e| Error::Config(format!("key derivation failed: {e}")))?;
        Ok(SealKey {
            id: KeyId(id),
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.as_ref())),
        })
    }
}

/// The keys a store opens with, newest first: the first one also seals.
pub(crate) struct KeyRing {
    current: SealKey,
    /// Older keys, newest first: they open values but never seal.
    retired: Vec<SealKey>,
}

impl KeyRing {
    /// Derives a key per secret, in order. Every secret must be at least
    /// [`MIN_SECRET_LEN`] bytes, and no two may share a key id (which in practice means
    /// the same secret was listed twice).
    pub(crate) fn new<S: AsRef<[u8]>>(secrets: &[S]) -> Result<Self> {
        let mut keys: Vec<SealKey> = Vec::with_capacity(secrets.len());
        for (index, secret) in secrets.iter().enumerate() {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                // Name the position and length only: never echo secret material.
                return Err(Error::Config(format!(
                    "cookie secret #{index} is {} bytes; at least {MIN_SECRET_LEN} random \
                     bytes are required",
                    secret.len()
                )));
            }
            let key = SealKey::derive(secret)?;
            if let Some(earlier) = keys.iter().position(|k| k.id == key.id) {
                return Err(Error::Config(format!(
                    "cookie secrets #{earlier} and #{index} have the same key id {}: \
                     list each secret once",
                    key.id
                )));
            }
            keys.push(key);
        }
        let mut keys = keys.into_iter();
        let current = keys
            .next()
            .ok_or_else(|| Error::Config("the cookie store needs at least one secret".into()))?;
        Ok(KeyRing {
            current,
            retired: keys.collect(),
        })
    }

    /// The key that seals: the first secret's.
    pub(crate) fn current(&self) -> &SealKey {
        &self.current
    }

    fn all(&self) -> impl Iterator<Item = &SealKey> {
        std::iter::once(&self.current).chain(&self.retired)
    }

    /// The key named `id` and its position (0 = current), if the ring has it.
    pub(crate) fn find(&self, id: KeyId) -> Option<(usize, &SealKey)> {
        self.all().enumerate().find(|(_, k)| k.id == id)
    }

    /// Every key id, newest first.
    pub(crate) fn ids(&self) -> Vec<KeyId> {
        self.all().map(|k| k.id).collect()
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.all().map(|k| k.id)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_deterministic_and_separates_secrets() {
        let a = [7u8; 32];
        let b = [8u8; 32];
        let ring_a = KeyRing::new(&[a]).unwrap();
        let ring_a2 = KeyRing::new(&[a]).unwrap();
        let ring_b = KeyRing::new(&[b]).unwrap();
        assert_eq!(ring_a.current().id, ring_a2.current().id);
        assert_ne!(ring_a.current().id, ring_b.current().id);
    }

    #[test]
    fn key_id_is_not_a_prefix_of_the_secret() {
        let secret = generate_secret();
        let ring = KeyRing::new(&[secret]).unwrap();
        assert_ne!(ring.current().id.as_bytes()[..], secret[..KEY_ID_LEN]);
    }

    #[test]
    fn short_secret_is_a_config_error_without_echoing_it() {
        let short = b"0123456789abcdef0123456789abcde"; // 31 bytes
        let Err(Error::Config(message)) = KeyRing::new(&[&short[..]]) else {
            panic!("a 31-byte secret must be refused");
        };
        assert!(message.contains("31 bytes"), "{message}");
        assert!(!message.contains("0123456789"), "{message}");
        assert!(KeyRing::new(&[[0u8; 32]]).is_ok());
    }

    #[test]
    fn empty_list_and_duplicates_are_config_errors() {
        let none: [&[u8]; 0] = [];
        assert!(matches!(KeyRing::new(&none), Err(Error::Config(_))));
        let s = generate_secret();
        assert!(matches!(KeyRing::new(&[s, s]), Err(Error::Config(_))));
    }

    #[test]
    fn find_reports_the_position() {
        let (a, b) = (generate_secret(), generate_secret());
        let ring = KeyRing::new(&[a, b]).unwrap();
        let ids = ring.ids();
        assert_eq!(ring.find(ids[0]).map(|(i, _)| i), Some(0));
        assert_eq!(ring.find(ids[1]).map(|(i, _)| i), Some(1));

        let single = KeyRing::new(&[a]).unwrap();
        let mut other = *single.current().id.as_bytes();
        other[0] ^= 1;
        assert!(single.find(KeyId::from_bytes(other)).is_none());
    }
}
