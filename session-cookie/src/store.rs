//! [`CookieStore`]: the session record sealed into the cookie value, and its builder.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use session_core::{
    Capabilities, Clock, Codec, Error, Record, Result, SessionId, SessionStore, ID_BYTES,
};
use zeroize::Zeroizing;

use crate::compress::{deflate, inflate, MAX_INFLATED_LEN};
use crate::keys::{KeyId, KeyRing, KEY_ID_LEN};
use crate::options::CookieOptions;
use crate::seal::{self, FLAG_DEFLATE};
use crate::size::{Limits, BROWSER_COOKIE_LIMIT, DEFAULT_ATTRIBUTE_BUDGET};

/// The cookie name used unless [`CookieStoreBuilder::cookie_name`] sets another; the
/// same default as the HTTP layer's cookie configuration.
pub const DEFAULT_COOKIE_NAME: &str = "session";

/// Sessions kept entirely in the client's cookie, sealed with XChaCha20-Poly1305.
///
/// The cookie value *is* the record (id, data, timestamps, version), encrypted and
/// authenticated under a key derived from the first configured secret. Nothing is kept
/// on the server, so any number of processes share sessions as long as they share the
/// secrets. See the [crate documentation](crate) for the envelope, the size arithmetic
/// and key rotation.
///
/// # A cookie session cannot be revoked
///
/// Logging out removes the cookie from the browser that logs out, but a copy of the
/// value taken earlier (stolen, or simply replayed) **stays valid until the expiry
/// sealed inside it**. `delete` answers [`Error::Unsupported`], and the store declares
/// no server-side revoke. Give cookie sessions a short absolute lifetime
/// ([`Expiry`](session_core::Expiry)), and use a server-side store where a logout must
/// end a session everywhere at once.
///
/// # Capabilities
///
/// No revoke, no enumeration (`count` and `delete_expired` answer `Unsupported`), no
/// compare-and-set: the last response's cookie wins. `max_record_size` is the largest
/// encoded record that fits one cookie even when it does not compress.
///
/// ```
/// use session_cookie::CookieStore;
/// use session_core::SessionStore;
///
/// let store = CookieStore::builder()
///     .secret(session_cookie::generate_secret()) // current: seals and opens
///     .secret([7u8; 32]) // retired: opens only
///     .cookie_name("__Host-session")
///     .build()?;
/// assert!(!store.capabilities().revoke);
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone)]
pub struct CookieStore {
    ring: Arc<KeyRing>,
    cookie_name: Arc<str>,
    clock: Clock,
    compression: Compression,
    limits: Limits,
}

/// When a record body is compressed before sealing.
///
/// The default compresses only a body that would not fit the cookie otherwise: DEFLATE
/// costs far more than sealing (measured at a 2 KiB body: about 50 µs to compress and
/// 15 µs to inflate against about 5 µs to seal or open; see BENCHMARKS.md), and a body
/// that fits anyway gains only header bytes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    /// Only bodies over the record budget, which could not be sealed uncompressed.
    Oversized,
    /// Every body of at least this many bytes.
    From(usize),
    /// Never.
    Never,
}

/// Builds a [`CookieStore`]; everything is checked in [`CookieStoreBuilder::build`].
#[derive(Clone)]
pub struct CookieStoreBuilder {
    secrets: Vec<Zeroizing<Vec<u8>>>,
    cookie_name: String,
    clock: Clock,
    compression: Compression,
    attribute_budget: usize,
}

impl Default for CookieStoreBuilder {
    fn default() -> Self {
        CookieStoreBuilder {
            secrets: Vec::new(),
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            clock: Clock::system(),
            compression: Compression::Oversized,
            attribute_budget: DEFAULT_ATTRIBUTE_BUDGET,
        }
    }
}

