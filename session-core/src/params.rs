//! Store URL parameters: one reader and one grammar for every backend.
//!
//! Every store URL (`file:///dir?durable=false`, `redis://host/?timeout=500ms`, ...)
//! carries its options as query parameters. [`Params`] takes those pairs, already
//! percent-decoded, together with the list of keys the scheme knows, and:
//!
//! - refuses a key the scheme does not know, or one given twice, with an
//!   [`Error::Config`] that names the key and lists the known ones, so a typo never
//!   falls back to a default silently;
//! - reads values in one grammar shared by every scheme and by `SessionConfig`:
//!   booleans ([`parse_bool`]), durations ([`parse_duration`]) and sizes
//!   ([`parse_size`], [`parse_limit`]).
//!
//! [`redact_url`] renders a URL for logs and error messages with its password and every
//! credential-bearing query parameter ([`is_secret_param`]) replaced by `***`.
//!
//! ```
//! use std::time::Duration;
//! use session_core::params::Params;
//!
//! let params = Params::new(
//!     "file",
//!     &["durable", "timeout", "max_record_size"],
//!     [("durable", "no"), ("timeout", "1m30s"), ("max_record_size", "64KiB")],
//! )?;
//! assert_eq!(params.bool("durable")?, Some(false));
//! assert_eq!(params.duration("timeout")?, Some(Duration::from_secs(90)));
//! assert_eq!(params.limit("max_record_size")?, Some(Some(64 * 1024)));
//!
//! let typo = Params::new("file", &["durable"], [("durabel", "no")]).unwrap_err();
//! assert!(typo.to_string().contains("`durabel`"));
//! assert!(typo.to_string().contains("known: durable"));
//! # Ok::<(), session_core::Error>(())
//! ```

use std::time::Duration;

use crate::{Error, Result};

/// What is shown instead of a secret.
pub const REDACTED: &str = "***";

/// Case-insensitive fragments that make a query parameter credential-bearing: a key
/// containing any of them anywhere (`password`, `sslpassword`, `pass`, `pwd`,
/// `client_secret`, `token`, `api_key`, `sslkey`, `auth`, `authSource`, `credentials`,
/// `signature`) has its value redacted by [`redact_url`] and is never echoed in an
/// error message. Matching fragments rather than exact names over-redacts a harmless
/// parameter now and then (`secret_env` names a variable, not a secret); the reverse
/// mistake would print a password.
pub const SECRET_PARAM_FRAGMENTS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "auth",
    "credential",
    "signature",
];

/// Whether a query parameter named `key` carries a credential (see
/// [`SECRET_PARAM_FRAGMENTS`]).
///
/// ```
/// use session_core::params::is_secret_param;
/// assert!(is_secret_param("password") && is_secret_param("PASS") && is_secret_param("api_key"));
/// assert!(!is_secret_param("prefix") && !is_secret_param("timeout"));
/// ```
pub fn is_secret_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAM_FRAGMENTS.iter().any(|f| key.contains(f))
}

