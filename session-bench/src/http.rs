//! HTTP level: the demo app (`session_demo::app`) on each backend, the same routes with
//! no session layer, and the same routes behind tower-sessions' layer (from the peers
//! workspace), each server in its own process with its own tokio runtime (two worker
//! threads), under a load generator in this process on loopback.
//!
//! The load generator opens N keep-alive HTTP/1.1 connections (hyper's client, one
//! task each). Each connection is one returning visitor: its first request,
//! `GET /counter` without a cookie, creates a session; every later request carries the
//! cookie (updated from any `Set-Cookie`, as a browser would). Two workloads:
//!
//! - `GET /`: a read-only page that reads the session (one load; with the default
//!   touch policy, `Throttled(60 s)`, no write);
//! - `GET /counter`: read-modify-write (one load and one save per request).
//!
//! One second of warm-up, then the measured window; requests/s and latency quantiles
//! are over the window only.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rand::RngCore;
use session_any::SessionConfig;

use crate::measure::{quantile, round1, round2, TaskResult};
use crate::memcache::PrivateServer;
use crate::peers::Peers;
use crate::results::{HttpRow, Report};
use crate::serve::{login_page, until_stdin_closes};
use crate::{BoxResult, Options};

const PATHS: [&str; 2] = ["/", "/counter"];
const WARMUP: Duration = Duration::from_secs(1);

fn secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo's two measured routes with no session layer: the same page, and a counter
/// in a process-wide atomic.
fn bare_app() -> Router {
    let counter = Arc::new(AtomicU64::new(0));
    Router::new()
        .route("/", get(|| async { login_page(false) }))
        .route(
            "/counter",
            get(move || {
                let counter = counter.clone();
                async move { (counter.fetch_add(1, Ordering::Relaxed) + 1).to_string() }
            }),
        )
}

/// The server process: `serve [--url URL]` (no URL: the bare app). Prints
/// `LISTENING <addr>` and serves until its standard input closes.
pub async fn serve(url: Option<&str>) -> BoxResult<()> {
    let app = match url {
        None => bare_app(),
        Some(url) => {
            let mut config = SessionConfig::for_url(url);
            config.secrets = vec![secret()];
            config.cookie_secrets = vec![secret()];
            // Plain HTTP on loopback.
            config.cookie.secure = false;
            session_demo::app(config.layer().await?)
        }
    };
    until_stdin_closes(app).await
}

/// A server process, stopped (stdin closed, then killed if need be) when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(mut cmd: Command) -> BoxResult<Server> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let line = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map(|_| line)
            }),
        )
        .await;
        let line = match line {
            Ok(Ok(Ok(line))) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the server did not start".into());
            }
        };
        let Some(addr) = line.trim().strip_prefix("LISTENING ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the server said {line:?}").into());
        };
        Ok(Server {
            addr: addr.parse()?,
            child,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one connection saw in the measured window.
struct ConnStats {
    latencies: Vec<u64>,
    errors: u64,
}

async fn request(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    path: &str,
    cookie: &mut Option<String>,
) -> TaskResult<bool> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = Request::get(path).header(HOST, "127.0.0.1");
    if let Some(c) = cookie.as_deref() {
        req = req.header(COOKIE, c);
    }
    let req = req.body(Empty::new()).map_err(|e| e.to_string())?;
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    for value in res.headers().get_all(SET_COOKIE) {
        if let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) {
            match pair.split_once('=') {
                Some((_, v)) if !v.is_empty() => *cookie = Some(pair.to_owned()),
                _ => {}
            }
        }
    }
    let ok = res.status().is_success();
    let body = res.into_body().collect().await.map_err(|e| e.to_string())?;
    std::hint::black_box(body.to_bytes());
    Ok(ok)
}

async fn connection(
    addr: SocketAddr,
    path: &'static str,
    start: Instant,
    end: Instant,
) -> TaskResult<ConnStats> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut cookie = None;
    // The visit that creates the session.
    request(&mut sender, "/counter", &mut cookie).await?;
    let mut stats = ConnStats {
        latencies: Vec::new(),
        errors: 0,
    };
    loop {
        let began = Instant::now();
        if began >= end {
            break;
        }
        let ok = request(&mut sender, path, &mut cookie)
            .await
            .unwrap_or(false);
        if began >= start {
            stats.latencies.push(began.elapsed().as_nanos() as u64);
            if !ok {
                stats.errors += 1;
            }
        }
    }
    Ok(stats)
}

/// Drives `addr` with `connections` visitors on `path` for warm-up + `secs`.
async fn load(
    addr: SocketAddr,
    path: &'static str,
    connections: usize,
    secs: u64,
) -> BoxResult<(f64, f64, f64, u64)> {
    let start = Instant::now() + WARMUP;
    let window = Duration::from_secs(secs);
    let end = start + window;
    let handles: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(addr, path, start, end)))
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for h in handles {
        let s = h.await??;
        all.extend(s.latencies);
        errors += s.errors;
    }
    all.sort_unstable();
    let rps = (all.len() as f64 / window.as_secs_f64()).round();
    Ok((
        rps,
        round1(quantile(&all, 0.5) as f64 / 1000.0),
        round1(quantile(&all, 0.99) as f64 / 1000.0),
        errors,
    ))
}

fn row(stack: &str, backend: &str, path: &str, connections: usize) -> HttpRow {
    HttpRow {
        stack: stack.into(),
        backend: backend.into(),
        path: path.into(),
        connections,
        requests_per_s: 0.0,
        p50_us: 0.0,
        p99_us: 0.0,
        errors: 0,
        vs_bare: None,
        note: None,
    }
}