impl CookieStoreBuilder {
    /// Adds a master secret: at least [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes
    /// from a CSPRNG. The first secret added seals; every secret opens. To rotate, put
    /// the new secret first and keep the old one after it until every cookie sealed
    /// with it has expired.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.push(Zeroizing::new(secret.as_ref().to_vec()));
        self
    }

    /// Adds several secrets in order, newest first (see [`CookieStoreBuilder::secret`]).
    pub fn secrets<I>(mut self, secrets: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for secret in secrets {
            self = self.secret(secret);
        }
        self
    }

    /// The cookie's name (default [`DEFAULT_COOKIE_NAME`]). It is bound into every
    /// sealed value, so a value issued under one name does not open under another, and
    /// renaming the cookie ends every existing session. It also counts against the
    /// browser's 4096 bytes. Must be an HTTP token.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Where "now" comes from for expiry (default: the system clock).
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Compress record bodies of at least this many bytes; `None` never compresses.
    ///
    /// Without this call only a body over the record budget
    /// ([`CookieStore::max_record_size`]) is compressed: the one case where compressing
    /// decides whether the session fits at all. A threshold below the budget (for
    /// example [`DEFAULT_COMPRESSION_THRESHOLD`](crate::DEFAULT_COMPRESSION_THRESHOLD))
    /// trades CPU for shorter cookies: at a 2 KiB body, about 50 µs more per seal and
    /// 15 µs more per open on the benchmark machine. A compressed body is kept only when
    /// it is smaller. Compression lets repetitive sessions far larger than one cookie
    /// through, but makes the cookie's length depend on its contents: see the crate
    /// docs before storing attacker-chosen text next to secrets.
    pub fn compression_threshold(mut self, threshold: Option<usize>) -> Self {
        self.compression = match threshold {
            Some(bytes) => Compression::From(bytes),
            None => Compression::Never,
        };
        self
    }

    /// Bytes of the browser's 4096 set aside for the cookie's attributes (`Path`,
    /// `Domain`, `Max-Age`, `Expires`, `Secure`, `HttpOnly`, `SameSite` and their
    /// `"; "` separators); default [`DEFAULT_ATTRIBUTE_BUDGET`]. Raise it for a long
    /// `Domain` or `Path`.
    pub fn attribute_budget(mut self, bytes: usize) -> Self {
        self.attribute_budget = bytes;
        self
    }

    /// Checks the configuration and derives the keys.
    ///
    /// [`Error::Config`] when there is no secret, a secret is shorter than
    /// [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN) bytes or listed twice, the cookie
    /// name is not an HTTP token, or name and attribute budget leave less than
    /// [`MIN_RECORD_BUDGET`](crate::MIN_RECORD_BUDGET) bytes for the record.
    pub fn build(self) -> Result<CookieStore> {
        if !is_token(&self.cookie_name) {
            return Err(Error::Config(format!(
                "cookie name {:?} is not an HTTP token",
                self.cookie_name
            )));
        }
        let limits = Limits::new(&self.cookie_name, self.attribute_budget)?;
        let ring = KeyRing::new(&self.secrets)?;
        Ok(CookieStore {
            ring: Arc::new(ring),
            cookie_name: self.cookie_name.into(),
            clock: self.clock,
            compression: self.compression,
            limits,
        })
    }
}

impl fmt::Debug for CookieStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStoreBuilder")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("cookie_name", &self.cookie_name)
            .field("clock", &self.clock)
            .field("compression", &self.compression)
            .field("attribute_budget", &self.attribute_budget)
            .finish()
    }
}

/// RFC 6265 `cookie-name`: an RFC 7230 token (visible ASCII except separators).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// A cookie value that opened, and what the store learnt while opening it.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    record: Record,
    key_id: KeyId,
    current_key: bool,
    compressed: bool,
}

impl Opened {
    /// The session record.
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The session record, by value.
    pub fn into_record(self) -> Record {
        self.record
    }

    /// The id of the key that opened the value.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Whether the value was sealed with a retired key and should be sent again sealed
    /// with the current one. Any `create`, `save` or `touch` of the record does that.
    pub fn needs_reseal(&self) -> bool {
        !self.current_key
    }

    /// Whether the record body was compressed.
    pub fn was_compressed(&self) -> bool {
        self.compressed
    }
}

impl CookieStore {
    /// A builder with the defaults: cookie name [`DEFAULT_COOKIE_NAME`], the system
    /// clock, compression only of bodies that would not fit otherwise, and
    /// [`DEFAULT_ATTRIBUTE_BUDGET`] bytes for attributes. At least one secret is needed.
    pub fn builder() -> CookieStoreBuilder {
        CookieStoreBuilder::default()
    }

