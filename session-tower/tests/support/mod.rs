//! A plain tower service behind a `SessionLayer`, and a client that sends it one
//! request at a time: the routes the transport and lifetime tests share.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code

use std::convert::Infallible;
use std::time::Duration;

use futures::future::BoxFuture;
use http::{HeaderMap, Request, Response, StatusCode};
use session_core::{Expiry, SessionExpiry};
use session_tower::{Session, SessionLayer};
use tower::util::BoxCloneService;
use tower::{service_fn, Layer, ServiceExt};

pub const KEY_A: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
pub const KEY_B: &[u8; 32] = b"fedcba9876543210fedcba9876543210";

pub fn keys(k: &[&[u8; 32]]) -> session_tower::SigningKeys {
    session_tower::SigningKeys::new(k.iter().map(|k| k.to_vec())).unwrap()
}

pub type App = BoxCloneService<Request<String>, Response<String>, Infallible>;

/// The routes, read from the request's own `session_tower::Session` extension:
/// `/login`, `/remember` (login with a 30-day persistent cookie), `/shared-computer`
/// (login with a browser-session cookie), `/forget` (back to the layer's lifetime),
/// `/visit` (a write: counts visits), `/whoami`, `/cycle`, `/logout`, anything else touches nothing.
pub fn app(layer: SessionLayer) -> App {
    let svc = layer.layer(service_fn(
        |req: Request<String>| -> BoxFuture<'static, _> {
            Box::pin(async move {
                let session = req.extensions().get::<Session>().cloned().unwrap();
                let body = route(req.uri().path(), &session).await;
                Ok::<_, Infallible>(Response::new(body))
            })
        },
    ));
    BoxCloneService::new(svc)
}

async fn route(path: &str, s: &Session) -> String {
    let day = Duration::from_secs(86_400);
    match path {
        "/login" => s.insert("user", "ada").await.map(|()| "ok".into()),
        "/remember" => {
            s.set_expiry(SessionExpiry::remember_for(day * 30).unwrap())
                .await;
            s.insert("user", "ada").await.map(|()| "ok".into())
        }
        "/shared-computer" => {
            s.set_expiry(SessionExpiry::browser_session(Expiry::idle(day).unwrap()))
                .await;
            s.insert("user", "ada").await.map(|()| "ok".into())
        }
        "/visit" => s
            .update("visits", |n: Option<u64>| n.unwrap_or(0) + 1)
            .await
            .map(|n| n.to_string()),
        "/forget" => {
            s.set_expiry(None).await;
            Ok("ok".into())
        }
        "/whoami" => s
            .get::<String>("user")
            .await
            .map(|u| u.unwrap_or_else(|| "anonymous".into())),
        "/cycle" => {
            s.cycle_id().await;
            Ok("cycled".into())
        }
        "/logout" => s.delete().await.map(|()| "bye".into()),
        _ => Ok("static".into()),
    }
    .unwrap_or_else(|e| format!("error: {e}"))
}

/// A response's status, headers and body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// Every value of header `name`, as text.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The one value of header `name`, if present.
    pub fn one(&self, name: &str) -> Option<String> {
        let all = self.all(name);
        assert!(all.len() <= 1, "{name} sent {} times: {all:?}", all.len());
        all.into_iter().next()
    }

    /// The `Set-Cookie` header, if one was sent.
    pub fn set_cookie(&self) -> Option<String> {
        self.one("set-cookie")
    }

    /// `name=value` of the cookie that was set.
    pub fn cookie(&self) -> Option<String> {
        self.set_cookie()
            .map(|c| c.split(';').next().unwrap().to_owned())
    }
}

/// Sends `GET path` with `headers` (name, value).
pub async fn send(app: &App, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::get(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = app
        .clone()
        .oneshot(req.body(String::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Everything `tracing` logs (DEBUG and up, no colours) on this thread while the
/// guard lives.
pub struct Logs {
    buf: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Logs {
    pub fn capture() -> Self {
        #[derive(Clone)]
        struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Writer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = std::sync::Arc::default();
        let writer = Writer(std::sync::Arc::clone(&buf));
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        Logs {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// The lines logged at `level` ("ERROR", "WARN", ...) so far.
    pub fn lines_at(&self, level: &str) -> Vec<String> {
        let text = String::from_utf8(self.buf.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter(|l| l.contains(level))
            .map(str::to_owned)
            .collect()
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.buf.lock().unwrap().clone()).unwrap()
    }
}
