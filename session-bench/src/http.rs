//! HTTP level: the demo app (`session_demo::app`) on each backend, the same routes with
//! no session layer, and the same routes behind tower-sessions' layer (from the peers
//! workspace), each server in its own process with its own tokio runtime (two worker
//! threads), under a load generator in this process on loopback. The same three on
//! actix-web (`--frameworks`): the demo's actix app (`session_demo::actix_app`) over
//! `session_actix`'s middleware (`ours-actix`), the bare actix app (`bare-actix`), and actix-session's middleware
//! on the backends it shares with ours, Redis and the cookie (`actix-session`, from
//! the peers workspace); each actix server runs two workers. On each framework the
//! `hand-written` app ([`crate::hand_written`]) serves the same two routes with no
//! session library, its own signed cookie and the raw client: the limit.
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
//! are over the window only. `vs bare app` divides by the bare app of the same
//! framework on the same path; an `ours` row's `vs hand-written` by the hand-written
//! app and its `vs peer` by the other library, on the same framework, backend and
//! path.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{COOKIE, HOST, SET_COOKIE};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rand::RngCore;
use session_any::SessionConfig;

use crate::hand_written::{self, Reply};
use crate::measure::{quantile, round1, round2, TaskResult};
use crate::memcache::PrivateServer;
use crate::peers::Peers;
use crate::results::{HttpRow, Report};
use crate::serve::{login_page, until_stdin_closes};
use crate::serve_actix;
use crate::{BoxResult, Options};

/// The web framework of a server under load, and so of its row's stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Framework {
    /// axum 0.8 (our tower layer, tower-sessions).
    Axum,
    /// actix-web 4 (our actix middleware, actix-session).
    Actix,
}

impl Framework {
    /// The stack name of the app without sessions.
    fn bare(self) -> &'static str {
        match self {
            Framework::Axum => "bare",
            Framework::Actix => "bare-actix",
        }
    }

    /// The stack name of the demo on our sessions.
    fn ours(self) -> &'static str {
        match self {
            Framework::Axum => "ours",
            Framework::Actix => "ours-actix",
        }
    }

    /// The stack name of the hand-written limit.
    fn hand_written(self) -> &'static str {
        match self {
            Framework::Axum => "hand-written",
            Framework::Actix => "hand-written-actix",
        }
    }

    /// The other library's stack on this framework, and the backends it shares with
    /// ours.
    fn peer(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Framework::Axum => ("tower-sessions", crate::peers::SHARED),
            Framework::Actix => ("actix-session", crate::peers::ACTIX_SHARED),
        }
    }

    /// The framework a row's stack ran on.
    fn of_stack(stack: &str) -> Framework {
        if [
            Framework::Actix.bare(),
            Framework::Actix.ours(),
            Framework::Actix.hand_written(),
            Framework::Actix.peer().0,
        ]
        .contains(&stack)
        {
            Framework::Actix
        } else {
            Framework::Axum
        }
    }

    /// `--framework` of the `serve` process.
    fn arg(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::Actix => "actix",
        }
    }
}

const PATHS: [&str; 2] = ["/", "/counter"];
const WARMUP: Duration = Duration::from_secs(1);

fn secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo's two measured routes with no session layer: the same page, and a counter
/// in a process-wide atomic.
pub(crate) fn bare_app() -> Router {
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

/// The demo's settings for `url`: fresh secrets, plain HTTP on loopback.
pub(crate) fn demo_config(url: &str) -> SessionConfig {
    let mut config = SessionConfig::for_url(url);
    config.secrets = vec![secret()];
    config.cookie_secrets = vec![secret()];
    config.cookie.secure = false;
    config
}

/// Which app a server process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stack {
    /// The demo app on our sessions (`--url`), or the bare app (no `--url`).
    Demo,
    /// The hand-written limit on `--backend` ([`crate::hand_written`]).
    HandWritten,
}

/// The stack name of our demo observed ([`ServeArgs::observe`]), on axum and the
/// memory store: what a `tracing` subscriber and the Prometheus recorder cost.
const OBSERVED: &str = "ours-observed";

/// The options of the internal `serve` command.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The app: the demo (or with no `--url` the bare app), or the hand-written limit.
    #[arg(long, value_enum, default_value = "demo")]
    pub stack: Stack,
    /// The demo's store URL (none: the bare app); the hand-written app's Redis or
    /// SQLite URL.
    #[arg(long)]
    pub url: Option<String>,
    /// The web framework serving it.
    #[arg(long, value_enum, default_value = "axum")]
    pub framework: Framework,
    /// The hand-written app's backend.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(hand_written::BACKENDS.iter().copied()))]
    pub backend: Option<String>,
    /// The hand-written app's Redis key prefix or SQLite table.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Observe first: a `tracing` subscriber recording the session spans and the
    /// Prometheus recorder ([`crate::observe`]).
    #[arg(long)]
    pub observe: bool,
}

impl ServeArgs {
    async fn hand_written(&self) -> BoxResult<Arc<hand_written::App>> {
        let backend = self
            .backend
            .as_deref()
            .ok_or("--stack hand-written needs --backend")?;
        Ok(Arc::new(
            hand_written::App::open(backend, self.url.as_deref(), &self.prefix).await?,
        ))
    }
}