/// The query parameters of one store URL, checked against the keys its scheme knows.
///
/// Keys are matched exactly (case-sensitively, as the drivers do). A known key ending
/// in `[]` stands for a family: `options[]` accepts `options[search_path]` and any
/// other `options[...]` (PostgreSQL's per-connection settings in sqlx).
#[derive(Clone)]
pub struct Params {
    scheme: String,
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in &self.pairs {
            if is_secret_param(k) {
                map.entry(k, &REDACTED);
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

impl Params {
    /// Checks `pairs` (percent-decoded keys and values, e.g. from
    /// `url::form_urlencoded::parse`) against `known`, the keys scheme `scheme` takes.
    ///
    /// An unknown key or a key given twice is an [`Error::Config`] naming it and
    /// listing `known`. Values are only checked when read.
    ///
    /// ```
    /// use session_core::params::Params;
    /// let err = Params::new("memory", &["max_record_size"], [("bogus", "1")]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "session configuration error: unknown `memory://` URL parameter `bogus`; \
    ///      known: max_record_size"
    /// );
    /// let twice = [("max_record_size", "1"), ("max_record_size", "2")];
    /// assert!(Params::new("memory", &["max_record_size"], twice).is_err());
    /// ```
    pub fn new<I, K, V>(scheme: &str, known: &[&str], pairs: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out: Vec<(String, String)> = Vec::new();
        for (key, value) in pairs {
            let key = key.as_ref();
            if !known.iter().any(|k| key_matches(k, key)) {
                let list = if known.is_empty() {
                    "none (this scheme takes no parameters)".to_owned()
                } else {
                    known.join(", ")
                };
                return Err(Error::Config(format!(
                    "unknown `{scheme}://` URL parameter `{}`; known: {list}",
                    shorten(key)
                )));
            }
            if out.iter().any(|(k, _)| k == key) {
                return Err(Error::Config(format!(
                    "`{scheme}://` URL parameter `{key}` is given more than once"
                )));
            }
            out.push((key.to_owned(), value.as_ref().to_owned()));
        }
        Ok(Params {
            scheme: scheme.to_owned(),
            pairs: out,
        })
    }

    /// The scheme these parameters belong to (for messages).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Every pair, in URL order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// The raw text of `key`, if given.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn read<T>(
        &self,
        key: &str,
        parse: fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Option<T>> {
        match self.text(key) {
            None => Ok(None),
            Some(value) => parse(value).map(Some).ok_or_else(|| {
                let label = format!("`{}://` URL parameter {key}", self.scheme);
                invalid(&label, is_secret_param(key), expected, value)
            }),
        }
    }

    /// `key` as a boolean in the shared grammar ([`parse_bool`]).
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.read(key, bool_of, BOOL_GRAMMAR)
    }

    /// `key` as a duration in the shared grammar ([`parse_duration`]).
    pub fn duration(&self, key: &str) -> Result<Option<Duration>> {
        self.read(key, duration_of, DURATION_GRAMMAR)
    }

    /// `key` as a duration above zero (a timeout).
    pub fn timeout(&self, key: &str) -> Result<Option<Duration>> {
        match self.duration(key)? {
            Some(d) if d.is_zero() => Err(Error::Config(format!(
                "`{}://` URL parameter {key} must be above zero",
                self.scheme
            ))),
            other => Ok(other),
        }
    }

    /// `key` as a size in bytes ([`parse_size`]); `none` is refused.
    pub fn size(&self, key: &str) -> Result<Option<usize>> {
        self.read(key, size, SIZE_GRAMMAR)
    }

    /// `key` as a size limit ([`parse_limit`]): the outer `None` when the key is
    /// absent (keep the store's default), `Some(None)` for `none` (no limit).
    pub fn limit(&self, key: &str) -> Result<Option<Option<usize>>> {
        self.read(key, limit_of, LIMIT_GRAMMAR)
    }

    /// `key` as a whole number above zero (a count: connections, batch sizes).
    pub fn count(&self, key: &str) -> Result<Option<usize>> {
        self.read(key, count_of, COUNT_GRAMMAR)
    }
}

/// The query of a store URL, still percent-encoded: the text after the first `?` and
/// before any `#` (empty without one). Every `from_url` hands it to
/// `url::form_urlencoded::parse` and then to [`Params::new`], so URLs that are not URL
/// authorities (`memcache://h1,h2`, `sqlite::memory:`) read their parameters the same
/// way.
///
/// ```
/// use session_core::params::url_query;
/// assert_eq!(url_query("file:///d?durable=no#x"), "durable=no");
/// assert_eq!(url_query("a://b#e?x"), "");
/// assert_eq!(url_query("sqlite::memory:"), "");
/// ```
pub fn url_query(text: &str) -> &str {
    let text = text.split_once('#').map_or(text, |(before, _)| before);
    text.split_once('?').map_or("", |(_, query)| query)
}

/// `text` without the query parameters named in `ours`, for a driver that reads the
/// rest of the URL itself (sqlx, redis-rs). Everything else is kept exactly as written,
/// pairs and fragment included, so the driver sees its own parameters unchanged; the
/// `?` goes when no pair is left. Keys are compared percent-decoded, as
/// [`Params::new`] saw them.
///
/// ```
/// use session_core::params::without_params;
/// let ours = ["timeout", "prefix"];
/// assert_eq!(without_params("redis://h/0?timeout=1s&protocol=resp3", &ours), "redis://h/0?protocol=resp3");
/// assert_eq!(without_params("redis://h/?pr%65fix=a&timeout=2s", &ours), "redis://h/");
/// assert_eq!(without_params("sqlite::memory:", &ours), "sqlite::memory:");
/// ```
pub fn without_params(text: &str, ours: &[&str]) -> String {
    let (before_fragment, fragment) = match text.find('#') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return text.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            !pair.is_empty() && !ours.contains(&percent_decode(key).as_str())
        })
        .collect();
    match kept.is_empty() {
        true => format!("{base}{fragment}"),
        false => format!("{base}?{}{fragment}", kept.join("&")),
    }
}

