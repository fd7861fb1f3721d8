//! Turning the `<ID>` argument of `inspect` and `delete` into a session id: the bare
//! 43-character id, or the signed cookie value the HTTP layer sends
//! (`<id>.<signature>`), verified with the app's signing secrets.

use session_any::SECRET_ENV;
use session_core::SessionId;
use session_tower::{SigningKeys, Verified};

use crate::exit::{AdminError, AdminResult};

/// The session id in `arg`. A signed cookie value is verified against the secrets in
/// `SESSION_SECRET` (comma-separated, newest first, as the app takes them) for the
/// cookie named `cookie_name`. Error messages never repeat the argument: it is a
/// bearer secret.
pub fn parse(arg: &str, cookie_name: &str) -> AdminResult<SessionId> {
    parse_with(arg, cookie_name, std::env::var(SECRET_ENV).ok())
}

fn parse_with(arg: &str, cookie_name: &str, secrets: Option<String>) -> AdminResult<SessionId> {
    let arg = arg.trim();
    let bare = match SessionId::parse(arg) {
        Ok(id) => return Ok(id),
        Err(e) => e,
    };
    if !arg.contains('.') {
        return Err(AdminError::Usage(format!(
            "not a session id ({bare}); give the 43-character id, or the signed cookie \
             value with {SECRET_ENV} set"
        )));
    }
    let Some(secrets) = secrets else {
        return Err(AdminError::Usage(format!(
            "this looks like a signed cookie value: set {SECRET_ENV} to the app's signing \
             secrets to verify it, or give the bare 43-character id"
        )));
    };
    let keys = SigningKeys::new(
        secrets
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::as_bytes),
    )?;
    let value = match keys.verify(cookie_name, arg) {
        Some(Verified::Current(v) | Verified::Rotated(v)) => v,
        None => {
            return Err(AdminError::Usage(format!(
                "the signed cookie value does not verify with {SECRET_ENV} for a cookie \
                 named {cookie_name:?} (see --cookie-name)"
            )))
        }
    };
    SessionId::parse(&value).map_err(|e| {
        AdminError::Usage(format!(
            "the signed cookie value verifies but holds no session id ({e})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::USAGE;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    #[test]
    fn bare_and_signed_ids() {
        let id = SessionId::generate();
        let text = id.to_string();
        assert_eq!(parse_with(&text, "session", None).ok(), Some(id));
        let keys = SigningKeys::new([SECRET]).ok();
        let signed = keys.map(|k| k.sign("session", &text)).unwrap_or_default();
        assert_eq!(
            parse_with(&signed, "session", Some(SECRET.into())).ok(),
            Some(id)
        );
        // Without the secret, with another cookie name, or with another secret: refused.
        for (name, secret) in [
            ("session", None),
            ("sid", Some(SECRET.to_owned())),
            ("session", Some(format!("{SECRET}-other"))),
        ] {
            let err = parse_with(&signed, name, secret).err();
            assert_eq!(err.map(|e| e.exit_code()), Some(USAGE));
        }
    }

    #[test]
    fn junk_is_a_usage_error_that_does_not_echo_it() {
        let err = parse_with("hunter2-secret", "session", None).err();
        let msg = err.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert_eq!(err.map(|e| e.exit_code()), Some(USAGE));
    }
}
