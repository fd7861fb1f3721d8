//! The session cookie's name and attributes.

use serde::Deserialize;

/// The `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// Sent on same-site requests only.
    Strict,
    /// Also sent on top-level cross-site navigations (the browsers' default).
    #[default]
    Lax,
    /// Sent on every request; requires `Secure`.
    None,
}

/// The session cookie's name and attributes. Deserializable, so it can come from a
/// configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookieConfig {
    /// Cookie name. Default `session`.
    pub name: String,
    /// `Path`. Default `/`.
    pub path: String,
    /// `Domain`; none by default (host-only cookie).
    pub domain: Option<String>,
    /// `Secure`: only sent over HTTPS. Default `true`; turn it off only for plain-HTTP
    /// development servers.
    pub secure: bool,
    /// `HttpOnly`: hidden from page scripts. Default `true`.
    pub http_only: bool,
    /// `SameSite`. Default `Lax`.
    pub same_site: SameSite,
    /// With `true` (the default) the cookie carries `Max-Age` up to the session's
    /// deadline; with `false` it is a browser-session cookie, gone when the browser
    /// closes (the server-side deadline still applies).
    pub persistent: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig {
            name: "session".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            persistent: true,
        }
    }
}

impl CookieConfig {
    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets `Path`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets `Domain`.
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets `Secure`.
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets `HttpOnly`.
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets `SameSite`.
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Chooses a `Max-Age` cookie (`true`) or a browser-session cookie (`false`).
    pub fn with_persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Checks the name and attributes can be sent in a `Set-Cookie` header.
    pub fn validate(&self) -> session_core::Result<()> {
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        };
        if !token(&self.name) {
            return Err(session_core::Error::Config(format!(
                "cookie name {:?} is not an HTTP token",
                self.name
            )));
        }
        let attr_ok = |s: &str| s.bytes().all(|b| b.is_ascii_graphic() && b != b';');
        if !attr_ok(&self.path) || !self.domain.as_deref().is_none_or(attr_ok) {
            return Err(session_core::Error::Config(
                "cookie path and domain must be visible ASCII without ';'".into(),
            ));
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(session_core::Error::Config(
                "SameSite=None requires Secure; browsers reject the cookie otherwise".into(),
            ));
        }
        Ok(())
    }
}
