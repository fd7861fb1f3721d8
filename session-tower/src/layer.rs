//! The tower `Layer` and `Service` that give every request a lazy session and turn the
//! session's outcome into `Set-Cookie` (or the token header) before the response
//! leaves. The decisions are session-http's ([`Exchange`]); this file moves tower's
//! requests and responses through them.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use session_http::{Exchange, HttpSessions};
use tower_layer::Layer;
use tower_service::Service;

use crate::handler_failure::HandlerFailure;
use crate::Session;

/// A tower layer that attaches a [`Session`] to every request.
///
/// Handlers find the session in the request extensions
/// (`req.extensions().get::<session_tower::Session>()`) or, with axum, extract the
/// same [`Session`] type. The layer keeps the request's
/// [`SessionDriver`](session_core::SessionDriver): only it ends the request. The
/// session is saved (or touched, or deleted) before the response headers are
/// returned, so the token is always in the response that follows a change.
///
/// Made with [`SessionLayer::new`] (store and keys, everything else default),
/// [`SessionLayer::builder`] (every setting, checked once by
/// [`build`](session_http::Builder::build)), [`SessionLayer::development`] (a throwaway key), or
/// `From` an [`HttpSessions`] (what `session_any::SessionConfig::sessions` gives, and
/// what `session_actix::SessionMiddleware` is made from too).
#[derive(Clone)]
pub struct SessionLayer {
    sessions: HttpSessions,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionLayer").field(&self.sessions).finish()
    }
}

impl From<HttpSessions> for SessionLayer {
    fn from(sessions: HttpSessions) -> Self {
        SessionLayer { sessions }
    }
}

// `new`, `from_arc`, `builder`, `builder_from_arc`, `development`, `store`,
// `transport` and `sessions`, as every adapter has them.
session_http::adapter_constructors!(SessionLayer);

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            sessions: self.sessions.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    sessions: HttpSessions,
}

impl<S> std::fmt::Debug for SessionService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionService").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, std::result::Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let exchange = Exchange::begin(&self.sessions, req.headers());
        Box::pin(async move {
            req.extensions_mut()
                .insert(Session::from(exchange.session()));
            let mut res = inner.call(req).await?;
            let handler_failed = res.extensions_mut().remove::<HandlerFailure>();
            if let Some(HandlerFailure(error)) = &handler_failed {
                res = exchange.error_response(error).map(ResBody::from);
            }
            let status = res.status().as_u16();
            match exchange
                .finish(status, handler_failed.is_some(), res.headers_mut())
                .await
            {
                Ok(()) => Ok(res),
                Err(error_response) => Ok(error_response.map(ResBody::from)),
            }
        })
    }
}
