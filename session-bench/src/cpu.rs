//! The session layer's own CPU per request, in instructions: a fixed number of
//! requests driven in process through the axum router as a tower service (no socket,
//! a current-thread runtime, [`crate::cpu_driver`]), counted by valgrind's callgrind
//! (exact and repeatable; this VM has no hardware counters for `perf stat`).
//!
//! Four routers, each on `GET /` and `GET /counter`: the bare app (no sessions), the
//! demo app behind our `SessionLayer` over `MemoryStore`, the hand-written limit on a
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
            Stack::HandWritten => crate::http::hand_written_app(std::sync::Arc::new(
                crate::hand_written::App::open("memory", None, "").await?,
            )),
        };
        crate::cpu_driver::drive(app, path, requests).await
    })?;
    println!("{bytes}");
    Ok(())
}

/// The instructions callgrind counts for `cmd` (which must succeed).
fn instructions(cmd: &[String]) -> BoxResult<u64> {
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("valgrind: {e} (apt-get install valgrind)"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{} under callgrind failed: {stderr}", cmd.join(" ")).into());
    }
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_owned())
        })
        .ok_or_else(|| format!("callgrind printed no count: {stderr}"))?
        .parse()
        .map_err(|e| format!("callgrind's count: {e}").into())
}

/// Per-request instructions of `base + [--path, path, --requests, N]`, from two
/// counts, and the two request counts.
fn per_request(base: &[String], path: &str, requests: usize) -> BoxResult<f64> {
    let (n1, n2) = (requests / 2, requests + requests / 2);
    let mut counts = [0u64; 2];
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
    Ok((counts[1].saturating_sub(counts[0])) as f64 / (n2 - n1) as f64)
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
                Ok(per) => rows.push(CpuRow {
                    stack: stack.into(),
                    backend: if stack == "bare" { "none" } else { "memory" }.into(),
                    path: path.into(),
                    requests,
                    instructions_per_request: per.round(),
                    layer_instructions_per_request: None,
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
