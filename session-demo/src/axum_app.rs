//! The demo on axum: a thin router that reads each request's inputs, calls
//! [`pages`] and turns the [`Reply`] into an axum response.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query};
use axum::http::header::{CONTENT_TYPE, LOCATION, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use session_tower::{Session, SessionError, SessionLayer};

use crate::pages::{self, Reply};
use crate::NOTE_BODY_LIMIT;

/// The demo's routes behind `layer`.
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/logout", get(logout))
        .route("/devices", get(devices))
        .route("/logout-everywhere", get(logout_everywhere))
        .route("/counter", get(counter))
        .route(
            "/note",
            get(read_note)
                .post(write_note)
                .layer(DefaultBodyLimit::max(NOTE_BODY_LIMIT)),
        )
        .layer(layer)
}

/// A page's answer as an axum response; a session error goes to the layer's error
/// response.
fn respond(reply: session_core::Result<Reply>) -> Result<Response, SessionError> {
    let reply = reply?;
    let mut res = Response::new(Body::from(reply.body));
    *res.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(content_type) = reply.content_type {
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Some(location) = reply.location {
        res.headers_mut()
            .insert(LOCATION, HeaderValue::from_static(location));
    }
    Ok(res)
}

async fn index(session: Session) -> Result<Response, SessionError> {
    respond(pages::index(&session).await)
}

async fn login(
    session: Session,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, SessionError> {
    let agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    respond(pages::login(&session, &query, agent).await)
}

async fn devices(session: Session) -> Result<Response, SessionError> {
    respond(pages::devices(&session).await)
}

async fn logout_everywhere(session: Session) -> Result<Response, SessionError> {
    respond(pages::logout_everywhere(&session).await)
}

async fn logout(session: Session) -> Result<Response, SessionError> {
    respond(pages::logout(&session).await)
}

async fn counter(session: Session) -> Result<Response, SessionError> {
    respond(pages::counter(&session).await)
}

async fn write_note(
    session: Session,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, SessionError> {
    match body {
        Ok(body) => respond(pages::write_note(&session, &body).await),
        // The body limit's 413 is the page's, so both frameworks word it alike.
        Err(refused) if refused.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            respond(Ok(pages::note_too_large()))
        }
        Err(refused) => Ok(refused.into_response()),
    }
}

async fn read_note(session: Session) -> Result<Response, SessionError> {
    respond(pages::read_note(&session).await)
}
