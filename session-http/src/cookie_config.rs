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

impl SameSite {
    pub(crate) fn to_cookie(self) -> cookie::SameSite {
        match self {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        }
    }
}

/// The session cookie's name and attributes. Deserializable, so it can come from a
/// configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CookieConfig {
    /// Cookie name. Default `session`. A `__Host-` name is the strongest choice for a
    /// session cookie served over HTTPS: browsers then refuse it from subdomains and
    /// plain HTTP (see [`CookieConfig::validate`] for what each prefix requires).
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
    /// The layer's default cookie lifetime. With `true` (the default) the cookie
    /// carries `Max-Age` up to the session's deadline; with `false` it is a
    /// browser-session cookie (no `Max-Age`, no `Expires`), gone when the browser
    /// closes (the server-side deadline still applies). A session that chose its own
    /// lifetime (remember-me, `Session::set_expiry` with a
    /// [`SessionExpiry`](session_core::SessionExpiry)) gets that instead. Not used
    /// when the token travels in a header.
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

    /// Chooses a `Max-Age` cookie (`true`) or a browser-session cookie (`false`) for
    /// sessions that did not choose for themselves.
    pub fn with_persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// Checks the name and attributes can be sent in a `Set-Cookie` header, and that
    /// browsers will keep the cookie.
    ///
    /// Besides the syntax, this enforces the rules browsers attach to cookie-name
    /// prefixes (RFC 6265bis, draft-ietf-httpbis-layered-cookies); a cookie that breaks
    /// them is dropped by the browser without a word, so every login would silently
    /// fail:
    ///
    /// | name starts with | requires |
    /// |---|---|
    /// | `__Secure-` | `secure = true` |
    /// | `__Host-` | `secure = true`, no `domain`, `path = "/"` |
    /// | `__Http-` | `secure = true`, `http_only = true` |
    /// | `__Host-Http-` | the `__Host-` rules and `http_only = true` |
    ///
    /// The prefixes are matched in any letter case (`__host-` too): the spec tells
    /// servers to send them case-sensitively, but its user-agent algorithm compares the
    /// lowercased name, and Chrome and Firefox enforce the rules on any casing, so a
    /// `__host-` cookie without `Secure` is dropped just the same.
    ///
    /// ```
    /// use session_http::CookieConfig;
    ///
    /// let host = CookieConfig::default().with_name("__Host-session");
    /// assert!(host.validate().is_ok());
    /// // Browsers drop a `__Host-` cookie over plain HTTP, so this is refused.
    /// assert!(host.with_secure(false).validate().is_err());
    /// ```
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
        self.check_name_prefix()
    }

    /// The prefix rules of [`CookieConfig::validate`]: one error naming the prefix,
    /// every rule the configuration breaks and how to fix each.
    fn check_name_prefix(&self) -> session_core::Result<()> {
        // The name is an HTTP token by now, so ASCII: byte slicing cannot split a char.
        let starts = |prefix: &str| {
            self.name
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        let (prefix, host, http) = if starts("__Host-Http-") {
            ("__Host-Http-", true, true)
        } else if starts("__Host-") {
            ("__Host-", true, false)
        } else if starts("__Http-") {
            ("__Http-", false, true)
        } else if starts("__Secure-") {
            ("__Secure-", false, false)
        } else {
            return Ok(());
        };
        let mut fixes = Vec::new();
        if !self.secure {
            fixes.push("set secure = true and serve the site over HTTPS".to_string());
        }
        if host {
            if let Some(domain) = &self.domain {
                fixes.push(format!(
                    "remove domain = {domain:?} (the cookie must be host-only)"
                ));
            }
            if self.path != "/" {
                fixes.push(format!("set path = \"/\" instead of {:?}", self.path));
            }
        }
        if http && !self.http_only {
            fixes.push("set http_only = true".to_string());
        }
        if fixes.is_empty() {
            return Ok(());
        }
        let requires = match (host, http) {
            (true, true) => "Secure, HttpOnly, Path=/ and no Domain",
            (true, false) => "Secure, Path=/ and no Domain",
            (false, true) => "Secure and HttpOnly",
            (false, false) => "Secure",
        };
        let casing = if self.name.starts_with(prefix) {
            String::new()
        } else {
            " (browsers match the prefix in any letter case)".to_string()
        };
        Err(session_core::Error::Config(format!(
            "cookie name {:?} starts with the {prefix} prefix{casing}, and browsers drop such a \
             cookie unless it has {requires}: {}, or choose a name without the prefix",
            self.name,
            fixes.join("; ")
        )))
    }
}
