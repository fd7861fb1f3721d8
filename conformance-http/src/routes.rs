//! The route convention: what every route of the suite's app does to the session and
//! answers, written once, framework-free. An adapter's harness sends every request's
//! path and query here, with the session its middleware attached.

use std::time::{Duration, UNIX_EPOCH};

use session_core::{Error, Expiry, Level, Session, SessionExpiry};

/// What a route answers: a status and a plain-text body. The adapter's harness turns
/// it into its framework's response (and an `Err` from [`respond`] into its
/// framework's session error, so the middleware answers with the error response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body, as plain text.
    pub body: String,
}

impl Reply {
    fn ok(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
        }
    }

    fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
        }
    }
}

/// The query's parameters, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Query {
        Query(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn key(&self) -> Result<&str, Reply> {
        self.get("key")
            .ok_or_else(|| Reply::status(400, "missing `key`"))
    }

    /// A whole number of seconds, `Err` (a 400) when it is not one.
    fn seconds(&self, name: &str) -> Option<Result<Duration, Reply>> {
        self.get(name).map(|v| {
            v.parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| Reply::status(400, format!("`{name}` is not a number of seconds")))
        })
    }
}

/// Answers one request of the suite's app: `path` (`/set`, `/get`, ...) and `query`
/// (the raw query string, without `?`; empty if none), over the request's `session`
/// (`None` when the adapter found none, which every route but `/static` answers with a
/// 500 saying so). The route table is in the crate docs.
///
/// `Err` is a failed session call; the harness returns it as its framework's session
/// error type, so the middleware answers with the configured error response.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use session_core::{MemoryStore, SessionDriver, SessionOptions};
///
/// let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
/// let session = driver.session();
/// let r = session_conformance_http::respond("/set", "key=user&value=ada", Some(&session)).await?;
/// assert_eq!((r.status, r.body.as_str()), (200, "ok"));
/// let r = session_conformance_http::respond("/get", "key=user", Some(&session)).await?;
/// assert_eq!(r.body, "ada");
/// let r = session_conformance_http::respond("/static", "", None).await?;
/// assert_eq!(r.body, "static");
/// # Ok::<(), session_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn respond(path: &str, query: &str, session: Option<&Session>) -> Result<Reply, Error> {
    let query = Query::parse(query);
    if path == "/static" {
        return Ok(Reply::ok("static"));
    }
    let Some(session) = session else {
        return Ok(Reply::status(
            500,
            "no session: the adapter gave this request none",
        ));
    };
    route(path, &query, session).await
}

/// A route's reply (a 400 or 404 for a request outside the convention); `Err` is a
/// session failure.
async fn route(path: &str, q: &Query, s: &Session) -> Result<Reply, Error> {
    Ok(match path {
        "/set" => {
            let key = match q.key() {
                Ok(k) => k,
                Err(r) => return Ok(r),
            };
            s.insert(key, q.get("value").unwrap_or("")).await?;
            if q.get("save").is_some() {
                s.save().await;
            }
            Reply::ok("ok")
        }
        "/get" => match q.key() {
            Ok(key) => Reply::ok(s.get::<String>(key).await?.unwrap_or_else(|| "none".into())),
            Err(r) => return Ok(r),
        },
        "/remove" => {
            let key = match q.key() {
                Ok(k) => k,
                Err(r) => return Ok(r),
            };
            if q.get("raw").is_some() {
                let removed = s.remove_value(key).await?;
                Reply::ok(removed.map_or_else(|| "none".into(), |v| v.to_string()))
            } else {
                Reply::ok(
                    s.remove::<String>(key)
                        .await?
                        .unwrap_or_else(|| "none".into()),
                )
            }
        }
        "/len" => Reply::ok(s.len().await?.to_string()),
        "/counter" => Reply::ok(
            s.update("n", |n: Option<u64>| n.unwrap_or(0) + 1)
                .await?
                .to_string(),
        ),
        "/cycle" => {
            s.cycle_id().await;
            Reply::ok("cycled")
        }
        "/delete" => {
            s.delete().await?;
            match q.get("fail") {
                Some(_) => Reply::status(500, "deleted, then failed"),
                None => Reply::ok("deleted"),
            }
        }
        "/invalidate" => {
            s.invalidate().await?;
            if let Ok(key) = q.key() {
                s.insert(key, q.get("value").unwrap_or("")).await?;
            }
            Reply::ok("invalidated")
        }
        "/expiry" => match expiry(q, s).await {
            Ok(()) => Reply::ok("set"),
            Err(r) => return Ok(r),
        },
        "/lifetime" => {
            let own = s.expiry().await?;
            let age = s.expiry_age().await?;
            let whose = if own.is_some() { "own" } else { "layer" };
            Reply::ok(format!("{whose} {}", age.as_secs()))
        }
        "/deadline" => Reply::ok(match s.expires_at().await? {
            Some(t) => t
                .to_system()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                .to_string(),
            None => "none".into(),
        }),
        "/flash" => {
            s.flash(Level::Info, q.get("text").unwrap_or("")).await?;
            Reply::ok("flashed")
        }
        "/flashes" => {
            let texts: Vec<String> = s
                .take_flashes()
                .await?
                .into_iter()
                .map(|f| f.text)
                .collect();
            Reply::ok(texts.join(","))
        }
        "/fail" => {
            s.insert("failed", "yes").await?;
            Reply::status(500, "failed")
        }
        _ => return Ok(Reply::status(404, format!("no route {path}"))),
    })
}

/// `/expiry`: the session's own expiry, from the first parameter given.
async fn expiry(q: &Query, s: &Session) -> Result<(), Reply> {
    let bad = |e: Error| Reply::status(400, e.to_string());
    let chosen = if let Some(secs) = q.seconds("remember") {
        Some(SessionExpiry::remember_for(secs?).map_err(bad)?)
    } else if let Some(secs) = q.seconds("absolute") {
        Some(SessionExpiry::persistent(
            Expiry::absolute(secs?).map_err(bad)?,
        ))
    } else if q.get("browser").is_some() {
        Some(SessionExpiry::browser_session(s.options().expiry))
    } else if q.get("reset").is_some() {
        None
    } else {
        return Err(Reply::status(
            400,
            "give remember, absolute, browser or reset",
        ));
    };
    s.set_expiry(chosen).await;
    Ok(())
}
