//! How the session token travels: in a cookie (browsers) or in a request and response
//! header (API and mobile clients), and which headers the layer reads and writes for
//! each.

use cookie::Cookie;
use http::header::{self, COOKIE, SET_COOKIE};
use http::{HeaderName, HeaderValue};
use session_core::{CookieChange, CookieLifetime, Error, Outcome, Result, Timestamp};

use crate::signing::{SigningKeys, Verified};
use crate::{CookieConfig, RequestHeaders};

/// Where the session token is read from a request and sent on the response. One per
/// app (per [`HttpSessions`](crate::HttpSessions)), never both: in header mode no
/// `Set-Cookie` is sent and the `Cookie` header is ignored; in cookie mode every token
/// header is ignored.
///
/// ```
/// use http::HeaderName;
/// use session_core::MemoryStore;
/// use session_http::{HttpSessions, SigningKeys, Transport};
///
/// let keys = SigningKeys::new([[7u8; 32]])?;
/// let api = HttpSessions::builder(MemoryStore::new())
///     .keys(keys)
///     .transport(Transport::Header(HeaderName::from_static("x-session-token")))
///     .build()?;
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Transport {
    /// The token is the session cookie ([`CookieConfig`]): read from `Cookie`, sent
    /// with `Set-Cookie`. The default, and what browsers need.
    #[default]
    Cookie,
    /// The token travels in this header, for clients that keep it themselves (mobile
    /// apps, API clients). The request's token is read from the header; the response
    /// carries the header with the new token whenever the session is created, its id
    /// is cycled or its token is re-signed after a key rotation, and with an **empty
    /// value** when the session is deleted or the token named no live session: the
    /// client should then forget its token. A request whose header is empty counts as
    /// sending no token. A response without the header means "keep the token you
    /// have".
    ///
    /// The token is signed like the cookie value (same [`SigningKeys`], same
    /// rotation), with the header's name in the signed message, so a token is not
    /// accepted as a cookie of another layer or the reverse. It has no expiry
    /// attribute: the server ends the session at its deadline.
    Header(HeaderName),
}

/// Headers a token header must not be: ones the layer itself reads or writes, ones
/// proxies remove on the way (hop-by-hop), and ones that frame the message.
const RESERVED: &[HeaderName] = &[
    COOKIE,
    SET_COOKIE,
    header::VARY,
    header::CACHE_CONTROL,
    header::RETRY_AFTER,
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::CONTENT_ENCODING,
];

impl Transport {
    /// The token header named `name`, checked: `Err(Config)` for a name that is not
    /// an HTTP header name or is one the token cannot use (`cookie`, `set-cookie`,
    /// `vary`, hop-by-hop and message-framing headers).
    pub(crate) fn header(name: &str) -> Result<Transport> {
        let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::Config(format!(
                "session token header {name:?} is not an HTTP header name"
            ))
        })?;
        let transport = Transport::Header(parsed);
        transport.validate()?;
        Ok(transport)
    }

    /// Refuses a token header the layer cannot use; see [`Transport::header`].
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Transport::Cookie => Ok(()),
            Transport::Header(name) if RESERVED.contains(name) || is_hop_by_hop(name) => {
                Err(Error::Config(format!(
                    "the session token cannot travel in the {name} header: the layer or \
                     the HTTP connection itself uses it; choose a name such as \
                     x-session-token"
                )))
            }
            Transport::Header(_) => Ok(()),
        }
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(name.as_str(), "keep-alive" | "proxy-connection")
}

/// The session token a request carried, after signature checks.
#[derive(Debug, Default)]
pub(crate) struct Incoming {
    pub(crate) value: Option<String>,
    /// Signed with an older key: re-sign on this response.
    pub(crate) rotated: bool,
    /// A token came, but no key verifies it (tampered, or signed with a retired key):
    /// expire it unless a new session replaces it.
    pub(crate) invalid: bool,
    /// The token exactly as the client sent it, when the newest key signed it: a
    /// response re-sending the same value sends these bytes instead of computing the
    /// same HMAC again (a third of the layer's hashing on a request that writes).
    pub(crate) signed: Option<String>,
}

