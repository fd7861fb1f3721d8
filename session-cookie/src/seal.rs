//! The sealed envelope: XChaCha20-Poly1305 over the plaintext, with a clear header
//! that names the format and the key, and the cookie name bound as associated data.
//!
//! ```text
//! offset  bytes  field
//! 0       1      envelope version: 0x01 = XChaCha20-Poly1305, HKDF-SHA256 keys
//! 1       4      key id (see KeyId)
//! 5       1      flags: bit 0 = body is raw-DEFLATE compressed; other bits must be 0
//! 6       24     nonce, fresh from the OS CSPRNG for every seal
//! 30      n      ciphertext of the n-byte plaintext
//! 30+n    16     Poly1305 tag
//! ```
//!
//! Associated data: `"session-cookie/v1 aad\0" ‖ header (bytes 0..6) ‖ cookie name`.
//! The header is authenticated, so neither the compression flag nor the key id can be
//! altered, and a value sealed for one cookie name does not open under another. The
//! header has a fixed length and the name comes last, so the concatenation is
//! unambiguous.
//!
//! XChaCha20's 192-bit nonce is what makes random nonces safe here: with AES-GCM's
//! 96-bit nonce, one key could seal only about 2³² values before a repeat became a
//! real risk, and a busy site seals a cookie on every touch.
//!
//! The text form is unpadded URL-safe base64, which needs no quoting in a cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Tag, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use session_core::{Error, Result};

use crate::keys::{KeyId, KeyRing, SealKey, KEY_ID_LEN};

/// Envelope version 1.
pub(crate) const VERSION_1: u8 = 0x01;
/// Flag bit: the body is raw-DEFLATE compressed.
pub(crate) const FLAG_DEFLATE: u8 = 0x01;
/// Flag bits version 1 defines; a value with any other bit set does not open, so the
/// bits stay free for a later version.
const KNOWN_FLAGS: u8 = FLAG_DEFLATE;

/// Version, key id, flags.
pub(crate) const HEADER_LEN: usize = 1 + KEY_ID_LEN + 1;
/// XChaCha20 nonce.
pub(crate) const NONCE_LEN: usize = 24;
/// Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes the envelope adds to its plaintext.
pub(crate) const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

const AAD_DOMAIN: &[u8] = b"session-cookie/v1 aad\0";

fn aad(header: &[u8], cookie_name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + header.len() + cookie_name.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(header);
    aad.extend_from_slice(cookie_name.as_bytes());
    aad
}

/// Seals `plaintext` with `key` for the cookie `cookie_name`; returns the text form.
pub(crate) fn seal(
    key: &SealKey,
    cookie_name: &str,
    flags: u8,
    plaintext: &[u8],
) -> Result<String> {
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(VERSION_1);
    out.extend_from_slice(key.id.as_bytes());
    out.push(flags);
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let (header, rest) = out.split_at_mut(HEADER_LEN);
    let aad = aad(header, cookie_name);
    let (_, body) = rest.split_at_mut(NONCE_LEN);
    let tag = key
        .cipher
        .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, body)
        // Only reachable with a plaintext of hundreds of gigabytes.
        .map_err(|_| Error::Encode("the session does not seal".into()))?;
    out.extend_from_slice(&tag);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

/// A value that opened: which key, which flags, and the plaintext.
#[derive(Debug)]
pub(crate) struct Unsealed {
    /// Position of the key in the ring: 0 is the current key.
    pub(crate) key_index: usize,
    pub(crate) key_id: KeyId,
    pub(crate) flags: u8,
    pub(crate) plaintext: Vec<u8>,
}

