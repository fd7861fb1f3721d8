//! The session layer's own CPU per request, in instructions: a fixed number of
//! requests driven in process through the axum router as a tower service (no socket,
//! a current-thread runtime, [`crate::cpu_driver`]), counted by valgrind's callgrind
//! (exact and repeatable; this VM has no hardware counters for `perf stat`).
//!
//! Five routers, each on `GET /` and `GET /counter`: the bare app (no sessions), the
//! demo app behind our `SessionLayer` over `MemoryStore` (as it runs by default, with
//! no `tracing` subscriber and no `metrics` recorder; and observed, with both installed
//! by [`crate::observe`]), the hand-written limit on a
//! `Mutex<HashMap>` (its own HMAC-signed cookie, no library), and the same two routes
//! behind tower-sessions' `SessionManagerLayer` over its `MemoryStore` (the peers
//! binary's `cpu`; its cookie is the raw id, unsigned, and it hashes nothing). Each is counted at two request counts,
//! so that start-up, the first request and exit cancel out: per request =
//! (count(N₂) − count(N₁)) / (N₂ − N₁). The layer's own share is that minus the bare
//! app's on the same path. Not subtracted: what the demo's `/` page reads beyond
//! tower-sessions' (the flash messages and the bound user: two more map lookups).

use std::process::{Command, Stdio};

use crate::peers::Peers;
use crate::results::CpuRow;
use crate::{BoxResult, Options};

/// The paths counted.
const PATHS: [&str; 2] = ["/", "/counter"];

/// The router `cpu-run --stack` drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stack {
    /// The two routes with no sessions.
    Bare,
    /// The demo app on our `SessionLayer` over `MemoryStore`.
    Ours,
    /// The same, observed: a `tracing` subscriber recording the session spans and the
    /// Prometheus recorder installed ([`crate::observe`]).
    OursObserved,
    /// The hand-written limit on its `Mutex<HashMap>` ([`crate::hand_written`]).
    HandWritten,
}

/// `cpu-run`: `requests` requests of `path` through `stack`'s router on a
/// current-thread runtime; prints the bytes of every body.
pub fn run_one(stack: Stack, path: &str, requests: usize) -> BoxResult<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bytes = runtime.block_on(async {
        let app = match stack {
            Stack::Bare => crate::http::bare_app(),
            Stack::Ours => session_demo::app(crate::http::demo_config("memory://").layer().await?),
            Stack::OursObserved => {
                crate::observe::install()?;
                session_demo::app(crate::http::demo_config("memory://").layer().await?)
            }
            Stack::HandWritten => crate::http::hand_written_app(std::sync::Arc::new(
                crate::hand_written::App::open("memory", None, "").await?,
            )),
        };
        crate::cpu_driver::drive(app, path, requests).await
    })?;
    println!("{bytes}");
    Ok(())
}

/// What callgrind counted for one command.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    /// Every instruction.
    total: u64,
    /// Those in SHA-256's block function. valgrind's CPU has no SHA extensions, so
    /// `sha2` takes its portable path under it (about 3,500 instructions a block),
    /// where the real CPU (SHA-NI, as this machine has) spends a small fraction of
    /// that: counted apart, so that the layers' own figures can be read with and
    /// without it.
    sha256: u64,
}

/// The function callgrind names for SHA-256's block compression (sha2's soft path).
const SHA256_BLOCKS: &str = "sha2::sha256::compress256";

/// What callgrind counts for `cmd` (which must succeed).
fn instructions(cmd: &[String]) -> BoxResult<Count> {
    let out = tempfile::NamedTempFile::new()?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.path().display()))
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("valgrind: {e} (apt-get install valgrind)"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{} under callgrind failed: {stderr}", cmd.join(" ")).into());
    }
    let total = stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_owned())
        })
        .ok_or_else(|| format!("callgrind printed no count: {stderr}"))?
        .parse()
        .map_err(|e| format!("callgrind's count: {e}"))?;
    Ok(Count {
        total,
        sha256: self_cost(out.path(), SHA256_BLOCKS)?,
    })
}

