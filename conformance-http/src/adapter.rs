//! What an adapter gives the suite: a real server for a set of [`HttpSessions`].

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;

use session_http::HttpSessions;

/// A framework adapter under test: it serves the route convention
/// ([`respond`](crate::respond) on every path) under its middleware, built `From` the
/// given [`HttpSessions`], on a real server listening on `127.0.0.1:0`.
///
/// Each scenario calls [`serve`](Adapter::serve) once per app it needs (twice for key
/// rotation: one server per key set over one store) and drops the [`Served`] at its end.
///
/// For a framework whose handlers get the session from the request's extensions:
///
/// ```text
/// struct MyFramework;
///
/// impl session_conformance_http::Adapter for MyFramework {
///     async fn serve(&self, sessions: HttpSessions) -> std::io::Result<Served> {
///         let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
///         let addr = listener.local_addr()?;
///         let app = my_framework::App::new()
///             .wrap(my_adapter::SessionMiddleware::from(sessions))
///             .fallback(|req| async move {
///                 let session = req.session(); // Option<my_adapter::Session>
///                 match respond(req.path(), req.query(), session.as_deref()).await {
///                     Ok(reply) => Response::new(reply.status, reply.body),
///                     Err(e) => my_adapter::SessionError::from(e).into_response(),
///                 }
///             });
///         let task = tokio::spawn(my_framework::serve(listener, app));
///         Ok(Served::new(addr, AbortOnDrop(task)))
///     }
/// }
/// ```
///
/// The crate's README has a complete, compiling adapter (plain hyper).
pub trait Adapter {
    /// Starts a server for `sessions` and answers once it accepts connections.
    fn serve(&self, sessions: HttpSessions) -> impl Future<Output = std::io::Result<Served>>;
}

/// A running server: where it listens, and what stops it when dropped.
pub struct Served {
    addr: SocketAddr,
    _guard: Box<dyn Any>,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Served {
    /// A server listening on `addr`, stopped when `guard` drops (an aborting task
    /// handle, a server handle whose `Drop` stops it, a thread join guard).
    pub fn new(addr: SocketAddr, guard: impl Any) -> Served {
        Served {
            addr,
            _guard: Box::new(guard),
        }
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Aborts a tokio task when dropped: the guard for a server spawned on the test's
/// runtime.
#[derive(Debug)]
pub struct AbortOnDrop<T>(pub tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