/// What the response tells the client about its token, whatever carries it.
#[derive(Debug, PartialEq, Eq)]
enum Emit {
    Nothing,
    /// This value (unsigned yet), with `Max-Age` up to `expires_at` when `persistent`.
    Token {
        value: String,
        expires_at: Option<Timestamp>,
        persistent: bool,
    },
    Remove,
}

/// The token settings of one layer: how it travels, and how it is signed.
#[derive(Clone)]
pub(crate) struct TokenWire {
    pub(crate) transport: Transport,
    pub(crate) cookie: CookieConfig,
    /// `None` for stores that seal their own values.
    pub(crate) keys: Option<SigningKeys>,
}

/// The most a browser keeps for one cookie, name and attributes included (RFC 6265
/// section 6.1 minimum, and what every major browser enforces).
pub const MAX_COOKIE_BYTES: usize = 4096;

impl TokenWire {
    /// The name the token is signed under: the cookie's, or the header's.
    fn name(&self) -> &str {
        match &self.transport {
            Transport::Cookie => &self.cookie.name,
            Transport::Header(name) => name.as_str(),
        }
    }

    /// What the response varies on whenever the session was read or the token sent.
    pub(crate) fn vary(&self) -> HeaderValue {
        match &self.transport {
            Transport::Cookie => HeaderValue::from_static("Cookie"),
            Transport::Header(name) => HeaderValue::from(name.clone()),
        }
    }

    /// The request's token, from the transport this layer uses and nowhere else.
    pub(crate) fn read(&self, headers: &impl RequestHeaders) -> Incoming {
        match &self.transport {
            Transport::Cookie => {
                let name = self.cookie.name.as_str();
                // Lossy: another app's cookie with non-ASCII bytes must not hide ours.
                // Borrowed, not copied, when the header is valid UTF-8 (nearly always),
                // and checked by `from_utf8` first, whose ASCII fast path is several
                // times cheaper than the lossy decoder's walk.
                let texts: Vec<std::borrow::Cow<'_, str>> = headers
                    .header_values(&COOKIE)
                    .map(|bytes| match std::str::from_utf8(bytes) {
                        Ok(text) => std::borrow::Cow::Borrowed(text),
                        Err(_) => String::from_utf8_lossy(bytes),
                    })
                    .collect();
                let values = texts
                    .iter()
                    .flat_map(|t| Cookie::split_parse(t.as_ref()))
                    .filter_map(|c| c.ok())
                    .filter(|c| c.name() == name)
                    .map(|c| c.value().to_owned());
                self.first_verified(values)
            }
            Transport::Header(name) => {
                // An empty value is what the layer sends to say "forget your token";
                // a client that echoes it back sent no token.
                let values = headers
                    .header_values(name)
                    .filter(|v| !v.is_empty())
                    .map(|v| String::from_utf8_lossy(v).into_owned());
                self.first_verified(values)
            }
        }
    }

    /// The first candidate any key verifies; `invalid` when there were candidates
    /// and none did.
    fn first_verified(&self, candidates: impl Iterator<Item = String>) -> Incoming {
        let name = self.name();
        let mut seen = false;
        for raw in candidates {
            seen = true;
            let Some(keys) = &self.keys else {
                return Incoming {
                    value: Some(raw),
                    ..Incoming::default()
                };
            };
            match keys.verify(name, &raw) {
                Some(Verified::Current(v)) => {
                    return Incoming {
                        value: Some(v),
                        signed: Some(raw),
                        ..Incoming::default()
                    }
                }
                Some(Verified::Rotated(v)) => {
                    return Incoming {
                        value: Some(v),
                        rotated: true,
                        ..Incoming::default()
                    }
                }
                None => {
                    tracing::debug!("ignoring a session token whose signature does not verify")
                }
            }
        }
        Incoming {
            invalid: seen,
            ..Incoming::default()
        }
    }

