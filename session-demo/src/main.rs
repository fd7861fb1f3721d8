//! `cargo run -p session-demo`: the demo on axum on 127.0.0.1:8080 with sessions in files
//! under `./sessions`. `--framework actix`, `--addr`, `SESSION_URL` or
//! `--config <file.toml>` choose otherwise (`SESSION_CACHE_URL` or `cache` puts a cache
//! in front of the store); `--metrics ADDR` serves Prometheus metrics.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use rand::RngCore;
use session_any::{SessionConfig, SECRET_ENV};
use session_http::HttpSessions;

/// The web framework the demo serves with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Framework {
    /// axum, behind session-tower's `SessionLayer`.
    Axum,
    /// actix-web, behind session-actix's `SessionMiddleware`, one worker per core.
    Actix,
}

#[derive(Parser, Debug)]
#[command(about = "Session demo: web.py's login/logout example and a counter")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DEMO_ADDR")]
    addr: SocketAddr,
    /// A TOML session configuration (see session-any's `SessionConfig`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The web framework to serve with.
    #[arg(long, value_enum, default_value_t = Framework::Axum, env = "DEMO_FRAMEWORK")]
    framework: Framework,
    /// Serve the session metrics in Prometheus' text format at `http://ADDR/metrics`
    /// (e.g. `127.0.0.1:9000`; port 0 picks a free one, printed at start).
    #[arg(long, value_name = "ADDR", env = "DEMO_METRICS")]
    metrics: Option<SocketAddr>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("session-demo: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Before the sessions are built, so that nothing they count is lost.
    if let Some(addr) = args.metrics {
        serve_metrics(addr).await?;
    }
    let mut config = match &args.config {
        Some(path) => SessionConfig::from_toml(&std::fs::read_to_string(path)?)?,
        None => SessionConfig::default(),
    };
    config = config.with_env_overrides(|k| std::env::var(k).ok())?;
    if std::env::var_os("SESSION_URL").is_none() && args.config.is_none() {
        config.url = session_demo_default_url()?;
    }
    if std::env::var_os("SESSION_COOKIE_SECURE").is_none() && args.config.is_none() {
        // The demo serves plain HTTP; a Secure cookie would never come back.
        config.cookie.secure = false;
    }
    // `cookie://` seals its values and signs nothing: it needs no signing key, so the
    // demo neither warns about one nor makes one up.
    if config.needs_signing_keys()
        && config.secrets.is_empty()
        && std::env::var_os(SECRET_ENV).is_none()
    {
        tracing::warn!(
            "{SECRET_ENV} is not set: using a random signing key, so cookies end with this process"
        );
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        config.secrets = vec![hex::encode(key)];
    }
    let sessions = config.sessions().await?;
    tracing::info!(?config, "sessions configured");
    let listener = std::net::TcpListener::bind(args.addr)?;
    tracing::info!(framework = ?args.framework, "web framework");
    // Tests and scripts read the address from this exact line: nothing after it.
    tracing::info!("serving on http://{}", listener.local_addr()?);
    match args.framework {
        Framework::Axum => serve_axum(listener, sessions).await,
        Framework::Actix => serve_actix(listener, sessions).await,
    }
}

/// Serves on axum until Ctrl-C, then lets the requests in flight finish.
async fn serve_axum(
    listener: std::net::TcpListener,
    sessions: HttpSessions,
) -> Result<(), Box<dyn std::error::Error>> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let layer = session_tower::SessionLayer::from(sessions);
    axum::serve(listener, session_demo::app(layer))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// Serves on actix-web (one worker per core) until Ctrl-C, then lets the requests in
/// flight finish.
async fn serve_actix(
    listener: std::net::TcpListener,
    sessions: HttpSessions,
) -> Result<(), Box<dyn std::error::Error>> {
    let middleware = session_actix::SessionMiddleware::from(sessions);
    // actix-server's own signal handling stops at once on SIGINT; Ctrl-C is handled
    // here instead, so it is as graceful as on axum.
    let server =
        actix_web::HttpServer::new(move || session_demo::actix_app::app(middleware.clone()))
            .disable_signals()
            .listen(listener)?
            .run();
    let handle = server.handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        handle.stop(true).await;
    });
    server.await?;
    Ok(())
}

/// Installs the Prometheus recorder and serves what it renders at `/metrics` on
/// `addr`, in the background.
async fn serve_metrics(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let handle = session_demo::metrics::install_prometheus()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        // The exporter's histograms need draining now and then (its docs: upkeep).
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { handle.render() }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// The embedded default: sessions in `./sessions`.
fn session_demo_default_url() -> Result<String, Box<dyn std::error::Error>> {
    let dir = std::env::current_dir()?.join("sessions");
    Ok(format!("file://{}", dir.display()))
}
