//! The demo on actix-web: a thin app that reads each request's inputs, calls
//! [`pages`] and turns the [`Reply`] into an actix response. It answers
//! exactly as the axum router does: same routes, status codes, bodies and redirects.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, LOCATION, USER_AGENT};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, PayloadConfig, Query, ServiceConfig};
use actix_web::{App, FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder};
use session_actix::{Session, SessionError, SessionMiddleware};

use crate::pages::{self, Reply};
use crate::NOTE_BODY_LIMIT;

/// The demo's app behind `sessions`: what `HttpServer::new` builds for each worker,
/// `HttpServer::new(move || actix_app::app(sessions.clone()))`.
pub fn app(
    sessions: SessionMiddleware,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new().wrap(sessions).configure(configure)
}

/// The demo's routes, for an app that already wraps a [`SessionMiddleware`].
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get("/", index))
        .service(get("/login", login))
        .service(get("/logout", logout))
        .service(get("/devices", devices))
        .service(get("/logout-everywhere", logout_everywhere))
        .service(get("/counter", counter))
        .service(
            get("/note", read_note)
                // A longer body is not read: the handler answers the page's 413.
                .app_data(PayloadConfig::new(NOTE_BODY_LIMIT))
                .route(web::post().to(write_note)),
        );
}

/// `path` answering `GET` and `HEAD` with `handler`, and any other method with a
/// 405: what axum's `get` does (a bare `App::route` would answer 404 instead).
fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
}

/// A page's answer as an actix response; a session error goes to the middleware's
/// error response.
fn respond(reply: session_core::Result<Reply>) -> Result<HttpResponse, SessionError> {
    let reply = reply?;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    if let Some(content_type) = reply.content_type {
        res.insert_header((CONTENT_TYPE, content_type));
    }
    if let Some(location) = reply.location {
        res.insert_header((LOCATION, location));
    }
    Ok(res.body(reply.body))
}

async fn index(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::index(&session).await)
}

async fn login(
    session: Session,
    req: HttpRequest,
    Query(query): Query<HashMap<String, String>>,
) -> Result<HttpResponse, SessionError> {
    let agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
    respond(pages::login(&session, &query, agent).await)
}

async fn devices(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::devices(&session).await)
}

async fn logout_everywhere(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::logout_everywhere(&session).await)
}

async fn logout(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::logout(&session).await)
}

async fn counter(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::counter(&session).await)
}

async fn write_note(
    session: Session,
    body: Result<Bytes, actix_web::Error>,
) -> Result<HttpResponse, SessionError> {
    match body {
        Ok(body) => respond(pages::write_note(&session, &body).await),
        // The body limit's 413 is the page's, so both frameworks word it alike.
        Err(refused)
            if refused.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE =>
        {
            respond(Ok(pages::note_too_large()))
        }
        Err(refused) => Ok(refused.error_response()),
    }
}

async fn read_note(session: Session) -> Result<HttpResponse, SessionError> {
    respond(pages::read_note(&session).await)
}
