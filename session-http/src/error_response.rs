//! What the client gets when the store fails.

use std::sync::Arc;

use http::header::RETRY_AFTER;
use http::{HeaderValue, Response, StatusCode};
use session_core::Error;

/// Turns a store error into the response the client gets. Sessions fail closed: the
/// default, [`default_error_response`], answers an empty `503 Service Unavailable` with
/// `Retry-After: 1` for a temporary backend error ([`Error::is_temporary`]: the store
/// is unreachable or timed out, the client may retry, a load balancer sees an outage)
/// and an empty `500 Internal Server Error` for anything else, other backend errors
/// (a missing table, an unexpected reply, a disk error) included.
///
/// It returns an [`http::Response`] whatever the framework: each adapter converts it
/// into its own response type.
pub type ErrorHook = Arc<dyn Fn(&Error) -> Response<String> + Send + Sync>;

/// The response sent when the store fails, unless
/// [`Builder::on_error`](crate::Builder::on_error) sets another: an empty 503 with
/// `Retry-After: 1` when the store is unreachable or timed out (a backend error whose
/// kind is temporary, [`Error::is_temporary`]: the client may retry, and a load
/// balancer or monitor sees an outage, not a bug), an empty 500 for anything else, a
/// backend error that a retry does not cure included. A custom hook can fall back to
/// it.
///
/// ```
/// use http::StatusCode;
/// use session_core::{BackendError, BackendErrorKind, Error, Operation};
/// use session_http::default_error_response;
///
/// let refused = BackendError::new(BackendErrorKind::Unavailable, "connection refused")
///     .with_store("redis")
///     .with_operation(Operation::Load);
/// let outage = default_error_response(&Error::from(refused));
/// assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(outage.headers()["retry-after"], "1");
///
/// let timed_out = BackendError::timed_out(std::time::Duration::from_secs(2));
/// let outage = default_error_response(&Error::from(timed_out));
/// assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
///
/// // The server answered, with an error a retry does not cure: a bug or a broken
/// // deployment, not an outage.
/// let missing = BackendError::new(BackendErrorKind::Server, "no such table: sessions");
/// let broken = default_error_response(&Error::from(missing));
/// assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(broken.headers().get("retry-after").is_none());
///
/// let bug = default_error_response(&Error::TooLarge { limit: 10, size: 20 });
/// assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
pub fn default_error_response(error: &Error) -> Response<String> {
    let mut res = Response::new(String::new());
    if error.is_temporary() {
        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    } else {
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    res
}
