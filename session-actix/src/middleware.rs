//! The actix-web middleware: a lazy session for every request, and its outcome turned
//! into `Set-Cookie` (or the token header) before the response head goes out. What to
//! send is session-http's decision ([`Exchange`]); this file moves actix-web's requests
//! and responses through it.

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::HttpMessage;
use futures::future::LocalBoxFuture;
use session_http::{Exchange, HttpSessions};

use crate::headers::{to_actix, RequestView, ResponseView};
use crate::{Session, SessionError};

/// actix-web middleware that gives every request a [`Session`]: `App::new().wrap(..)`.
///
/// The same sessions as `session_tower::SessionLayer`, from the same settings
/// ([`HttpSessions`]): lazy (a request that never touches its session costs no store
/// operation), a signed token with key rotation, every cookie attribute, `Vary`, the
/// session written before the response head goes out, nothing saved on a 5xx unless
/// configured, store errors answered by the error hook, and the token in a header for
/// API clients if configured.
///
/// ```no_run
/// use actix_web::{web, App, HttpServer};
/// use session_actix::{Session, SessionError, SessionMiddleware, SigningKeys};
/// use session_core::MemoryStore;
///
/// async fn counter(session: Session) -> Result<String, SessionError> {
///     let n = session.update("n", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
///     Ok(n.to_string())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = SigningKeys::new([std::env::var("SESSION_SECRET")?])?;
/// let sessions = SessionMiddleware::new(MemoryStore::new(), keys);
/// HttpServer::new(move || {
///     App::new()
///         .wrap(sessions.clone())
///         .route("/counter", web::get().to(counter))
/// })
/// .bind("127.0.0.1:8080")?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
///
/// Every setting through the builder, checked once by `build`:
///
/// ```
/// use session_actix::{SessionMiddleware, SigningKeys};
/// use session_core::MemoryStore;
///
/// let middleware = SessionMiddleware::builder(MemoryStore::new())
///     .keys(SigningKeys::new([[7u8; 32]])?)
///     .token_header("x-session-token")
///     .build()?;
/// // A store that keeps sessions server-side needs keys.
/// assert!(SessionMiddleware::builder(MemoryStore::new()).build().is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionMiddleware {
    sessions: HttpSessions,
}

impl From<HttpSessions> for SessionMiddleware {
    fn from(sessions: HttpSessions) -> Self {
        SessionMiddleware { sessions }
    }
}

// `new`, `from_arc`, `builder`, `builder_from_arc`, `development`, `store`,
// `transport` and `sessions`, as every adapter has them.
session_http::adapter_constructors!(SessionMiddleware);

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            inner: Rc::new(service),
            sessions: self.sessions.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app's.
pub struct SessionService<S> {
    inner: Rc<S>,
    sessions: HttpSessions,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let exchange = Exchange::begin(&self.sessions, &RequestView(req.headers()));
        req.extensions_mut()
            .insert(Session::from(exchange.session()));
        let inner = self.inner.clone();
        Box::pin(async move {
            let res = match inner.call(req).await {
                Ok(res) => res.map_into_left_body(),
                Err(error) => {
                    // An inner middleware failed instead of answering, and took the
                    // request with it, so there is no response to put a cookie on (a
                    // clone of the request, kept to build one, would break actix-web's
                    // routing). End the session as a failed request: nothing more is
                    // written unless configured; actix-web answers from the error.
                    let mut nowhere = http::HeaderMap::new();
                    let _ = exchange.finish(500, true, &mut nowhere).await;
                    return Err(error);
                }
            };
            let replacement = res
                .response()
                .error()
                .and_then(|e| e.as_error::<SessionError>())
                .map(|e| exchange.error_response(&e.0));
            let handler_failed = replacement.is_some();
            let mut res = match replacement {
                Some(r) => res.into_response(to_actix(r)).map_into_right_body(),
                None => res,
            };
            let status = res.status().as_u16();
            match exchange
                .finish(status, handler_failed, &mut ResponseView(res.headers_mut()))
                .await
            {
                Ok(()) => Ok(res),
                Err(r) => Ok(res.into_response(to_actix(r)).map_into_right_body()),
            }
        })
    }
}
