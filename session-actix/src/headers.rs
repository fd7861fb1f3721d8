//! actix-web's header maps lent to session-http, and session-http's error responses
//! turned into actix-web's.
//!
//! actix-web 4 keeps its own `HeaderMap` and builds on the `http` crate's 0.2 line,
//! while session-http speaks `http` 1.x: the two wrappers and the conversion below are
//! the whole bridge. Names and values are copied as bytes; both lines check them by the
//! same grammar, so nothing valid on one side is refused by the other.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use session_http::{RequestHeaders, ResponseHeaders};

/// A request's headers, read by [`session_http::Exchange::begin`].
pub(crate) struct RequestView<'a>(pub(crate) &'a HeaderMap);

impl RequestHeaders for RequestView<'_> {
    fn header_values<'h>(
        &'h self,
        name: &'h http::HeaderName,
    ) -> impl Iterator<Item = &'h [u8]> + 'h {
        values(self.0, name)
    }
}

/// Every value of `name` in an actix-web map, as raw bytes.
fn values<'h>(
    map: &'h HeaderMap,
    name: &'h http::HeaderName,
) -> impl Iterator<Item = &'h [u8]> + 'h {
    map.get_all(name.as_str()).map(HeaderValue::as_bytes)
}

/// A response's headers, edited by [`session_http::Exchange::finish`].
pub(crate) struct ResponseView<'a>(pub(crate) &'a mut HeaderMap);

impl RequestHeaders for ResponseView<'_> {
    fn header_values<'h>(
        &'h self,
        name: &'h http::HeaderName,
    ) -> impl Iterator<Item = &'h [u8]> + 'h {
        values(self.0, name)
    }
}

impl ResponseHeaders for ResponseView<'_> {
    fn append_header(&mut self, name: &http::HeaderName, value: &http::HeaderValue) {
        if let Some((name, value)) = convert(name, value) {
            self.0.append(name, value);
        }
    }

    fn insert_header(&mut self, name: &http::HeaderName, value: &http::HeaderValue) {
        if let Some((name, value)) = convert(name, value) {
            self.0.insert(name, value);
        }
    }

    fn contains_header(&self, name: &http::HeaderName) -> bool {
        self.0.contains_key(name.as_str())
    }
}

/// A header from the `http` 1.x line as actix-web's. Cannot fail for anything
/// session-http makes (the same grammar checked it); if it ever did, the header is
/// dropped with an error in the log rather than a panic in a request.
fn convert(
    name: &http::HeaderName,
    value: &http::HeaderValue,
) -> Option<(HeaderName, HeaderValue)> {
    match (
        HeaderName::from_bytes(name.as_str().as_bytes()),
        HeaderValue::from_bytes(value.as_bytes()),
    ) {
        (Ok(name), Ok(value)) => Some((name, value)),
        _ => {
            tracing::error!(header = %name, "a session header could not be carried over to actix-web");
            None
        }
    }
}

/// session-http's error response (from the configured hook) as actix-web's.
pub(crate) fn to_actix(response: http::Response<String>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::with_body(status, body).map_into_boxed_body();
    for (name, value) in &parts.headers {
        if let Some((name, value)) = convert(name, value) {
            res.headers_mut().append(name, value);
        }
    }
    res
}
