//! Turning a backend URL into a store.

use std::sync::Arc;

use session_core::{Clock, Error, MemoryStore, Result, SessionStore};
use url::Url;

/// Every scheme the workspace knows, with the cargo feature that compiles it in.
/// A scheme whose feature is off gets an error naming the feature.
pub(crate) const SCHEMES: &[(&str, &str)] = &[
    ("memory", "(always on)"),
    ("file", "file"),
    ("shelf", "file"),
    ("sqlite", "sqlite"),
    ("postgres", "postgres"),
    ("postgresql", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
    ("redis", "redis"),
    ("rediss", "redis"),
    ("redis+cluster", "redis"),
    ("memcache", "memcache"),
    ("cookie", "cookie"),
];

pub(crate) fn parse(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| {
        Error::Config(format!(
            "session store URL {:?} does not parse: {e}",
            redact(url)
        ))
    })
}

/// The URL without its password, for error messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".into(),
    }
}

/// What a store needs besides its URL.
#[derive(Clone, Default)]
pub(crate) struct OpenContext {
    pub(crate) clock: Clock,
    /// The HTTP cookie's name: the cookie store binds its values to it.
    pub(crate) cookie_name: Option<String>,
    /// Secrets for the cookie store, newest first; else from the environment.
    pub(crate) cookie_secrets: Vec<String>,
}

/// The scheme of `url`, also for URLs the `url` crate cannot parse
/// (`redis+cluster://` carries a host list).
pub(crate) fn scheme_of(url: &str) -> Result<String> {
    if url.starts_with("redis+cluster://") {
        return Ok("redis+cluster".into());
    }
    if url.starts_with("memcache://") {
        return Ok("memcache".into());
    }
    Ok(parse(url)?.scheme().to_owned())
}

/// Opens the store `url` names.
pub(crate) async fn open(url: &str, ctx: OpenContext) -> Result<Arc<dyn SessionStore>> {
    if url.starts_with("redis+cluster://") {
        #[cfg(feature = "redis")]
        return Ok(Arc::new(crate::backends::redis_cluster(url, ctx).await?));
        #[cfg(not(feature = "redis"))]
        return Err(Error::Config(
            "session store scheme `redis+cluster://` is not compiled in: enable the `redis` feature of session-any".into(),
        ));
    }
    if url.starts_with("memcache://") {
        #[cfg(feature = "memcache")]
        return Ok(Arc::new(crate::backends::memcache(url, ctx).await?));
        #[cfg(not(feature = "memcache"))]
        return Err(Error::Config(
            "session store scheme `memcache://` is not compiled in: enable the `memcache` feature of session-any".into(),
        ));
    }
    let parsed = parse(url)?;
    let scheme = parsed.scheme();
    match scheme {
        "memory" => {
            reject_path(&parsed)?;
            let mut store = MemoryStore::new().with_clock(ctx.clock);
            if let Some(limit) = query_usize(&parsed, "max_record_size")? {
                store = store.with_max_record_size(limit);
            }
            Ok(Arc::new(store))
        }
        #[cfg(feature = "file")]
        "file" => Ok(Arc::new(crate::backends::file(&parsed, ctx).await?)),
        #[cfg(feature = "file")]
        "shelf" => Ok(Arc::new(crate::backends::shelf(&parsed, ctx).await?)),
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(crate::backends::sql(&parsed, ctx).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(crate::backends::sql(&parsed, ctx).await?)),
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => Ok(Arc::new(crate::backends::sql(&parsed, ctx).await?)),
        #[cfg(feature = "redis")]
        "redis" => Ok(Arc::new(crate::backends::redis(&parsed, ctx).await?)),
        "rediss" => Err(Error::Config(
            "`rediss://` (Redis over TLS) is not supported by this build; use `redis://` over a trusted network or a TLS tunnel".into(),
        )),
        #[cfg(feature = "cookie")]
        "cookie" => {
            reject_path(&parsed)?;
            crate::backends::cookie(&parsed, ctx).map(|s| Arc::new(s) as Arc<dyn SessionStore>)
        }
        other => match SCHEMES.iter().find(|(s, _)| *s == other) {
            Some((_, feature)) => Err(Error::Config(format!(
                "session store scheme `{other}://` is not compiled in: enable the `{feature}` feature of session-any"
            ))),
            None => Err(Error::Config(format!(
                "unknown session store scheme `{other}://`; known: {}",
                SCHEMES.iter().map(|(s, _)| format!("{s}://")).collect::<Vec<_>>().join(", ")
            ))),
        },
    }
}

pub(crate) fn reject_path(url: &Url) -> Result<()> {
    if url.host_str().is_some_and(|h| !h.is_empty()) || !matches!(url.path(), "" | "/") {
        return Err(Error::Config(format!(
            "`{}://` takes no host or path",
            url.scheme()
        )));
    }
    Ok(())
}

/// A text query parameter, if present.
#[allow(dead_code)] // used by feature-gated backends
pub(crate) fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A numeric query parameter, if present.
pub(crate) fn query_usize(url: &Url, key: &str) -> Result<Option<usize>> {
    match url.query_pairs().find(|(k, _)| k == key) {
        None => Ok(None),
        Some((_, v)) => v.parse().map(Some).map_err(|_| {
            Error::Config(format!(
                "query parameter `{key}` must be a number, got {v:?}"
            ))
        }),
    }
}