/// The server process: `serve [--url URL]` (no URL: the bare app), or `serve --stack
/// hand-written --backend B`. Prints `LISTENING <addr>` and serves until its standard
/// input closes.
pub async fn serve(args: &ServeArgs) -> BoxResult<()> {
    let app = match (args.stack, args.url.as_deref()) {
        (Stack::HandWritten, _) => hand_written_app(args.hand_written().await?),
        (Stack::Demo, None) => bare_app(),
        (Stack::Demo, Some(url)) => session_demo::app(demo_config(url).layer().await?),
    };
    until_stdin_closes(app).await
}

/// The hand-written app's cookie value in `headers`.
fn hw_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| hand_written::cookie_value(h, hand_written::COOKIE))
}

/// A hand-written route's answer on axum: `content_type` and the cookie, or a 500.
fn hw_response(reply: BoxResult<Reply>, content_type: &'static str) -> Response {
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hand-written: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = reply.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(c) = reply
        .set_cookie
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(SET_COOKIE, c);
    }
    response
}

const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// [`hand_written`]'s two routes on axum.
pub(crate) fn hand_written_app(app: Arc<hand_written::App>) -> Router {
    Router::new()
        .route(
            "/",
            get(
                |State(app): State<Arc<hand_written::App>>, headers: HeaderMap| async move {
                    hw_response(app.index(hw_cookie(&headers)).await, HTML)
                },
            ),
        )
        .route(
            "/counter",
            get(
                |State(app): State<Arc<hand_written::App>>, headers: HeaderMap| async move {
                    hw_response(app.counter(hw_cookie(&headers)).await, TEXT)
                },
            ),
        )
        .with_state(app)
}