/// The instructions counted in `function` itself (not its callees), by
/// `callgrind_annotate` (valgrind's own reader of its files); 0 if it never ran.
fn self_cost(profile: &std::path::Path, function: &str) -> BoxResult<u64> {
    let output = Command::new("callgrind_annotate")
        .args(["--inclusive=no", "--threshold=100"])
        .arg(profile)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("callgrind_annotate: {e} (it comes with valgrind)"))?;
    if !output.status.success() {
        return Err(format!(
            "callgrind_annotate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    // Lines read `  52,179,346 (30.71%)  ???:sha2::sha256::compress256 [/path]`.
    let text = String::from_utf8_lossy(&output.stdout);
    let named = format!(":{function} ");
    Ok(text
        .lines()
        .filter(|l| l.contains(&named))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|n| n.replace(',', "").parse::<u64>().ok())
        .sum())
}

/// Per-request instructions of `base + [--path, path, --requests, N]` (all, and in
/// SHA-256 blocks), from two counts.
fn per_request(base: &[String], path: &str, requests: usize) -> BoxResult<(f64, f64)> {
    let (n1, n2) = (requests / 2, requests + requests / 2);
    let mut counts = [Count::default(); 2];
    for (count, n) in counts.iter_mut().zip([n1, n2]) {
        let mut cmd = base.to_vec();
        cmd.extend([
            "--path".into(),
            path.into(),
            "--requests".into(),
            n.to_string(),
        ]);
        *count = instructions(&cmd)?;
    }
    let per = |f: fn(&Count) -> u64| {
        f(&counts[1]).saturating_sub(f(&counts[0])) as f64 / (n2 - n1) as f64
    };
    Ok((per(|c| c.total), per(|c| c.sha256)))
}

/// Every stack on both paths; tower-sessions' when `peers` is there. A stack that
/// fails is skipped with its reason in `skipped`.
pub async fn run(
    opts: &Options,
    peers: Option<&Peers>,
    skipped: &mut Vec<String>,
) -> BoxResult<Vec<CpuRow>> {
    let exe = std::env::current_exe()?.display().to_string();
    let mut stacks: Vec<(&str, Vec<String>)> = vec![
        (
            "bare",
            vec![
                exe.clone(),
                "cpu-run".into(),
                "--stack".into(),
                "bare".into(),
            ],
        ),
        (
            "ours",
            vec![
                exe.clone(),
                "cpu-run".into(),
                "--stack".into(),
                "ours".into(),
            ],
        ),
        (
            "ours-observed",
            vec![
                exe.clone(),
                "cpu-run".into(),
                "--stack".into(),
                "ours-observed".into(),
            ],
        ),
        (
            "hand-written",
            vec![
                exe,
                "cpu-run".into(),
                "--stack".into(),
                "hand-written".into(),
            ],
        ),
    ];
    if let Some(p) = peers {
        stacks.push((
            "tower-sessions",
            vec![p.bin().display().to_string(), "cpu".into()],
        ));
    }
    let requests = opts.cpu_requests;
    let mut rows: Vec<CpuRow> = Vec::new();
    for (stack, base) in stacks {
        for path in PATHS {
            eprintln!("cpu: {stack} {path} under callgrind");
            let base = base.clone();
            let counted =
                tokio::task::spawn_blocking(move || per_request(&base, path, requests)).await?;
            match counted {
                Ok((per, sha256)) => rows.push(CpuRow {
                    stack: stack.into(),
                    backend: if stack == "bare" { "none" } else { "memory" }.into(),
                    path: path.into(),
                    requests,
                    instructions_per_request: per.round(),
                    layer_instructions_per_request: None,
                    sha256_instructions_per_request: Some(sha256.round()),
                }),
                Err(e) => {
                    skipped.push(format!("cpu: {stack} {path}: {e}"));
                    if stack == "bare" {
                        return Ok(Vec::new());
                    }
                }
            }
        }
    }
    let bare: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.stack == "bare")
        .map(|r| (r.path.clone(), r.instructions_per_request))
        .collect();
    for r in rows.iter_mut().filter(|r| r.stack != "bare") {
        r.layer_instructions_per_request = bare
            .iter()
            .find(|(p, _)| *p == r.path)
            .map(|(_, b)| (r.instructions_per_request - b).round());
    }
    Ok(rows)
}
