//! HMAC-SHA256 signatures on the id cookie, with key rotation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use session_core::{Error, Result};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Shortest accepted signing secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// Separator between the value and its signature; not in the base64url alphabet.
const SEP: char = '.';
/// Length of a base64url-encoded HMAC-SHA256 tag.
const TAG_TEXT_LEN: usize = 43;

/// The secrets that sign session cookies: the first signs, all verify. Rotate by
/// putting a new secret first and keeping the old ones until their cookies expire.
#[derive(Clone)]
pub struct SigningKeys {
    keys: Vec<HmacSha256>,
}

/// How an incoming cookie's signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Signed with the newest key.
    Current(String),
    /// Signed with an older key: valid, but to be re-signed on the response.
    Rotated(String),
}

impl SigningKeys {
    /// Keys from secrets, newest first. Each must be at least [`MIN_SECRET_LEN`] bytes.
    pub fn new<I, K>(secrets: I) -> Result<Self>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let mut keys = Vec::new();
        for (i, secret) in secrets.into_iter().enumerate() {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_LEN {
                return Err(Error::Config(format!(
                    "signing secret #{i} has {} bytes; at least {MIN_SECRET_LEN} are required",
                    secret.len()
                )));
            }
            let mac = HmacSha256::new_from_slice(secret)
                .map_err(|e| Error::Config(format!("signing secret #{i}: {e}")))?;
            keys.push(mac);
        }
        if keys.is_empty() {
            return Err(Error::Config(
                "at least one signing secret is required".into(),
            ));
        }
        Ok(SigningKeys { keys })
    }

    /// One key of random bytes from the operating system's generator, for
    /// [`HttpSessions::development`](crate::HttpSessions::development): it exists in
    /// this process only.
    pub(crate) fn random() -> Self {
        // A full HMAC-SHA256 block of key (64 bytes, above MIN_SECRET_LEN); this
        // constructor takes the key by type, so there is no length error to handle.
        let mut key = hmac::digest::Key::<HmacSha256>::default();
        OsRng.fill_bytes(&mut key);
        SigningKeys {
            keys: vec![<HmacSha256 as hmac::digest::KeyInit>::new(&key)],
        }
    }

    /// `value.signature`, signed with the newest key. The cookie name is part of the
    /// signed message, so a value cannot be moved to another cookie.
    pub fn sign(&self, name: &str, value: &str) -> String {
        let tag = Self::mac(&self.keys[0], name, value)
            .finalize()
            .into_bytes();
        format!("{value}{SEP}{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The value inside a signed cookie, if any key's signature matches (in constant
    /// time). Malformed input is `None`, never a panic.
    pub fn verify(&self, name: &str, signed: &str) -> Option<Verified> {
        let (value, tag_text) = signed.rsplit_once(SEP)?;
        if tag_text.len() != TAG_TEXT_LEN {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag_text).ok()?;
        for (i, key) in self.keys.iter().enumerate() {
            if Self::mac(key, name, value).verify_slice(&tag).is_ok() {
                let value = value.to_owned();
                return Some(if i == 0 {
                    Verified::Current(value)
                } else {
                    Verified::Rotated(value)
                });
            }
        }
        None
    }

    fn mac(key: &HmacSha256, name: &str, value: &str) -> HmacSha256 {
        let mut mac = key.clone();
        // Length-prefix the name so ("ab", "c") and ("a", "bc") sign differently.
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
        mac
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeys({} keys)", self.keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"0123456789abcdef0123456789abcdef";
    const B: &[u8] = b"fedcba9876543210fedcba9876543210";

    #[test]
    fn sign_and_verify() {
        let keys = SigningKeys::new([A]).unwrap();
        let signed = keys.sign("sid", "value");
        assert_eq!(
            keys.verify("sid", &signed),
            Some(Verified::Current("value".into()))
        );
        assert_eq!(keys.verify("other", &signed), None);
    }

    #[test]
    fn rotation() {
        let old = SigningKeys::new([A]).unwrap();
        let rotated = SigningKeys::new([B, A]).unwrap();
        let signed = old.sign("sid", "v");
        assert_eq!(
            rotated.verify("sid", &signed),
            Some(Verified::Rotated("v".into()))
        );
        let resigned = rotated.sign("sid", "v");
        assert_eq!(
            rotated.verify("sid", &resigned),
            Some(Verified::Current("v".into()))
        );
        assert_eq!(SigningKeys::new([B]).unwrap().verify("sid", &signed), None);
    }

    #[test]
    fn every_bit_flip_fails() {
        let keys = SigningKeys::new([A]).unwrap();
        let signed = keys.sign("sid", "abcdefghij");
        let bytes = signed.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.to_vec();
                b[i] ^= 1 << bit;
                if let Ok(s) = String::from_utf8(b) {
                    assert_eq!(keys.verify("sid", &s), None, "flip byte {i} bit {bit}");
                }
            }
        }
    }

    #[test]
    fn junk_is_none() {
        let keys = SigningKeys::new([A]).unwrap();
        for junk in ["", ".", "..", "a.b", &"x".repeat(10_000), "v.%%%", "\0.\0"] {
            assert_eq!(keys.verify("sid", junk), None);
        }
    }

    #[test]
    fn random_keys_sign_and_differ() {
        let (a, b) = (SigningKeys::random(), SigningKeys::random());
        let signed = a.sign("sid", "v");
        assert_eq!(
            a.verify("sid", &signed),
            Some(Verified::Current("v".into()))
        );
        assert_eq!(b.verify("sid", &signed), None);
    }

    #[test]
    fn short_secret_is_config_error() {
        assert!(matches!(
            SigningKeys::new([b"short"]),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            SigningKeys::new(Vec::<Vec<u8>>::new()),
            Err(Error::Config(_))
        ));
    }
}