/// A hand-written route's answer on actix-web.
fn hw_actix_response(reply: BoxResult<Reply>, content_type: &'static str) -> HttpResponse {
    match reply {
        Ok(reply) => {
            let mut response = HttpResponse::Ok();
            response.content_type(content_type);
            if let Some(c) = reply.set_cookie {
                response.insert_header((SET_COOKIE.as_str(), c));
            }
            response.body(reply.body)
        }
        Err(e) => {
            eprintln!("hand-written: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn hw_actix_cookie(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get_all(COOKIE.as_str())
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| hand_written::cookie_value(h, hand_written::COOKIE))
}

/// [`hand_written`]'s two routes on actix-web.
fn hand_written_actix_app(cfg: &mut web::ServiceConfig, app: Arc<hand_written::App>) {
    cfg.app_data(web::Data::from(app))
        .route(
            "/",
            web::get().to(
                |app: web::Data<hand_written::App>, req: HttpRequest| async move {
                    hw_actix_response(app.index(hw_actix_cookie(&req)).await, HTML)
                },
            ),
        )
        .route(
            "/counter",
            web::get().to(
                |app: web::Data<hand_written::App>, req: HttpRequest| async move {
                    hw_actix_response(app.counter(hw_actix_cookie(&req)).await, TEXT)
                },
            ),
        );
}

/// [`bare_app`] on actix-web.
fn bare_actix_app(cfg: &mut web::ServiceConfig, counter: Arc<AtomicU64>) {
    cfg.route(
        "/",
        web::get().to(|| async { serve_actix::login_response(false) }),
    )
    .route(
        "/counter",
        web::get().to(move || {
            let counter = counter.clone();
            async move { (counter.fetch_add(1, Ordering::Relaxed) + 1).to_string() }
        }),
    );
}

/// The server process on actix-web: `serve --framework actix [--url URL]` (no URL: the
/// bare actix app; else the demo's actix app; `--stack hand-written`: the limit). Its
/// own actix system, like any actix app's `main`.
pub fn serve_actix(args: &ServeArgs) -> BoxResult<()> {
    actix_web::rt::System::new().block_on(async move {
        if args.stack == Stack::HandWritten {
            // One app (one connection manager or pool) shared by both workers, as the
            // axum server shares it between its two worker threads.
            let app = args.hand_written().await?;
            return serve_actix::serve!(move || {
                let app = app.clone();
                App::new().configure(move |cfg| hand_written_actix_app(cfg, app))
            })
            .await;
        }
        match args.url.as_deref() {
            None => {
                let counter = Arc::new(AtomicU64::new(0));
                serve_actix::serve!(move || {
                    let counter = counter.clone();
                    App::new().configure(move |cfg| bare_actix_app(cfg, counter))
                })
                .await
            }
            Some(url) => {
                let sessions =
                    session_actix::SessionMiddleware::from(demo_config(url).sessions().await?);
                serve_actix::serve!(move || session_demo::actix_app::app(sessions.clone())).await
            }
        }
    })
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
        vs_hand_written: None,
        vs_peer: None,
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

/// Removes the keys under `prefix` (a run's own, as actix-session names them) from
/// the shared Redis: `SCAN` then `UNLINK`, nothing else.
async fn clean_prefix(url: &str, prefix: &str) {
    use session_redis::redis;
    let Ok(mut conn) = crate::redis::connect(url).await else {
        return;
    };
    let pattern = format!("{prefix}*");
    let mut cursor: u64 = 0;
    loop {
        let page: Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await;
        let Ok((next, keys)) = page else {
            return;
        };
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await;
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

/// Every HTTP run, per framework of `--frameworks`: the bare app, ours on each of
/// `backends` that is reachable, and the other library (tower-sessions on axum,
/// actix-session on actix) on the backends it shares with ours.
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
    let serve = |framework: Framework, url: Option<&str>| {
        let mut cmd = crate::pin::server_command(&exe);
        cmd.args(["serve", "--framework", framework.arg()]);
        if let Some(u) = url {
            cmd.args(["--url", u]);
        }
        cmd
    };
    for &framework in &opts.frameworks {
        rows.extend(measure(framework.bare(), "none", serve(framework, None), opts).await);
    }
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
        for &framework in &opts.frameworks {
            rows.extend(
                measure(
                    framework.ours(),
                    backend,
                    serve(framework, Some(&url)),
                    opts,
                )
                .await,
            );
            clean(backend, opts).await;
            if backend == "memory" && framework == Framework::Axum {
                // What observing costs: the same server with a subscriber and the
                // recorder installed.
                let mut cmd = serve(framework, Some(&url));
                cmd.arg("--observe");
                rows.extend(measure(OBSERVED, backend, cmd, opts).await);
            }
            if hand_written::BACKENDS.contains(&backend.as_str()) {
                let prefix = format!("bench:http:hand-written:{}:", std::process::id());
                let mut cmd = crate::pin::server_command(&exe);
                cmd.args(["serve", "--stack", "hand-written", "--framework"])
                    .args([framework.arg(), "--backend", backend]);
                match backend.as_str() {
                    "redis" => {
                        cmd.args(["--url", &opts.redis, "--prefix", &prefix]);
                    }
                    "sqlite" => {
                        let db = crate::sql::sqlite_url(scratch, "hand-written.db");
                        cmd.args(["--url", &db, "--prefix", "hand_written"]);
                    }
                    _ => {}
                }
                rows.extend(measure(framework.hand_written(), backend, cmd, opts).await);
                if backend == "redis" {
                    clean_prefix(&opts.redis, &prefix).await;
                }
            }
            let (stack, shared) = framework.peer();
            let Some(p) = peers.filter(|_| shared.contains(&backend.as_str())) else {
                continue;
            };
            let peer_scratch = opts.scratch()?;
            let url = Peers::url(backend, opts, Some(peer_scratch.path()));
            let prefix = (framework == Framework::Actix && backend == "redis")
                .then(|| format!("bench:http:actix-session:{}:", std::process::id()));
            let cmd = p.serve_command(stack, backend, url.as_deref(), prefix.as_deref());
            rows.extend(measure(stack, backend, cmd, opts).await);
            if let Some(prefix) = prefix {
                clean_prefix(&opts.redis, &prefix).await;
            }
        }
    }
    let bare: Vec<(Framework, String, f64)> = rows
        .iter()
        .filter(|r| r.stack == Framework::of_stack(&r.stack).bare())
        .map(|r| {
            (
                Framework::of_stack(&r.stack),
                r.path.clone(),
                r.requests_per_s,
            )
        })
        .collect();
    let rate = |stack: &str, backend: &str, path: &str| {
        rows.iter()
            .find(|o| o.stack == stack && o.backend == backend && o.path == path)
            .map(|o| o.requests_per_s)
            .filter(|&x| x > 0.0)
    };
    let against: Vec<(Option<f64>, Option<f64>)> = rows
        .iter()
        .map(|r| {
            let framework = Framework::of_stack(&r.stack);
            if r.stack != framework.ours() {
                return (None, None);
            }
            let by = |stack| rate(stack, &r.backend, &r.path).map(|x| round2(r.requests_per_s / x));
            (by(framework.hand_written()), by(framework.peer().0))
        })
        .collect();
    let unobserved: Vec<Option<f64>> = rows
        .iter()
        .map(|r| {
            (r.stack == OBSERVED)
                .then(|| rate(Framework::Axum.ours(), &r.backend, &r.path))
                .flatten()
                .map(|x| round2(r.requests_per_s / x))
        })
        .collect();
    for (r, (hw, peer)) in rows.iter_mut().zip(against) {
        r.vs_hand_written = hw;
        r.vs_peer = peer;
    }
    for (r, x) in rows.iter_mut().zip(unobserved) {
        if let (Some(x), None) = (x, &r.note) {
            r.note = Some(format!("{x:.2} × ours unobserved"));
        }
    }
    for r in &mut rows {
        let framework = Framework::of_stack(&r.stack);
        if r.stack == framework.bare() {
            continue;
        }
        if let Some((_, _, b)) = bare
            .iter()
            .find(|(f, p, _)| *f == framework && *p == r.path)
        {
            if *b > 0.0 {
                r.vs_bare = Some(round2(r.requests_per_s / b));
            }
        }
    }
    Ok(rows)
}
