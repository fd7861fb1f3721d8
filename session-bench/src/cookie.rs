//! `CookieStore` (the session sealed in the cookie) and `MemoryStore`.
//!
//! The cookie store's raw limit is the AEAD alone, on the envelope bytes the store
//! seals: seal = XChaCha20-Poly1305 with a fresh random nonce and the cookie name as
//! associated data, then unpadded URL-safe base64 (create, save and touch all seal);
//! load = base64-decode and open. The store additionally encodes or decodes the
//! envelope, compresses it only when it would not fit the cookie otherwise (by
//! default; no payload of the grid does), derives nothing per call (keys are derived
//! once) and checks the embedded deadline. It cannot revoke, so there is no delete.
//!
//! `MemoryStore` has no I/O and so no raw limit; it is compared with tower-sessions'
//! `MemoryStore` only.

use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use session_cookie::{generate_secret, CookieStore};
use session_core::MemoryStore;

use crate::driver::{Item, Raw, Target};
use crate::measure::{Op, TaskResult};
use crate::BoxResult;

const AAD: &[u8] = b"session";

struct AeadRaw {
    cipher: XChaCha20Poly1305,
}

impl AeadRaw {
    fn seal(&self, bytes: &[u8]) -> TaskResult<String> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: bytes,
                    aad: AAD,
                },
            )
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(24 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }
}

#[async_trait]
impl Raw for AeadRaw {
    fn label(&self, op: Op) -> Option<String> {
        match op {
            Op::Create | Op::Save | Op::Touch => {
                Some("XChaCha20-Poly1305 seal + base64".to_owned())
            }
            Op::Load => Some("base64 + XChaCha20-Poly1305 open".to_owned()),
            Op::Delete => None,
        }
    }

    async fn create(&self, item: &Item) -> TaskResult<String> {
        self.seal(&item.bytes)
    }

    async fn load(&self, handle: &str) -> TaskResult<()> {
        let raw = URL_SAFE_NO_PAD.decode(handle).map_err(|e| e.to_string())?;
        if raw.len() < 24 {
            return Err("short value".into());
        }
        let (nonce, body) = raw.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: AAD,
                },
            )
            .map_err(|e| e.to_string())?;
        std::hint::black_box(plain);
        Ok(())
    }

    async fn save(&self, _handle: &str, item: &Item) -> TaskResult<()> {
        self.seal(&item.bytes).map(drop)
    }

    async fn touch(&self, _handle: &str, item: &Item) -> TaskResult<()> {
        self.seal(&item.bytes).map(drop)
    }

    async fn delete(&self, _handle: &str) -> TaskResult<()> {
        Err("the cookie store has no delete".into())
    }
}

/// The cookie store target, with a fresh random secret.
pub fn target() -> BoxResult<Target> {
    let store = CookieStore::new(generate_secret())?;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|e| e.to_string())?;
    Ok(Target {
        backend: "cookie".into(),
        what: "CookieStore".into(),
        store: Arc::new(store),
        raw: Some(Arc::new(AeadRaw { cipher })),
        raw_async: None,
        cleanup: None,
        commands: None,
    })
}

/// The in-process memory store target (no raw side).
pub fn memory_target() -> Target {
    Target {
        backend: "memory".into(),
        what: "MemoryStore".into(),
        store: Arc::new(MemoryStore::new()),
        raw: None,
        raw_async: None,
        cleanup: None,
        commands: None,
    }
}