/// Opens the text form `value` sealed for `cookie_name` with any key of `ring`.
/// Anything that is not such a value (bad base64, unknown version, flag or key,
/// failed tag) is `None`. The caller bounds `value`'s length.
pub(crate) fn open(ring: &KeyRing, cookie_name: &str, value: &str) -> Option<Unsealed> {
    // The base64 engine is strict: it refuses padding, characters outside the URL-safe
    // alphabet and non-zero trailing bits, so each sealed value has one text form.
    let sealed = URL_SAFE_NO_PAD.decode(value).ok()?;
    if sealed.len() < OVERHEAD {
        return None;
    }
    let (header, rest) = sealed.split_at(HEADER_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let [version, id @ .., flags] = header else {
        return None;
    };
    if *version != VERSION_1 || flags & !KNOWN_FLAGS != 0 {
        return None;
    }
    let id = KeyId::from_bytes(<[u8; KEY_ID_LEN]>::try_from(id).ok()?);
    let (key_index, key) = ring.find(id)?;
    let mut plaintext = ciphertext.to_vec();
    key.cipher
        .decrypt_in_place_detached(
            XNonce::from_slice(nonce),
            &aad(header, cookie_name),
            &mut plaintext,
            Tag::from_slice(tag),
        )
        .ok()?;
    Some(Unsealed {
        key_index,
        key_id: id,
        flags: *flags,
        plaintext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_secret;

    fn ring() -> KeyRing {
        KeyRing::new(&[generate_secret()]).unwrap()
    }

    fn raw(value: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(value).unwrap()
    }

    #[test]
    fn roundtrip_and_layout() {
        let ring = ring();
        let value = seal(ring.current(), "sid", FLAG_DEFLATE, b"hello").unwrap();
        let bytes = raw(&value);
        assert_eq!(bytes.len(), OVERHEAD + 5);
        assert_eq!(bytes[0], VERSION_1);
        assert_eq!(&bytes[1..5], ring.current().id.as_bytes());
        assert_eq!(bytes[5], FLAG_DEFLATE);
        assert!(!bytes.windows(5).any(|w| w == b"hello"));
        let opened = open(&ring, "sid", &value).unwrap();
        assert_eq!(opened.plaintext, b"hello");
        assert_eq!(opened.flags, FLAG_DEFLATE);
        assert_eq!(opened.key_index, 0);
        assert_eq!(opened.key_id, ring.current().id);
    }

    #[test]
    fn empty_plaintext_roundtrips() {
        let ring = ring();
        let value = seal(ring.current(), "sid", 0, b"").unwrap();
        assert_eq!(open(&ring, "sid", &value).unwrap().plaintext, b"");
    }

    #[test]
    fn nonces_are_fresh() {
        let ring = ring();
        let a = raw(&seal(ring.current(), "sid", 0, b"same").unwrap());
        let b = raw(&seal(ring.current(), "sid", 0, b"same").unwrap());
        assert_ne!(
            a[HEADER_LEN..HEADER_LEN + NONCE_LEN],
            b[HEADER_LEN..HEADER_LEN + NONCE_LEN]
        );
        assert_ne!(a, b);
    }

    /// A header edit that a valid tag would otherwise survive: the header is in the
    /// associated data, so it cannot be changed.
    #[test]
    fn header_is_authenticated() {
        let ring = ring();
        let value = seal(ring.current(), "sid", 0, b"payload").unwrap();
        let mut bytes = raw(&value);
        bytes[5] = FLAG_DEFLATE;
        assert!(open(&ring, "sid", &URL_SAFE_NO_PAD.encode(&bytes)).is_none());
    }

    #[test]
    fn unknown_version_and_reserved_flags_do_not_open() {
        let ring = ring();
        let value = seal(ring.current(), "sid", 0x80, b"payload").unwrap();
        assert!(open(&ring, "sid", &value).is_none(), "reserved flag bit");
        let mut bytes = raw(&seal(ring.current(), "sid", 0, b"payload").unwrap());
        bytes[0] = 0x02;
        assert!(open(&ring, "sid", &URL_SAFE_NO_PAD.encode(&bytes)).is_none());
    }

    #[test]
    fn cookie_name_is_bound() {
        let ring = ring();
        let value = seal(ring.current(), "a", 0, b"payload").unwrap();
        assert!(open(&ring, "a", &value).is_some());
        assert!(open(&ring, "b", &value).is_none());
        assert!(open(&ring, "a ", &value).is_none());
    }

    #[test]
    fn short_inputs_do_not_open() {
        let ring = ring();
        let value = seal(ring.current(), "sid", 0, b"").unwrap();
        for cut in 0..value.len() {
            assert!(open(&ring, "sid", &value[..cut]).is_none(), "cut {cut}");
        }
    }
}
