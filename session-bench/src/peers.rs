//! The tower-sessions side: the binary of the `session-bench/peers` workspace (its own
//! lockfile, so tower-sessions' dependency versions never meet ours), run as a
//! subprocess. It measures tower-sessions' stores with the same grid, payloads and
//! driver rules and prints [`PeerRow`]s as JSON lines, which are merged next to ours;
//! for the HTTP runs it serves the same two routes behind tower-sessions' layer.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::measure::{Grid, PeerRow};
use crate::results::Row;
use crate::{BoxResult, Options};

/// The backends tower-sessions has a store for (and the names the peers binary uses).
pub const SHARED: &[&str] = &["memory", "sqlite", "postgres", "mysql", "redis"];

/// The backends actix-session has a store for that ours has too (its HTTP rows only).
pub const ACTIX_SHARED: &[&str] = &["redis", "cookie"];

/// A located (built) peers binary.
pub struct Peers {
    bin: PathBuf,
}

/// The peers workspace.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

impl Peers {
    /// `--peers-bin`, or the peers workspace's release binary, built with cargo first
    /// (a no-op when it is up to date; the first build takes a few minutes).
    pub async fn locate(opts: &Options) -> BoxResult<Peers> {
        if let Some(bin) = &opts.peers_bin {
            return Ok(Peers { bin: bin.clone() });
        }
        let dir = workspace();
        let target = dir.join("target");
        let manifest = dir.join("Cargo.toml");
        eprintln!(
            "building the tower-sessions peers: cargo build --release --manifest-path {} \
             --target-dir {}",
            manifest.display(),
            target.display()
        );
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = tokio::task::spawn_blocking(move || {
            Command::new(cargo)
                .args(["build", "--release", "--quiet", "--manifest-path"])
                .arg(&manifest)
                .arg("--target-dir")
                .arg(&target)
                .env_remove("CARGO_TARGET_DIR")
                .stdout(Stdio::null())
                .status()
        })
        .await??;
        if !status.success() {
            return Err(format!("building the peers workspace failed: {status}").into());
        }
        Ok(Peers {
            bin: dir.join("target/release/session-bench-peers"),
        })
    }

    /// The binary.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The URL the peer gets for `backend`, if any (`moka-B`: B's, the durable store's).
    pub fn url(backend: &str, opts: &Options, scratch: Option<&Path>) -> Option<String> {
        match backend.strip_prefix("moka-").unwrap_or(backend) {
            "postgres" => Some(opts.postgres.clone()),
            "mysql" => Some(opts.mysql.clone()),
            "redis" => Some(opts.redis.clone()),
            "sqlite" => scratch.map(|s| crate::sql::sqlite_url(s, "peers.db")),
            _ => None,
        }
    }

    /// tower-sessions' figures for `backend` over the same grid; `None` if it has no
    /// store there.
    pub async fn store_rows(
        &self,
        backend: &str,
        opts: &Options,
    ) -> BoxResult<Option<Vec<PeerRow>>> {
        if !SHARED.contains(&backend) {
            return Ok(None);
        }
        self.store_rows_on(backend, opts, &opts.grid)
            .await
            .map(Some)
    }

    /// tower-sessions' figures for the peers binary's store `backend` over `grid`: one
    /// of [`SHARED`], or `moka-sqlite` / `moka-postgres` (`CachingSessionStore` with a
    /// moka cache in front of the store, for the `tiered` command).
    pub async fn store_rows_on(
        &self,
        backend: &str,
        opts: &Options,
        grid: &Grid,
    ) -> BoxResult<Vec<PeerRow>> {
        eprintln!("  tower-sessions on {backend}");
        let scratch = opts.scratch()?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(["store", "--backend", backend])
            .args(grid.to_args());
        if let Some(url) = Self::url(backend, opts, Some(scratch.path())) {
            cmd.args(["--url", &url]);
        }
        let output = tokio::task::spawn_blocking(move || {
            cmd.stderr(Stdio::inherit()).stdout(Stdio::piped()).output()
        })
        .await??;
        drop(scratch);
        if !output.status.success() {
            return Err(format!("the peers binary failed: {}", output.status).into());
        }
        let mut rows = Vec::new();
        for line in output.stdout.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            rows.push(serde_json::from_str(&line)?);
        }
        Ok(rows)
    }

    /// A command that serves the two HTTP routes behind `stack` (`tower-sessions`'
    /// layer on axum or `actix-session`'s middleware on actix-web); `prefix` names
    /// actix-session's Redis keys.
    pub fn serve_command(
        &self,
        stack: &str,
        backend: &str,
        url: Option<&str>,
        prefix: Option<&str>,
    ) -> Command {
        let mut cmd = crate::pin::server_command(&self.bin);
        cmd.args(["serve", "--backend", backend]);
        // Named only when not the default, so an older `--peers-bin` still serves
        // tower-sessions.
        if stack != "tower-sessions" {
            cmd.args(["--stack", stack]);
        }
        if let Some(url) = url {
            cmd.args(["--url", url]);
        }
        if let Some(prefix) = prefix {
            cmd.args(["--prefix", prefix]);
        }
        cmd
    }
}

/// Puts each peer row next to our row of the same cell.
pub fn merge(rows: &mut [Row], peer_rows: Vec<PeerRow>) {
    for p in peer_rows {
        if let Some(row) = rows.iter_mut().find(|r| {
            r.backend == p.backend
                && r.op == p.op
                && r.concurrency == p.concurrency
                && r.payload_bytes == p.payload_bytes
        }) {
            row.peer = Some(p.side);
            *row = row.clone().with_ratios();
        }
    }
}
