//! A session error as a handler's error type.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use session_http::default_error_response;

use crate::headers::to_actix;

session_http::session_error! {
    /// A session error as a handler's error type: `?` on any session call.
    /// [`SessionMiddleware`](crate::SessionMiddleware) logs the cause (once, at `ERROR`)
    /// and answers the client with the same response as for a failure at the end of the
    /// request (its [`on_error`](session_http::Builder::on_error) hook; by default a 503
    /// with `Retry-After: 1` for an unreachable or timed-out store, a 500 for anything
    /// else). Outside the middleware, the default response is sent.
    pub struct SessionError;
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        match self.0.is_temporary() {
            true => StatusCode::SERVICE_UNAVAILABLE,
            false => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Not logged here: the middleware logs it when it swaps in the configured
        // response; logging in both places would report every failure twice.
        to_actix(default_error_response(&self.0))
    }
}