/// `known` is `key`, or `known` is a family `name[]` and `key` is `name[...]`.
fn key_matches(known: &str, key: &str) -> bool {
    match known.strip_suffix("[]") {
        Some(family) => key
            .strip_prefix(family)
            .and_then(|rest| rest.strip_prefix('['))
            .is_some_and(|rest| rest.ends_with(']')),
        None => known == key,
    }
}

/// Hostile keys stay out of long messages.
fn shorten(text: &str) -> String {
    let short: String = text.chars().take(64).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// A value error: names what was read, shows the value unless it may be a secret.
fn invalid(name: &str, secret: bool, expected: &str, value: &str) -> Error {
    let shown = if secret {
        REDACTED.to_owned()
    } else {
        format!("{:?}", shorten(value))
    };
    Error::Config(format!("{name}: expected {expected}, got {shown}"))
}

const BOOL_GRAMMAR: &str = "true or false (also 1/0, yes/no, on/off)";

/// A boolean: `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, in any letter case.
/// Anything else (the empty string included) is an [`Error::Config`] naming `name` and
/// the value.
///
/// `name` labels the value in the message: a URL parameter, an environment variable.
///
/// ```
/// use session_core::params::parse_bool;
/// assert!(parse_bool("durable", "yes")?);
/// assert!(!parse_bool("durable", "Off")?);
/// let err = parse_bool("durable", "perhaps").unwrap_err().to_string();
/// assert!(err.contains("durable") && err.contains("perhaps"));
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn parse_bool(name: &str, value: &str) -> Result<bool> {
    bool_of(value).ok_or_else(|| invalid(name, is_secret_param(name), BOOL_GRAMMAR, value))
}

fn bool_of(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

const DURATION_GRAMMAR: &str = "a duration with a unit (500ms, 2s, 1m, 1h, 7d; or 1h30m)";

/// A duration: one or more `<whole number><unit>` terms, optionally separated by
/// spaces (`500ms`, `2s`, `1m`, `1h`, `7d`, `1h30m`, `1h 30m`). Units: `ms`; `s`
/// (also `sec`, `secs`, `second`, `seconds`); `m` (`min`, `mins`, `minute`,
/// `minutes`); `h` (`hour`, `hours`); `d` (`day`, `days`).
///
/// A bare number is refused: `timeout=5` would be 5 ms to one reader and 5 s to the
/// next, so the unit is always written. The long unit names are there for TOML
/// (`absolute_lifetime = "7days"` reads better than `7d`); both are the same grammar.
///
/// ```
/// use std::time::Duration;
/// use session_core::params::parse_duration;
/// assert_eq!(parse_duration("timeout", "500ms")?, Duration::from_millis(500));
/// assert_eq!(parse_duration("timeout", "1m 30s")?, Duration::from_secs(90));
/// assert_eq!(parse_duration("lifetime", "7days")?, Duration::from_secs(7 * 86_400));
/// assert!(parse_duration("timeout", "5").is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn parse_duration(name: &str, value: &str) -> Result<Duration> {
    duration_of(value).ok_or_else(|| invalid(name, is_secret_param(name), DURATION_GRAMMAR, value))
}

fn duration_of(value: &str) -> Option<Duration> {
    let mut rest = value.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..letters];
        rest = rest[letters..].trim_start();
        let seconds_per = match unit {
            "ms" => {
                total = total.checked_add(Duration::from_millis(number))?;
                continue;
            }
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            _ => return None,
        };
        total = total.checked_add(Duration::from_secs(number.checked_mul(seconds_per)?))?;
    }
    Some(total)
}

/// A duration ([`parse_duration`]) that must be above zero: a timeout of zero would
/// fail every operation.
pub fn parse_timeout(name: &str, value: &str) -> Result<Duration> {
    let d = parse_duration(name, value)?;
    if d.is_zero() {
        return Err(Error::Config(format!("{name} must be above zero")));
    }
    Ok(d)
}

