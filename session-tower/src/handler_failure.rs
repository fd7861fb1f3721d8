//! The marker a handler's failed session operation leaves on its response.
//!
//! Not gated on the `axum` feature: the layer looks for it on every response, and any
//! framework's extractor may set it.

use std::sync::Arc;

/// Marks a response made from a session error inside a handler, so the layer can swap
/// in its configured error response (`on_error`).
#[derive(Clone)]
pub(crate) struct HandlerFailure(pub(crate) Arc<session_core::Error>);