    /// A store with one secret and the defaults. Shorthand for
    /// `CookieStore::builder().secret(secret).build()`.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self> {
        Self::builder().secret(secret).build()
    }

    /// A store from a `cookie://` URL (see [`CookieOptions::from_url`]) with its
    /// secrets read from the variable the URL names (default [`COOKIE_SECRET_ENV`](crate::COOKIE_SECRET_ENV)),
    /// newest first, and the other defaults: what `session-any` opens for `cookie://`
    /// when its configuration gives no secrets. An unset variable, an unknown
    /// parameter or a short secret is an [`Error::Config`].
    ///
    /// ```
    /// use session_cookie::CookieStore;
    ///
    /// // Unset: a typed error naming the variable, not a store with no key.
    /// let err = CookieStore::open_url("cookie://?secret_env=DOC_UNSET_SECRET").unwrap_err();
    /// assert!(err.to_string().contains("DOC_UNSET_SECRET"));
    /// ```
    pub fn open_url(url: &str) -> Result<Self> {
        let options = CookieOptions::from_url(url)?;
        let secrets = options.secrets_from_env()?;
        options
            .apply(Self::builder().secrets(secrets.iter().map(String::as_bytes)))
            .build()
    }

    /// The same store on another clock (tests hand it a
    /// [`ManualClock`](session_core::ManualClock)).
    pub fn with_clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// The cookie name bound into sealed values.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The largest record body accepted whatever its contents, in bytes: the
    /// `max_record_size` the store declares.
    pub fn max_record_size(&self) -> usize {
        self.limits.max_record_size
    }

    /// The longest cookie value the store ever emits, in characters. With the cookie
    /// name, `=` and the attribute budget it adds up to at most 4096.
    pub fn max_value_len(&self) -> usize {
        self.limits.max_value_len
    }

    /// The key ids of the configured secrets, newest (sealing) first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.ring.ids()
    }

    /// Opens a cookie value: the record and which key opened it, or `None` for
    /// anything that is not a live value sealed by this store's secrets for this
    /// cookie name (malformed, tampered, sealed with an unknown key or for another
    /// cookie name, or expired).
    ///
    /// [`Error::Corrupt`] only for a value that authenticated but does not decode: it
    /// was sealed by a holder of the secret (another version of this crate, or a bug),
    /// never forged by a client.
    pub fn open(&self, cookie_value: &str) -> Result<Option<Opened>> {
        // Cheap rejection before any decoding: no browser sends a longer value, and a
        // bound here caps the work a request can cause.
        if cookie_value.len() > BROWSER_COOKIE_LIMIT {
            return Ok(None);
        }
        let Some(unsealed) = seal::open(&self.ring, &self.cookie_name, cookie_value) else {
            return Ok(None);
        };
        let Some((id, body)) = unsealed.plaintext.split_first_chunk::<ID_BYTES>() else {
            return Err(Error::Corrupt("sealed session has no id".into()));
        };
        let compressed = unsealed.flags & FLAG_DEFLATE != 0;
        let body = if compressed {
            Cow::Owned(inflate(body, MAX_INFLATED_LEN).ok_or_else(|| {
                Error::Corrupt(format!(
                    "sealed session does not inflate within {MAX_INFLATED_LEN} bytes"
                ))
            })?)
        } else {
            Cow::Borrowed(body)
        };
        let record = Codec::decode(SessionId::from_bytes(*id), &body)?;
        if record.is_expired(self.clock.now()) {
            return Ok(None);
        }
        if unsealed.key_index != 0 {
            tracing::debug!(
                key_id = %unsealed.key_id,
                "session cookie opened with a retired key; the next write or touch re-seals it"
            );
        }
        Ok(Some(Opened {
            record,
            key_id: unsealed.key_id,
            current_key: unsealed.key_index == 0,
            compressed,
        }))
    }

    /// Whether `cookie_value` opens, but with a retired key, so the response should
    /// carry it re-sealed with the current key (see the crate docs on rotation).
    pub fn needs_reseal(&self, cookie_value: &str) -> bool {
        matches!(self.open(cookie_value), Ok(Some(o)) if o.needs_reseal())
    }

    /// Seals `record` with the current key, or refuses it with `TooLarge` before
    /// anything is produced.
    fn seal(&self, record: &Record) -> Result<String> {
        let envelope = Codec::default().encode(record)?;
        let limit = self.limits.max_record_size;
        // Never seal what `open` would refuse to inflate.
        if envelope.len() > MAX_INFLATED_LEN {
            return Err(Error::TooLarge {
                limit,
                size: envelope.len(),
            });
        }
        let compress = match self.compression {
            Compression::Oversized => envelope.len() > limit,
            Compression::From(threshold) => envelope.len() >= threshold,
            Compression::Never => false,
        };
        let (flags, body) = match compress.then(|| deflate(&envelope)).flatten() {
            Some(packed) => (FLAG_DEFLATE, packed),
            None => (0, envelope),
        };
        if body.len() > limit {
            return Err(Error::TooLarge {
                limit,
                size: body.len(),
            });
        }
        let mut plaintext = Zeroizing::new(Vec::with_capacity(ID_BYTES + body.len()));
        plaintext.extend_from_slice(record.id.as_bytes());
        plaintext.extend_from_slice(&body);
        let value = seal::seal(self.ring.current(), &self.cookie_name, flags, &plaintext)?;
        debug_assert!(value.len() <= self.limits.max_value_len);
        Ok(value)
    }

    /// `save` and `touch` never extend a session past its end: a record already
    /// expired by the store's clock is not sealed again.
    fn seal_live(&self, record: &Record) -> Result<String> {
        if record.is_expired(self.clock.now()) {
            return Err(Error::NotFound);
        }
        self.seal(record)
    }
}