const SIZE_GRAMMAR: &str = "a size in bytes (262144) or with KiB, MiB or GiB (64KiB, 1MiB)";
const LIMIT_GRAMMAR: &str =
    "a size in bytes (262144) or with KiB, MiB or GiB (64KiB, 1MiB), or none for no limit";

/// A size in bytes: a whole number (`262144`), or one with the unit `KiB`, `MiB` or
/// `GiB` (powers of 1024, letter case ignored, a space allowed before the unit:
/// `64KiB`, `1 MiB`).
///
/// Decimal and one-letter units (`64KB`, `2m`) are refused: whether they mean 1000 or
/// 1024 differs between tools, and a limit off by 5% is a bug that shows up in
/// production.
///
/// ```
/// use session_core::params::parse_size;
/// assert_eq!(parse_size("max_record_size", "262144")?, 262_144);
/// assert_eq!(parse_size("max_record_size", "64KiB")?, 65_536);
/// assert_eq!(parse_size("max_record_size", "1MiB")?, 1 << 20);
/// assert!(parse_size("max_record_size", "2m").is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn parse_size(name: &str, value: &str) -> Result<usize> {
    size(value).ok_or_else(|| invalid(name, is_secret_param(name), SIZE_GRAMMAR, value))
}

/// A size limit: a size as [`parse_size`] reads it, or `none` (any letter case) to
/// lift the limit, which gives `None`.
///
/// ```
/// use session_core::params::parse_limit;
/// assert_eq!(parse_limit("max_record_size", "256KiB")?, Some(256 * 1024));
/// assert_eq!(parse_limit("max_record_size", "none")?, None);
/// # Ok::<(), session_core::Error>(())
/// ```
pub fn parse_limit(name: &str, value: &str) -> Result<Option<usize>> {
    limit_of(value).ok_or_else(|| invalid(name, is_secret_param(name), LIMIT_GRAMMAR, value))
}

fn limit_of(value: &str) -> Option<Option<usize>> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Some(None);
    }
    size(value).map(Some)
}

