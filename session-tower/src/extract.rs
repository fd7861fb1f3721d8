//! The axum side: [`Session`] as an extractor, and the error response for handlers.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::handler_failure::HandlerFailure;
use crate::Session;

/// Extracts the [`Session`] that [`SessionLayer`](crate::SessionLayer) put in the
/// request extensions. Without the layer on the router, extraction fails with a 500
/// that says so.
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "no session: add session_tower::SessionLayer to the router",
        ))
    }
}

session_http::session_error! {
    /// A session error as a handler's error type: `?` on any session call.
    /// [`SessionLayer`](crate::SessionLayer) logs the cause (once, at `ERROR`) and answers
    /// the client with the same response as for a failure at the end of the request (its
    /// [`on_error`](session_http::Builder::on_error) hook; by default a 503 with
    /// `Retry-After: 1` for an unreachable or timed-out store, a 500 for anything else). A session only
    /// exists under the layer, so the layer always sees it; without the layer the response
    /// is a bare 500.
    pub struct SessionError;
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        // Not logged here: the layer logs it when it turns the marker into its error
        // response, and logging in both places reported every failure twice.
        let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        res.extensions_mut()
            .insert(HandlerFailure(Arc::new(self.0)));
        res
    }
}