async fn measure(stack: &str, backend: &str, cmd: Command, opts: &Options) -> Vec<HttpRow> {
    eprintln!("http: {stack} on {backend}");
    let server = match Server::start(cmd).await {
        Ok(s) => s,
        Err(e) => {
            return PATHS
                .iter()
                .map(|p| {
                    let mut r = row(stack, backend, p, opts.connections);
                    r.note = Some(format!("server failed: {e}"));
                    r
                })
                .collect()
        }
    };
    let mut rows = Vec::new();
    for path in PATHS {
        let mut r = row(stack, backend, path, opts.connections);
        match load(server.addr, path, opts.connections, opts.http_secs).await {
            Ok((rps, p50, p99, errors)) => {
                r.requests_per_s = rps;
                r.p50_us = p50;
                r.p99_us = p99;
                r.errors = errors;
            }
            Err(e) => r.note = Some(format!("load generator failed: {e}")),
        }
        rows.push(r);
    }
    drop(server);
    rows
}

/// The URL the demo gets for `backend`, with a per-run table or prefix.
fn demo_url(
    backend: &str,
    opts: &Options,
    scratch: &Path,
    memcache: Option<&str>,
) -> Option<String> {
    let pid = std::process::id();
    Some(match backend {
        "memory" => "memory://".into(),
        "file" => format!("file://{}", scratch.join("http-files").display()),
        "file-nosync" => format!(
            "file://{}?durable=false",
            scratch.join("http-files-nosync").display()
        ),
        "sqlite" => format!(
            "sqlite://{}?session_table=bench_http_{pid}",
            scratch.join("http.db").display()
        ),
        "postgres" | "mysql" => {
            let base = if backend == "postgres" {
                &opts.postgres
            } else {
                &opts.mysql
            };
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}session_table=bench_http_{pid}")
        }
        "redis" => {
            let sep = if opts.redis.contains('?') { '&' } else { '?' };
            format!("{}{sep}prefix=bench:http:{pid}:", opts.redis)
        }
        "memcache" => format!("memcache://{}", memcache?),
        "cookie" => "cookie://".into(),
        _ => return None,
    })
}

/// Removes what the demo servers left in shared servers.
async fn clean(backend: &str, opts: &Options) {
    let pid = std::process::id();
    match backend {
        "postgres" | "mysql" => {
            let url = if backend == "postgres" {
                &opts.postgres
            } else {
                &opts.mysql
            };
            if let Ok(store) = session_sql::SqlStore::connect(url).await {
                if let Ok(table) = session_sql::TableName::new(&format!("bench_http_{pid}")) {
                    crate::sql::drop_tables(store.pool(), &[table]).await;
                }
                store.pool().close().await;
            }
        }
        "redis" => {
            if let Ok(conn) = crate::redis::connect(&opts.redis).await {
                let options =
                    session_redis::RedisOptions::new().with_prefix(format!("bench:http:{pid}:"));
                if let Ok(store) = session_redis::RedisStore::from_manager(conn, options) {
                    let _ = store.delete_all().await;
                }
            }
        }
        _ => {}
    }
}

/// Every HTTP run: the bare app, ours on each of `backends` that is reachable, and
/// tower-sessions on the shared ones.
pub async fn run(
    opts: &Options,
    backends: &[String],
    scratch: &Path,
    peers: Option<&Peers>,
    memcached: &mut Option<PrivateServer>,
    report: &mut Report,
) -> BoxResult<Vec<HttpRow>> {
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    let serve = |url: Option<&str>| {
        let mut cmd = crate::pin::server_command(&exe);
        cmd.arg("serve");
        if let Some(u) = url {
            cmd.args(["--url", u]);
        }
        cmd
    };
    rows.extend(measure("bare", "none", serve(None), opts).await);
    let skipped: Vec<String> = report.skipped.clone();
    for backend in backends {
        let unreachable = skipped
            .iter()
            .any(|s| s.starts_with(&format!("{backend} not reachable")));
        if unreachable {
            continue;
        }
        let memcache_addr = if backend == "memcache" {
            match crate::memcache_servers(opts, memcached).await {
                Ok(s) => s.first().cloned(),
                Err(e) => {
                    report.skipped.push(format!("memcache not reachable: {e}"));
                    continue;
                }
            }
        } else {
            None
        };
        let Some(url) = demo_url(backend, opts, scratch, memcache_addr.as_deref()) else {
            continue;
        };
        rows.extend(measure("ours", backend, serve(Some(&url)), opts).await);
        clean(backend, opts).await;
        if let Some(p) = peers {
            if crate::peers::SHARED.contains(&backend.as_str()) {
                let peer_scratch = opts.scratch()?;
                let url = Peers::url(backend, opts, Some(peer_scratch.path()));
                let cmd = p.serve_command(backend, url.as_deref());
                rows.extend(measure("tower-sessions", backend, cmd, opts).await);
            }
        }
    }
    let bare: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.stack == "bare")
        .map(|r| (r.path.clone(), r.requests_per_s))
        .collect();
    for r in &mut rows {
        if let Some((_, b)) = bare.iter().find(|(p, _)| *p == r.path) {
            if *b > 0.0 && r.stack != "bare" {
                r.vs_bare = Some(round2(r.requests_per_s / b));
            }
        }
    }
    Ok(rows)
}
