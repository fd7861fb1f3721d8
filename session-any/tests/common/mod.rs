//! Helpers the test binaries of session-any share.

use session_core::Error;

/// The message of a `Config` error; anything else fails the test.
pub fn config_error(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Config(msg)) => msg,
        other => panic!("expected a Config error, got {other:?}"),
    }
}