    /// The header this outcome calls for (`Set-Cookie`, or the token header), if any.
    pub(crate) fn response_header(
        &self,
        outcome: &Outcome,
        incoming: &Incoming,
        now: Timestamp,
    ) -> Result<Option<(HeaderName, HeaderValue)>> {
        match (self.emit(outcome, incoming), &self.transport) {
            (Emit::Nothing, _) => Ok(None),
            (Emit::Remove, Transport::Cookie) => {
                let mut c = self.base_cookie(String::new());
                c.make_removal();
                Ok(Some((SET_COOKIE, cookie_value(c)?)))
            }
            (Emit::Remove, Transport::Header(name)) => {
                Ok(Some((name.clone(), HeaderValue::from_static(""))))
            }
            (
                Emit::Token {
                    value,
                    expires_at,
                    persistent,
                },
                Transport::Cookie,
            ) => {
                let mut c = self.base_cookie(self.sign(&value, incoming));
                if let (true, Some(deadline)) = (persistent, expires_at) {
                    let secs = deadline.since(now).as_secs();
                    c.set_max_age(cookie::time::Duration::seconds(
                        i64::try_from(secs).unwrap_or(i64::MAX),
                    ));
                }
                Ok(Some((SET_COOKIE, cookie_value(c)?)))
            }
            (Emit::Token { value, .. }, Transport::Header(name)) => {
                let value = HeaderValue::from_str(&self.sign(&value, incoming)).map_err(|e| {
                    Error::Config(format!("session token does not fit in a header: {e}"))
                })?;
                Ok(Some((name.clone(), value)))
            }
        }
    }

    /// The decision behind [`TokenWire::response_header`], the same for both
    /// transports except for what a cookie's `Max-Age` needs.
    fn emit(&self, outcome: &Outcome, incoming: &Incoming) -> Emit {
        // The session's own choice (remember-me, `set_expiry`) wins over the layer's.
        let persistent = match outcome.lifetime {
            Some(lifetime) => lifetime == CookieLifetime::Persistent,
            None => self.cookie.persistent,
        };
        let token = |value: &str, expires_at| Emit::Token {
            value: value.to_owned(),
            expires_at,
            persistent,
        };
        match &outcome.cookie {
            CookieChange::Set(v) => {
                let same = incoming.value.as_deref() == Some(v.as_str());
                // A cookie's unchanged value is re-sent to move its Max-Age, and, when
                // the session chose its lifetime, in case it just switched from a
                // persistent cookie to a browser-session one. A header token has no
                // attributes: only a new value or a new signature is news.
                let refresh = matches!(self.transport, Transport::Cookie)
                    && (persistent || outcome.lifetime.is_some());
                if same && !incoming.rotated && !refresh {
                    return Emit::Nothing;
                }
                token(v, outcome.expires_at)
            }
            CookieChange::Remove => Emit::Remove,
            CookieChange::Unchanged => {
                match (&incoming.value, incoming.rotated, outcome.expires_at) {
                    (Some(v), true, Some(deadline)) => token(v, Some(deadline)),
                    _ if incoming.invalid => Emit::Remove,
                    _ => Emit::Nothing,
                }
            }
        }
    }

    /// `value` signed with the newest key: the client's own bytes when it sent this
    /// value signed so (HMAC is deterministic, so they are what signing would give).
    fn sign(&self, value: &str, incoming: &Incoming) -> String {
        match (&self.keys, &incoming.signed) {
            (Some(_), Some(signed)) if incoming.value.as_deref() == Some(value) => signed.clone(),
            (Some(keys), _) => keys.sign(self.name(), value),
            (None, _) => value.to_owned(),
        }
    }

    fn base_cookie(&self, value: String) -> Cookie<'static> {
        let cfg = &self.cookie;
        let mut c = Cookie::new(cfg.name.clone(), value);
        c.set_path(cfg.path.clone());
        if let Some(domain) = &cfg.domain {
            c.set_domain(domain.clone());
        }
        c.set_secure(cfg.secure);
        c.set_http_only(cfg.http_only);
        c.set_same_site(cfg.same_site.to_cookie());
        c
    }
}

