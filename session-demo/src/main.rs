//! `cargo run -p session-demo`: the demo on 127.0.0.1:8080 with sessions in files under
//! `./sessions`. `--addr`, `SESSION_URL` or `--config <file.toml>` choose otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use rand::RngCore;
use session_any::{SessionConfig, SECRET_ENV};

#[derive(Parser, Debug)]
#[command(about = "Session demo: web.py's login/logout example and a counter")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DEMO_ADDR")]
    addr: SocketAddr,
    /// A TOML session configuration (see session-any's `SessionConfig`).
    #[arg(long)]
    config: Option<PathBuf>,
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
    let layer = config.layer().await?;
    tracing::info!(?config, "sessions configured");
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    tracing::info!("serving on http://{}", listener.local_addr()?);
    axum::serve(listener, session_demo::app(layer))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// The embedded default: sessions in `./sessions`.
fn session_demo_default_url() -> Result<String, Box<dyn std::error::Error>> {
    let dir = std::env::current_dir()?.join("sessions");
    Ok(format!("file://{}", dir.display()))
}