impl fmt::Debug for CookieStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStore")
            .field("cookie_name", &self.cookie_name)
            .field("key_ids", &self.ring)
            .field("clock", &self.clock)
            .field("compression", &self.compression)
            .field("max_record_size", &self.limits.max_record_size)
            .field("max_value_len", &self.limits.max_value_len)
            .finish()
    }
}

#[async_trait]
impl SessionStore for CookieStore {
    fn backend(&self) -> &'static str {
        "cookie"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .with_revoke(false)
            .with_self_sealed(true)
            .with_max_record_size(Some(self.limits.max_record_size))
    }

    /// A value sealed with a retired key is re-sealed on the next response, whatever
    /// the touch policy. Called only after `load` opened the value, so its header is
    /// authentic and peeking at the key id (no second decryption) is enough.
    fn needs_refresh(&self, cookie_value: &str) -> bool {
        // 8 base64 characters cover the 6 header bytes: version, key id, flags.
        let Some(head) = cookie_value.get(..8) else {
            return false;
        };
        match URL_SAFE_NO_PAD.decode(head) {
            Ok(bytes) => {
                bytes.get(1..1 + KEY_ID_LEN) != Some(&self.ring.current().id.as_bytes()[..])
            }
            Err(_) => false,
        }
    }

    /// The record sealed in `cookie_value`; `None` for anything malformed, tampered,
    /// foreign or expired (see [`CookieStore::open`]).
    async fn load(&self, cookie_value: &str) -> Result<Option<Record>> {
        Ok(self.open(cookie_value)?.map(Opened::into_record))
    }

    /// Seals the record. There is no shared namespace, so no id can collide.
    async fn create(&self, record: &Record) -> Result<String> {
        self.seal(record)
    }

    /// Seals the new version. Without server state the expected version cannot be
    /// checked: the last response's cookie wins.
    async fn save(&self, record: &Record, _expected_version: u64) -> Result<String> {
        self.seal_live(record)
    }

    /// Re-seals the record with its new deadline (and with the current key). There is
    /// no stored copy to keep: the record given is the session.
    async fn touch(&self, record: &Record) -> Result<String> {
        self.seal_live(record)
    }

    /// Always `Unsupported`: a sealed cookie cannot be revoked before it expires. The
    /// session handle still expires the cookie in the browser that logs out.
    async fn delete(&self, _id: &SessionId) -> Result<()> {
        Err(Error::Unsupported(
            "delete: a cookie session cannot be revoked before it expires",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate_secret;
    use serde_json::json;
    use session_core::{Data, Timestamp};

    fn record() -> Record {
        let mut data = Data::new();
        data.insert("user".into(), json!("ada"));
        let now = Timestamp::from_millis(1_000);
        Record::new(SessionId::generate(), data, now, Timestamp::MAX)
    }

    #[test]
    fn token_names() {
        for good in ["session", "__Host-sid", "a.b_c~d!#$%&'*+^`|"] {
            assert!(is_token(good), "{good}");
        }
        for bad in ["", "a b", "a;b", "a=b", "ä", "a\tb", "(x)", "a,b", "a\"b"] {
            assert!(!is_token(bad), "{bad}");
        }
    }

    #[test]
    fn bad_cookie_name_is_config_error() {
        let result = CookieStore::builder()
            .secret(generate_secret())
            .cookie_name("bad name")
            .build();
        assert!(matches!(result, Err(Error::Config(_))));
    }

    /// A value sealed with the store's own key whose body does not decode cannot come
    /// from a client: it is `Corrupt`, which the middleware logs, not `None`.
    #[test]
    fn authentic_but_undecodable_is_corrupt() {
        let store = CookieStore::new(generate_secret()).unwrap();
        let seal_raw = |flags: u8, plaintext: &[u8]| {
            seal::seal(store.ring.current(), store.cookie_name(), flags, plaintext).unwrap()
        };
        let short = seal_raw(0, &[1u8; ID_BYTES - 1]);
        assert!(matches!(store.open(&short), Err(Error::Corrupt(_))));

        let mut bad_body = record().id.as_bytes().to_vec();
        bad_body.extend_from_slice(b"\x09not a codec envelope");
        assert!(matches!(
            store.open(&seal_raw(0, &bad_body)),
            Err(Error::Corrupt(_))
        ));

        let mut bad_deflate = record().id.as_bytes().to_vec();
        bad_deflate.extend_from_slice(&[0xff; 40]);
        let value = seal_raw(FLAG_DEFLATE, &bad_deflate);
        assert!(matches!(store.open(&value), Err(Error::Corrupt(_))));
    }

    #[test]
    fn debug_shows_no_secret() {
        let secret = [0x41u8; 32]; // "AAAA…"
        let builder = CookieStore::builder().secret(secret);
        let store = builder.clone().build().unwrap();
        for text in [format!("{builder:?}"), format!("{store:?}")] {
            assert!(!text.contains("AAAA"), "{text}");
            assert!(!text.contains("65, 65"), "{text}");
        }
        assert!(format!("{store:?}").contains(&store.key_ids()[0].to_string()));
    }

    /// Only a holder of the secret can seal a value, but what it opens still goes
    /// through session-core's depth-bounded decoder: a record nested 60,000 deep
    /// (deflated, so it fits a cookie and inflates within `MAX_INFLATED_LEN`) is
    /// `Corrupt` on a small stack, not a stack overflow.
    #[test]
    fn a_sealed_record_nested_too_deep_is_corrupt() {
        let store = CookieStore::new(generate_secret()).unwrap();
        let opened = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                let mut envelope = vec![session_core::FORMAT_MSGPACK_V1, 0x95, 1, 0, 0, 0xcf];
                envelope.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
                envelope.extend_from_slice(&[0x81, 0xa1, b'k']);
                envelope.extend(std::iter::repeat_n(0x91, 60_000));
                envelope.push(0xc0);
                assert!(envelope.len() <= MAX_INFLATED_LEN);
                let mut plaintext = SessionId::generate().as_bytes().to_vec();
                plaintext.extend_from_slice(&deflate(&envelope).unwrap());
                let value = seal::seal(
                    store.ring.current(),
                    &store.cookie_name,
                    FLAG_DEFLATE,
                    &plaintext,
                )
                .unwrap();
                assert!(value.len() <= BROWSER_COOKIE_LIMIT);
                store.open(&value).map(|o| o.is_some())
            })
            .unwrap()
            .join()
            .unwrap();
        match opened {
            Err(Error::Corrupt(m)) => assert!(m.contains("nested deeper"), "{m}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn compressed_flag_is_reported() {
        let store = CookieStore::new(generate_secret()).unwrap();
        let small = record();
        let value = store.seal(&small).unwrap();
        assert!(!store.open(&value).unwrap().unwrap().was_compressed());

        let mut big = record();
        big.data
            .insert("text".into(), json!("lorem ipsum ".repeat(400)));
        assert!(Codec::default().encode(&big).unwrap().len() > store.max_record_size());
        let value = store.seal(&big).unwrap();
        let opened = store.open(&value).unwrap().unwrap();
        assert!(opened.was_compressed());
        assert_eq!(opened.into_record(), big);
    }

    /// By default a body that fits the budget is sealed as it is, however well it
    /// would compress; an explicit threshold compresses it, and `None` never does.
    #[test]
    fn only_a_body_over_the_budget_is_compressed_by_default() {
        let mut fits = record();
        fits.data
            .insert("text".into(), json!("lorem ipsum ".repeat(200)));
        let secret = generate_secret();
        let default = CookieStore::new(secret).unwrap();
        let len = Codec::default().encode(&fits).unwrap().len();
        assert!(len > crate::DEFAULT_COMPRESSION_THRESHOLD && len <= default.max_record_size());
        let plain = default.seal(&fits).unwrap();
        assert!(!default.open(&plain).unwrap().unwrap().was_compressed());

        let eager = CookieStore::builder()
            .secret(secret)
            .compression_threshold(Some(crate::DEFAULT_COMPRESSION_THRESHOLD))
            .build()
            .unwrap();
        let packed = eager.seal(&fits).unwrap();
        assert!(
            packed.len() < plain.len() / 2,
            "{} {}",
            packed.len(),
            plain.len()
        );
        // Both open under either store: the flag is in the sealed header.
        for value in [&plain, &packed] {
            assert_eq!(default.open(value).unwrap().unwrap().into_record(), fits);
            assert_eq!(eager.open(value).unwrap().unwrap().into_record(), fits);
        }

        let never = CookieStore::builder()
            .secret(secret)
            .compression_threshold(None)
            .build()
            .unwrap();
        let mut over = record();
        over.data
            .insert("text".into(), json!("lorem ipsum ".repeat(400)));
        assert!(matches!(never.seal(&over), Err(Error::TooLarge { .. })));
        assert!(default.seal(&over).is_ok());
    }
}