fn cookie_value(c: Cookie<'static>) -> Result<HeaderValue> {
    let text = c.to_string();
    // A browser silently drops a larger cookie; refuse loudly instead.
    if text.len() > MAX_COOKIE_BYTES {
        return Err(Error::TooLarge {
            limit: MAX_COOKIE_BYTES,
            size: text.len(),
        });
    }
    HeaderValue::from_str(&text)
        .map_err(|e| Error::Config(format!("cookie does not fit in a header: {e}")))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    fn wire(persistent: bool) -> TokenWire {
        TokenWire {
            transport: Transport::Cookie,
            cookie: CookieConfig::default().with_persistent(persistent),
            keys: None,
        }
    }

    fn outcome(cookie: CookieChange, lifetime: Option<CookieLifetime>) -> Outcome {
        Outcome {
            cookie,
            expires_at: Some(NOW.saturating_add(Duration::from_secs(3600))),
            lifetime,
        }
    }

    fn set_cookie(w: &TokenWire, o: &Outcome, incoming: &Incoming) -> Option<String> {
        w.response_header(o, incoming, NOW)
            .unwrap()
            .map(|(name, value)| {
                assert_eq!(name, SET_COOKIE);
                value.to_str().unwrap().to_owned()
            })
    }

    fn carrying(value: &str) -> Incoming {
        Incoming {
            value: Some(value.into()),
            ..Incoming::default()
        }
    }

    #[test]
    fn the_sessions_lifetime_wins_over_the_layers_default() {
        let set = CookieChange::Set("v".into());
        for layer_persistent in [true, false] {
            let w = wire(layer_persistent);
            let fresh = Incoming::default();
            let persistent = set_cookie(
                &w,
                &outcome(set.clone(), Some(CookieLifetime::Persistent)),
                &fresh,
            )
            .unwrap();
            assert!(persistent.contains("Max-Age=3600"), "{persistent}");
            let closing = set_cookie(
                &w,
                &outcome(set.clone(), Some(CookieLifetime::BrowserSession)),
                &fresh,
            )
            .unwrap();
            assert!(!closing.contains("Max-Age"), "{closing}");
            assert!(!closing.contains("Expires"), "{closing}");
        }
    }

    #[test]
    fn no_choice_means_the_layers_default() {
        let set = CookieChange::Set("v".into());
        let fresh = Incoming::default();
        let on = set_cookie(&wire(true), &outcome(set.clone(), None), &fresh).unwrap();
        assert!(on.contains("Max-Age=3600"), "{on}");
        let off = set_cookie(&wire(false), &outcome(set, None), &fresh).unwrap();
        assert!(!off.contains("Max-Age"), "{off}");
    }

    #[test]
    fn an_unchanged_value_is_resent_when_its_attributes_may_move() {
        let set = CookieChange::Set("v".into());
        let same = carrying("v");
        // The layer's browser-session default: nothing to refresh.
        assert_eq!(
            set_cookie(&wire(false), &outcome(set.clone(), None), &same),
            None
        );
        // A persistent cookie, chosen by the session or by default: Max-Age moves.
        let resent = set_cookie(
            &wire(false),
            &outcome(set.clone(), Some(CookieLifetime::Persistent)),
            &same,
        )
        .unwrap();
        assert!(resent.contains("Max-Age=3600"), "{resent}");
        assert!(set_cookie(&wire(true), &outcome(set.clone(), None), &same).is_some());
        // A session that chose a browser-session cookie under a persistent default
        // may hold a persistent one still: it is replaced by one without Max-Age.
        let replaced = set_cookie(
            &wire(true),
            &outcome(set, Some(CookieLifetime::BrowserSession)),
            &same,
        )
        .unwrap();
        assert!(!replaced.contains("Max-Age"), "{replaced}");
    }

    #[test]
    fn a_resigned_cookie_follows_the_sessions_lifetime() {
        let rotated = Incoming {
            rotated: true,
            ..carrying("v")
        };
        let unchanged = CookieChange::Unchanged;
        let closing = set_cookie(
            &wire(true),
            &outcome(unchanged.clone(), Some(CookieLifetime::BrowserSession)),
            &rotated,
        )
        .unwrap();
        assert!(!closing.contains("Max-Age"), "{closing}");
        let kept = set_cookie(
            &wire(false),
            &outcome(unchanged, Some(CookieLifetime::Persistent)),
            &rotated,
        )
        .unwrap();
        assert!(kept.contains("Max-Age=3600"), "{kept}");
    }

    #[test]
    fn a_header_token_is_sent_only_when_it_is_news() {
        let name = HeaderName::from_static("x-session-token");
        let w = TokenWire {
            transport: Transport::Header(name.clone()),
            ..wire(true)
        };
        let set = outcome(
            CookieChange::Set("v".into()),
            Some(CookieLifetime::Persistent),
        );
        let sent = w
            .response_header(&set, &Incoming::default(), NOW)
            .unwrap()
            .unwrap();
        assert_eq!(sent, (name.clone(), HeaderValue::from_static("v")));
        assert_eq!(w.response_header(&set, &carrying("v"), NOW).unwrap(), None);
        let removed = w
            .response_header(&outcome(CookieChange::Remove, None), &carrying("v"), NOW)
            .unwrap()
            .unwrap();
        assert_eq!(removed, (name, HeaderValue::from_static("")));
    }

    #[test]
    fn reserved_token_headers_are_refused() {
        for bad in [
            "cookie",
            "Set-Cookie",
            "vary",
            "connection",
            "keep-alive",
            "host",
            "bad header",
            "",
        ] {
            assert!(
                matches!(Transport::header(bad), Err(Error::Config(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            Transport::header("X-Session-Token").unwrap(),
            Transport::Header(HeaderName::from_static("x-session-token"))
        );
    }

    #[test]
    fn a_resent_value_is_the_clients_own_signed_bytes_and_a_new_one_is_signed() {
        let new = b"0123456789abcdef0123456789abcdef".as_slice();
        let old = b"fedcba9876543210fedcba9876543210".as_slice();
        let keys = SigningKeys::new([new, old]).unwrap();
        let w = TokenWire {
            keys: Some(keys.clone()),
            ..wire(true)
        };
        let name = w.cookie.name.clone();
        let read = |signed: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                COOKIE,
                HeaderValue::from_str(&format!("{name}={signed}")).unwrap(),
            );
            w.read(&headers)
        };
        let current = keys.sign(&name, "v");
        let incoming = read(&current);
        assert_eq!(incoming.signed.as_deref(), Some(current.as_str()));
        let set = outcome(CookieChange::Set("v".into()), None);
        let resent = set_cookie(&w, &set, &incoming).unwrap();
        assert!(
            resent.starts_with(&format!("{name}={current};")),
            "{resent}"
        );
        // Another value is signed afresh, never given the client's bytes.
        let other = set_cookie(&w, &outcome(CookieChange::Set("w".into()), None), &incoming);
        let expected = keys.sign(&name, "w");
        assert!(other.unwrap().starts_with(&format!("{name}={expected};")));
        // Signed with the older key: not reused, re-signed with the newest.
        let rotated = SigningKeys::new([old]).unwrap().sign(&name, "v");
        let incoming = read(&rotated);
        assert!(incoming.rotated && incoming.signed.is_none());
        let resigned = set_cookie(&w, &set, &incoming).unwrap();
        assert!(
            resigned.starts_with(&format!("{name}={current};")),
            "{resigned}"
        );
    }

    /// Another app's cookie with bytes that are not UTF-8 (Latin-1, as an old client
    /// sends them), in the same header or in another `Cookie` header, does not hide ours.
    #[test]
    fn a_foreign_cookie_that_is_not_utf8_does_not_hide_ours() {
        let w = wire(true);
        let ours = format!("{}=ours", w.cookie.name);
        let same_header = vec![[b"other=caf\xe9; ".as_slice(), ours.as_bytes()].concat()];
        let two_headers = vec![b"other=\xff\xfe".to_vec(), ours.clone().into_bytes()];
        for values in [same_header, two_headers] {
            let mut headers = http::HeaderMap::new();
            for value in values {
                headers.append(COOKIE, HeaderValue::from_bytes(&value).unwrap());
            }
            let incoming = w.read(&headers);
            assert_eq!(incoming.value.as_deref(), Some("ours"), "{headers:?}");
        }
    }
}
