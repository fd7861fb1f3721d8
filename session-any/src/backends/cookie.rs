//! `cookie://`: the whole session sealed in the cookie. session-cookie reads the URL
//! ([`CookieOptions`]).

use std::sync::Arc;

use session_cookie::{CookieOptions, CookieStore};
use session_core::{Result, SessionStore};

use crate::url::{Backend, OpenContext, StoreUrl};

/// `cookie://[?secret_env=VAR&compress_above=SIZE|none]`: secrets from the
/// configuration, else from `VAR` (default `SESSION_COOKIE_SECRET`); bodies of
/// `compress_above` bytes or more are compressed (`none`: never).
pub(crate) static COOKIE: Backend = Backend {
    params: CookieOptions::URL_PARAMS,
    lazy: None,
    check: |url| CookieOptions::from_url(url.as_str()).map(drop),
    open: |url, ctx| {
        Box::pin(async move { cookie(&url, ctx).map(|s| Arc::new(s) as Arc<dyn SessionStore>) })
    },
};

fn cookie(url: &StoreUrl, ctx: OpenContext) -> Result<CookieStore> {
    let options = CookieOptions::from_url(url.as_str())?;
    let secrets = match ctx.cookie_secrets.is_empty() {
        true => options.secrets_from_env()?,
        false => ctx.cookie_secrets,
    };
    let mut builder = CookieStore::builder()
        .secrets(secrets.iter().map(String::as_bytes))
        .clock(ctx.clock);
    if let Some(name) = ctx.cookie_name {
        builder = builder.cookie_name(name);
    }
    options.apply(builder).build()
}
