//! Exit codes, and the error type that carries one.

use session_core::Error;

/// Success.
pub const OK: u8 = 0;
/// The backend failed (I/O, connection, timeout, corrupt data) or output could not
/// be written.
pub const FAILURE: u8 = 1;
/// Bad usage or configuration: bad arguments, bad URL, unknown scheme, missing secret,
/// `purge` without `--yes`, a malformed id. Also clap's own usage errors.
pub const USAGE: u8 = 2;
/// The backend cannot do this: `gc`, `stats` and `purge` on a store that cannot
/// enumerate (memcached, cookie), `delete` on the cookie store, `migrate` on a store
/// without a schema.
pub const UNSUPPORTED: u8 = 3;
/// `inspect`: no live session has this id (missing, expired or deleted).
pub const NOT_FOUND: u8 = 4;

/// The exit codes, for `--help`.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  the backend failed (I/O, connection, timeout, corrupt data)
  2  usage or configuration error (bad arguments or URL, missing secret, purge without --yes)
  3  not supported by this backend (e.g. gc/stats/purge on memcache:// or cookie://)
  4  inspect: no live session with this id";

/// Why a command failed; each kind has its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad arguments or configuration (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The backend cannot do what was asked (exit 3).
    #[error("{0}")]
    Unsupported(String),
    /// No live session under the given id (exit 4).
    #[error("{0}")]
    NotFound(String),
    /// The store answered an error; its kind picks the exit code.
    #[error(transparent)]
    Store(#[from] Error),
    /// Writing the output failed (exit 1).
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

impl AdminError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Usage(_) => USAGE,
            AdminError::Unsupported(_) => UNSUPPORTED,
            AdminError::NotFound(_) => NOT_FOUND,
            AdminError::Store(Error::Config(_)) => USAGE,
            AdminError::Store(Error::Unsupported(_)) => UNSUPPORTED,
            AdminError::Store(_) | AdminError::Output(_) => FAILURE,
        }
    }
}

/// What every command returns.
pub type AdminResult<T> = Result<T, AdminError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_kind_of_error() {
        assert_eq!(AdminError::Usage("x".into()).exit_code(), USAGE);
        assert_eq!(
            AdminError::Store(Error::Config("x".into())).exit_code(),
            USAGE
        );
        assert_eq!(
            AdminError::Store(Error::Unsupported("scan")).exit_code(),
            UNSUPPORTED
        );
        assert_eq!(
            AdminError::Store(Error::backend("down")).exit_code(),
            FAILURE
        );
        assert_eq!(AdminError::NotFound("x".into()).exit_code(), NOT_FOUND);
        assert_eq!(OK, 0);
    }
}
