//! The one session handle a handler meets, with or without axum.

session_http::session_handle! {
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
    pub struct Session;
}
