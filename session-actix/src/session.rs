//! The handle a handler meets, as an actix-web extractor.

use std::future::{ready, Ready};

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest};

session_http::session_handle! {
    /// The request's session: an extractor for any handler under
    /// [`SessionMiddleware`](crate::SessionMiddleware). It dereferences to
    /// [`session_core::Session`], so every session method (`get`, `insert`, `update`,
    /// `cycle_id`, `delete`, `flash`, ...) is called on it directly, exactly as with
    /// `session_tower::Session`.
    ///
    /// Cheap to clone: clones share the request's state. It cannot end the request; the
    /// middleware does that, after the handler answers. Without the middleware,
    /// extracting it fails with a 500 that says so.
    ///
    /// ```
    /// use session_actix::{Session, SessionError};
    ///
    /// async fn counter(session: Session) -> Result<String, SessionError> {
    ///     let n = session.update("n", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
    ///     Ok(n.to_string())
    /// }
    /// ```
    pub struct Session;
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = Ready<Result<Session, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.get_session().ok_or_else(missing_middleware))
    }
}

fn missing_middleware() -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(
        "no session: wrap the app in session_actix::SessionMiddleware",
    )
}

/// The session of a request, from code that holds the request rather than an
/// extractor argument: another middleware, a guard, a `ServiceRequest`. actix-session
/// has the same method; ours returns `None` outside [`SessionMiddleware`](crate::SessionMiddleware)
/// instead of a session that silently goes nowhere.
///
/// ```
/// use actix_web::HttpRequest;
/// use session_actix::SessionExt;
///
/// async fn handler(req: HttpRequest) -> String {
///     match req.get_session() {
///         Some(session) => format!("{:?}", session.get::<String>("user").await),
///         None => "no session middleware".into(),
///     }
/// }
/// ```
pub trait SessionExt {
    /// The request's session, if the request went through the middleware.
    fn get_session(&self) -> Option<Session>;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Option<Session> {
        self.extensions().get::<Session>().cloned()
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Option<Session> {
        self.extensions().get::<Session>().cloned()
    }
}