fn size(value: &str) -> Option<usize> {
    let text = value.trim();
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let number: usize = text[..digits].parse().ok()?;
    let unit: usize = match text[digits..].trim_start().to_ascii_lowercase().as_str() {
        "" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(unit)
}

/// A whole number above zero (a count).
pub fn parse_count(name: &str, value: &str) -> Result<usize> {
    count_of(value).ok_or_else(|| invalid(name, is_secret_param(name), COUNT_GRAMMAR, value))
}

const COUNT_GRAMMAR: &str = "a whole number above zero";

fn count_of(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok().filter(|n| *n > 0)
}

/// `url` as it may be shown in a log or an error message: the password of its user
/// info and the value of every credential-bearing query parameter
/// ([`is_secret_param`]) replaced by `***`. Works on the text, so it also serves URLs
/// no URL parser takes (`redis+cluster://h1:p1,h2:p2`) and never fails; everything
/// else is left as written.
///
/// ```
/// use session_core::params::redact_url;
/// assert_eq!(
///     redact_url("postgres://app:hunter2@db/app?password=hunter2&sslmode=require"),
///     "postgres://app:***@db/app?password=***&sslmode=require"
/// );
/// assert_eq!(redact_url("file:///var/sessions?durable=false"), "file:///var/sessions?durable=false");
/// ```
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() && is_secret_param(&percent_decode(k)) => {
                    format!("{k}={REDACTED}")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out.push_str(fragment);
    out
}

/// `scheme://user:password@host...` with the password replaced.
fn redact_userinfo(base: &str) -> String {
    let Some(start) = base.find("://").map(|i| i + 3) else {
        return base.to_owned();
    };
    let authority_end = base[start..]
        .find(['/', '\\'])
        .map_or(base.len(), |i| start + i);
    let authority = &base[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return base.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.split_once(':') {
        Some((user, password)) if !password.is_empty() => {
            format!("{}{user}:{REDACTED}{}", &base[..start], &base[start + at..])
        }
        _ => base.to_owned(),
    }
}

/// Percent- and `+`-decoding as `application/x-www-form-urlencoded` does it, lossily:
/// only to recognise a key, so `p%61ssword` is redacted like `password`.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Config(msg)) => msg,
            other => panic!("expected a Config error, got {other:?}"),
        }
    }

    #[test]
    fn booleans_have_one_grammar() {
        for yes in ["true", "1", "yes", "on", "TRUE", "Yes", " on "] {
            assert!(parse_bool("k", yes).unwrap(), "{yes}");
        }
        for no in ["false", "0", "no", "off", "False", "NO"] {
            assert!(!parse_bool("k", no).unwrap(), "{no}");
        }
        for bad in ["", "maybe", "2", "y", "n", "truee", "-1"] {
            let msg = config(parse_bool("durable", bad));
            assert!(msg.contains("durable"), "{bad}: {msg}");
            assert!(msg.contains(&format!("{bad:?}")), "{bad}: {msg}");
        }
    }

    #[test]
    fn durations_need_a_unit() {
        let ok = [
            ("500ms", Duration::from_millis(500)),
            ("2s", Duration::from_secs(2)),
            ("1m", Duration::from_secs(60)),
            ("1h", Duration::from_secs(3600)),
            ("7d", Duration::from_secs(7 * 86_400)),
            ("7days", Duration::from_secs(7 * 86_400)),
            ("30min", Duration::from_secs(1800)),
            ("1h30m", Duration::from_secs(5400)),
            ("1h 30m 5s", Duration::from_secs(5405)),
            ("0s", Duration::ZERO),
            (" 10s ", Duration::from_secs(10)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration("t", text).unwrap(), want, "{text}");
        }
        for bad in [
            "",
            "5",
            "0",
            "1.5s",
            "-1s",
            "2 s x",
            "s",
            "1w",
            "1M",
            "1y",
            "soon",
            "2sec3",
            "99999999999999999999h",
            "1ms2",
        ] {
            let msg = config(parse_duration("timeout", bad));
            assert!(msg.contains("timeout"), "{bad}: {msg}");
        }
        let msg = config(parse_timeout("timeout", "0ms"));
        assert!(msg.contains("above zero"), "{msg}");
        assert_eq!(
            parse_timeout("t", "250ms").unwrap(),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn sizes_take_binary_units_and_limits_take_none() {
        for (text, want) in [
            ("262144", 262_144),
            ("64KiB", 65_536),
            ("64kib", 65_536),
            ("1MiB", 1 << 20),
            ("1 MiB", 1 << 20),
            ("2GiB", 2 << 30),
            ("0", 0),
        ] {
            assert_eq!(parse_size("s", text).unwrap(), want, "{text}");
            assert_eq!(parse_limit("s", text).unwrap(), Some(want), "{text}");
        }
        for bad in [
            "", "none", "2m", "64KB", "64k", "1.5MiB", "-1", "MiB", "lots",
        ] {
            let msg = config(parse_size("max_record_size", bad));
            assert!(msg.contains("max_record_size"), "{bad}: {msg}");
        }
        assert_eq!(parse_limit("s", "none").unwrap(), None);
        assert_eq!(parse_limit("s", "NONE").unwrap(), None);
        config(parse_limit("s", "nothing"));
        config(parse_size("s", &format!("{}GiB", usize::MAX)));
        assert_eq!(parse_count("n", "8").unwrap(), 8);
        for bad in ["0", "-1", "x", ""] {
            config(parse_count("n", bad));
        }
    }

    #[test]
    fn unknown_and_repeated_keys_are_refused() {
        let known = ["durable", "max_record_size"];
        let msg = config(Params::new("file", &known, [("bogus", "1")]));
        assert!(msg.contains("`bogus`"), "{msg}");
        assert!(msg.contains("known: durable, max_record_size"), "{msg}");
        assert!(msg.contains("file://"), "{msg}");
        let msg = config(Params::new("memory", &[], [("x", "1")]));
        assert!(msg.contains("takes no parameters"), "{msg}");
        let msg = config(Params::new(
            "file",
            &known,
            [("durable", "yes"), ("durable", "no")],
        ));
        assert!(
            msg.contains("`durable`") && msg.contains("more than once"),
            "{msg}"
        );
        // Keys are exact: the drivers behind the URL match them exactly too.
        config(Params::new("file", &known, [("Durable", "yes")]));
        // Unknown keys never echo their value, which may be a secret.
        let msg = config(Params::new("file", &known, [("passwd", "hunter2")]));
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn families_match_bracketed_keys() {
        let known = ["sslmode", "options[]"];
        let p = Params::new("postgres", &known, [("options[search_path]", "app")]).unwrap();
        assert_eq!(p.text("options[search_path]"), Some("app"));
        for bad in ["options", "options[", "options]", "optionsx[a]"] {
            config(Params::new("postgres", &known, [(bad, "1")]));
        }
    }

    #[test]
    fn values_are_read_in_the_shared_grammar() {
        let p = Params::new(
            "sqlite",
            &["migrate", "timeout", "max_record_size", "n", "name"],
            [
                ("migrate", "no"),
                ("timeout", "250ms"),
                ("max_record_size", "none"),
                ("name", "x y"),
            ],
        )
        .unwrap();
        assert_eq!(p.bool("migrate").unwrap(), Some(false));
        assert_eq!(
            p.timeout("timeout").unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(p.limit("max_record_size").unwrap(), Some(None));
        assert_eq!(p.count("n").unwrap(), None);
        assert_eq!(p.text("name"), Some("x y"));
        assert!(p.contains("migrate") && !p.contains("n"));
        assert_eq!(p.pairs().count(), 4);
        let bad = Params::new("sqlite", &["migrate"], [("migrate", "nope")]).unwrap();
        let msg = config(bad.bool("migrate"));
        assert!(msg.contains("`sqlite://` URL parameter migrate"), "{msg}");
        assert!(msg.contains("\"nope\""), "{msg}");
    }

    #[test]
    fn secret_values_never_reach_messages_or_debug() {
        let p = Params::new(
            "x",
            &["token", "password"],
            [("token", "hunter2"), ("password", "s3cret")],
        )
        .unwrap();
        let msg = config(p.bool("token"));
        assert!(msg.contains("token") && !msg.contains("hunter2"), "{msg}");
        assert!(msg.contains(REDACTED), "{msg}");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("s3cret"),
            "{debug}"
        );
    }

    #[test]
    fn secret_params_by_fragment() {
        for key in [
            "password",
            "PASSWORD",
            "pass",
            "passwd",
            "pwd",
            "sslpassword",
            "secret",
            "client_secret",
            "token",
            "access_token",
            "key",
            "sslkey",
            "api_key",
            "auth",
            "authSource",
            "credentials",
            "signature",
        ] {
            assert!(is_secret_param(key), "{key}");
        }
        for key in [
            "prefix",
            "timeout",
            "max_record_size",
            "durable",
            "migrate",
            "session_table",
            "sslmode",
            "mode",
            "protocol",
            "compress_above",
            "item_size_limit",
        ] {
            assert!(!is_secret_param(key), "{key}");
        }
    }

    #[test]
    fn redaction_of_userinfo_and_query() {
        for (url, want) in [
            (
                "postgres://app:hunter2@db:5432/app",
                "postgres://app:***@db:5432/app",
            ),
            ("redis://:hunter2@cache/0", "redis://:***@cache/0"),
            // A user name alone is not a secret.
            ("redis://app@cache/0", "redis://app@cache/0"),
            (
                "mysql://root@db/test?password=hunter2&sslmode=disabled",
                "mysql://root@db/test?password=***&sslmode=disabled",
            ),
            (
                "postgres://db/app?PassWord=hunter2&p%61ssword=hunter2",
                "postgres://db/app?PassWord=***&p%61ssword=***",
            ),
            (
                "redis+cluster://u:hunter2@h1:1,h2:2?token=hunter2",
                "redis+cluster://u:***@h1:1,h2:2?token=***",
            ),
            (
                "postgres://u:hunter2@db/app?pass=hunter2#frag",
                "postgres://u:***@db/app?pass=***#frag",
            ),
            // A password holding `@`: everything up to the last `@` is user info.
            ("postgres://u:hun@ter2@db/app", "postgres://u:***@db/app"),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "file:///srv/@home/x?durable=no",
                "file:///srv/@home/x?durable=no",
            ),
            ("not a url", "not a url"),
            ("x://h/?password=", "x://h/?password="),
            ("x://h/?password", "x://h/?password"),
        ] {
            let got = redact_url(url);
            assert_eq!(got, want, "{url}");
            assert!(!got.contains("hunter2"), "{url}: {got}");
        }
    }

    #[test]
    fn percent_decoding_is_total() {
        assert_eq!(percent_decode("a%41+b"), "aA b");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
