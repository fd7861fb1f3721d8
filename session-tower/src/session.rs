//! The one session handle a handler meets, with or without axum.

use std::ops::Deref;

/// The request's session: the one type a handler uses, whatever the framework.
///
/// [`SessionLayer`](crate::SessionLayer) puts exactly this type in the request
/// extensions, so the extension a plain tower or hyper service reads
/// (`req.extensions().get::<session_tower::Session>()`) is the very type an axum
/// handler extracts (with the `axum` feature, `Session` implements
/// `FromRequestParts`). One name to learn, and code moves between the two without
/// change. It dereferences to [`session_core::Session`], so every session method
/// (`get`, `insert`, `update`, `cycle_id`, `delete`, ...) is called on it directly.
///
/// Cheap to clone: clones share the request's state. It cannot end the request; the
/// layer does that, after the inner service answers.
///
/// In a plain tower service:
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use session_core::MemoryStore;
/// use session_tower::{Session, SessionLayer, SigningKeys};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let keys = SigningKeys::new([[7u8; 32]])?;
/// let svc = SessionLayer::new(MemoryStore::new(), keys).layer(service_fn(
///     |req: Request<String>| async move {
///         let Some(session) = req.extensions().get::<Session>() else {
///             return Ok::<_, Infallible>(Response::new("no session layer".to_string()));
///         };
///         let n: u64 = session.update("n", |n: Option<u64>| n.unwrap_or(0) + 1).await.unwrap_or(0);
///         Ok(Response::new(n.to_string()))
///     },
/// ));
/// let res = svc.oneshot(Request::new(String::new())).await.unwrap();
/// assert_eq!(res.into_body(), "1");
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Session(session_core::Session);

impl Session {
    /// The framework-independent handle inside, for code written against
    /// `session_core` alone.
    pub fn into_inner(self) -> session_core::Session {
        self.0
    }
}

impl From<session_core::Session> for Session {
    /// Wraps a handle from a [`SessionDriver`](session_core::SessionDriver); what
    /// the layer does for every request, and what an adapter for another framework
    /// does.
    fn from(session: session_core::Session) -> Self {
        Session(session)
    }
}

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &session_core::Session {
        &self.0
    }
}

impl AsRef<session_core::Session> for Session {
    fn as_ref(&self) -> &session_core::Session {
        &self.0
    }
}
