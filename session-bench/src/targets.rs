//! Issue 21's targets, judged on the JSON the bench writes: each line is met, not met,
//! or not measured (no cell of the report holds the figure it needs; never guessed),
//! with the worst cell it was judged on. `session-bench targets FILE...` reads one or
//! more reports (a Redis run and an HTTP run, say) as one; every run also prints the
//! table for what it measured. `--baseline FILE`, an earlier report, adds the lines
//! that compare two runs: the cookie store's speed-up and "no regression".
//!
//! Ratios are the report's own (`ours_vs_raw`, `vs_hand_written`, …), so the table
//! says exactly what the rows say; where several reports hold the same cell, the worst
//! of them counts.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::measure::{round2, Side};
use crate::report::Table;
use crate::results::{HttpRow, Report, Row};
use crate::BoxResult;

/// How a target came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every cell judged reaches the threshold.
    Met,
    /// At least one cell falls short.
    NotMet,
    /// No cell holds the figure.
    NotMeasured,
}

/// One target line.
#[derive(Debug, Clone)]
pub struct Line {
    /// The part of issue 21 it belongs to.
    pub group: &'static str,
    /// What is asked.
    pub target: String,
    /// The ratio each cell must reach.
    pub threshold: f64,
    /// The worst ratio and its cell, if any cell was measured.
    pub worst: Option<(f64, String)>,
    /// Cells judged.
    pub cells: usize,
    /// Why it is not measured, or anything else worth knowing.
    pub note: Option<String>,
}

impl Line {
    /// Met, not met or not measured.
    pub fn status(&self) -> Status {
        match &self.worst {
            None => Status::NotMeasured,
            Some((x, _)) if *x >= self.threshold => Status::Met,
            Some(_) => Status::NotMet,
        }
    }
}

/// Judges `cells` (a ratio, if the cell has it, and where it is): the worst one.
fn judge(
    group: &'static str,
    target: impl Into<String>,
    threshold: f64,
    cells: impl IntoIterator<Item = (Option<f64>, String)>,
) -> Line {
    let mut line = Line {
        group,
        target: target.into(),
        threshold,
        worst: None,
        cells: 0,
        note: None,
    };
    for (x, at) in cells {
        let Some(x) = x else { continue };
        line.cells += 1;
        if line.worst.as_ref().is_none_or(|(w, _)| x < *w) {
            line.worst = Some((x, at));
        }
    }
    line
}

fn fmt_payload(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

fn store_cell(r: &Row) -> String {
    format!(
        "{} {}, {} task(s), {}",
        r.backend,
        r.op,
        r.concurrency,
        fmt_payload(r.payload_bytes)
    )
}

fn http_cell(h: &HttpRow) -> String {
    format!("{} {} on {}", h.stack, h.path, h.backend)
}

/// Store-level cells of `backends` and `op` (any op when `None`) at `tasks` (any when
/// empty), each with `pick`'s ratio.
fn store<'r>(
    report: &'r Report,
    backends: &'r [&str],
    op: Option<&'r str>,
    tasks: &'r [usize],
    pick: impl Fn(&Row) -> Option<f64> + 'r,
) -> impl Iterator<Item = (Option<f64>, String)> + 'r {
    report
        .rows
        .iter()
        .filter(move |r| backends.contains(&r.backend.as_str()))
        .filter(move |r| op.is_none_or(|op| r.op == op))
        .filter(move |r| tasks.is_empty() || tasks.contains(&r.concurrency))
        .map(move |r| (pick(r), store_cell(r)))
}

/// The HTTP row of `stack` on the same backend and path as `h`, if measured.
fn http_peer<'r>(report: &'r Report, h: &HttpRow, stack: &str) -> Option<&'r HttpRow> {
    report.http.iter().find(|p| {
        p.stack == stack && p.backend == h.backend && p.path == h.path && p.requests_per_s > 0.0
    })
}

/// Our HTTP rows on axum (`ours`) or actix-web (`ours-actix`) that were measured.
fn ours_http<'r>(report: &'r Report, stack: &'r str) -> impl Iterator<Item = &'r HttpRow> + 'r {
    report
        .http
        .iter()
        .filter(move |h| h.stack == stack && h.requests_per_s > 0.0)
}

const REDIS: &[&str] = &["redis"];

fn redis_lines(r: &Report) -> Vec<Line> {
    let g = "Redis";
    vec![
        judge(
            g,
            "save ≥ 0.9 × raw CAS, 1 and 32 tasks, every payload",
            0.9,
            store(r, REDIS, Some("save"), &[1, 32], |r| r.ours_vs_raw_cas),
        ),
        judge(
            g,
            "save ≥ 0.85 × raw SET, 1 task",
            0.85,
            store(r, REDIS, Some("save"), &[1], |r| r.ours_vs_raw),
        ),
        judge(
            g,
            "touch ≥ 0.9 × raw PEXPIREAT, 1 and 32 tasks",
            0.9,
            store(r, REDIS, Some("touch"), &[1, 32], |r| r.ours_vs_raw),
        ),
        judge(
            g,
            "touch ≥ 1.0 × tower-sessions",
            1.0,
            store(r, REDIS, Some("touch"), &[], |r| r.ours_vs_peer),
        ),
        judge(
            g,
            "load ≥ 0.9 × raw GET, 32 tasks",
            0.9,
            store(r, REDIS, Some("load"), &[32], |r| r.ours_vs_raw),
        ),
        judge(
            g,
            "load ≥ 1.0 × tower-sessions",
            1.0,
            store(r, REDIS, Some("load"), &[], |r| r.ours_vs_peer),
        ),
        judge(
            g,
            "save ≥ 1.0 × tower-sessions, 1 task",
            1.0,
            store(r, REDIS, Some("save"), &[1], |r| r.ours_vs_peer),
        ),
        judge(
            g,
            "last-writer-wins save ≥ 1.0 × tower-sessions, every save cell",
            1.0,
            store(r, REDIS, Some("save"), &[], |r| r.lww_vs_peer),
        ),
    ]
}

fn http_lines(r: &Report) -> Vec<Line> {
    let g = "HTTP";
    let mut lines = Vec::new();
    for (ours, hw) in [
        ("ours", "hand-written"),
        ("ours-actix", "hand-written-actix"),
    ] {
        lines.push(judge(
            g,
            format!("{ours} ≥ 0.9 × {hw}, every backend and path"),
            0.9,
            ours_http(r, ours).map(|h| (h.vs_hand_written, http_cell(h))),
        ));
    }
    for (ours, peer) in [("ours", "tower-sessions"), ("ours-actix", "actix-session")] {
        lines.push(judge(
            g,
            format!("{ours} ≥ 1.0 × {peer}, every backend both have, both paths"),
            1.0,
            ours_http(r, ours).map(|h| {
                let x = http_peer(r, h, peer).map(|p| round2(h.requests_per_s / p.requests_per_s));
                (x, http_cell(h))
            }),
        ));
        lines.push(judge(
            g,
            format!("{ours} p99 ≤ {peer} p99, same cells (shown: {peer} p99 / ours p99)"),
            1.0,
            ours_http(r, ours).map(|h| {
                let x = http_peer(r, h, peer)
                    .filter(|_| h.p99_us > 0.0)
                    .map(|p| round2(p.p99_us / h.p99_us));
                (x, http_cell(h))
            }),
        ));
    }
    for (path, threshold) in [("/", 0.95), ("/counter", 0.85)] {
        lines.push(judge(
            g,
            format!("memory store: {path} ≥ {threshold} × the bare app"),
            threshold,
            ["ours", "ours-actix"].into_iter().flat_map(|stack| {
                ours_http(r, stack)
                    .filter(|h| h.backend == "memory" && h.path == path)
                    .map(|h| (h.vs_bare, http_cell(h)))
            }),
        ));
    }
    // Reported, not a threshold: the line says whether the counts exist and shows
    // ours' layer cost over tower-sessions'.
    let layer = |stack: &str, path: &str| {
        r.cpu
            .iter()
            .find(|c| c.stack == stack && c.path == path)
            .and_then(|c| c.layer_instructions_per_request)
    };
    let mut cpu = judge(
        g,
        "layer's own instructions per request reported next to tower-sessions' (shown: tower-sessions' / ours)",
        0.0,
        ["/", "/counter"].into_iter().map(|p| {
            let x = match (layer("ours", p), layer("tower-sessions", p)) {
                (Some(o), Some(t)) if o > 0.0 => Some(round2(t / o)),
                _ => None,
            };
            (x, format!("memory {p}"))
        }),
    );
    if cpu.worst.is_some() {
        cpu.note = Some(
            ["/", "/counter"]
                .iter()
                .filter_map(|p| {
                    Some(format!(
                        "{p}: ours {:.0}, tower-sessions {:.0}",
                        layer("ours", p)?,
                        layer("tower-sessions", p)?
                    ))
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    lines.push(cpu);
    lines
}

fn store_lines(r: &Report) -> Vec<Line> {
    let g = "Store level";
    // Fewer is better: judged as 1 / commands, so one command per touch is 1.0.
    let memcache_touch = judge(
        g,
        "memcached touch in one round trip (shown: 1 / server commands per touch)",
        1.0,
        store(r, &["memcache"], Some("touch"), &[], |row| {
            row.ours_commands_per_op
                .filter(|&c| c > 0.0)
                .map(|c| round2(1.0 / c))
        }),
    );
    vec![
        judge(
            g,
            "ours ≥ 1.0 × tower-sessions, every memory, SQLite, PostgreSQL, MariaDB and Redis cell",
            1.0,
            store(
                r,
                &["memory", "sqlite", "postgres", "mysql", "redis"],
                None,
                &[],
                |r| r.ours_vs_peer,
            ),
        ),
        judge(
            g,
            "file loads ≥ 0.9 × async raw",
            0.9,
            store(r, &["file", "file-nosync"], Some("load"), &[], |r| {
                r.ours_vs_raw_async
            }),
        ),
        memcache_touch,
    ]
}

fn ops(side: &Option<Side>) -> Option<f64> {
    side.as_ref()
        .map(|s| s.figures.ops_per_s)
        .filter(|&x| x > 0.0)
}

/// `now`'s ours ops/s over `before`'s of the same cell.
fn speedup(now: &Row, before: &Report) -> Option<f64> {
    let b = before.rows.iter().find(|b| {
        b.backend == now.backend
            && b.op == now.op
            && b.concurrency == now.concurrency
            && b.payload_bytes == now.payload_bytes
    })?;
    Some(round2(ops(&now.ours)? / ops(&b.ours)?))
}

fn baseline_lines(r: &Report, before: Option<&Report>, spread: f64) -> Vec<Line> {
    let mut cookie = judge(
        "Store level",
        "cookie store: 2 KiB seal (save) and open (load) ≥ 3 × faster than the baseline",
        3.0,
        before.into_iter().flat_map(|b| {
            r.rows
                .iter()
                .filter(|row| row.backend == "cookie" && row.payload_bytes == 2048)
                .filter(|row| matches!(row.op.as_str(), "save" | "load"))
                .map(move |row| (speedup(row, b), store_cell(row)))
        }),
    );
    let mut regression = judge(
        "No regression",
        format!(
            "every cell ≥ {:.2} × the baseline (a drop within the {:.0} % run-to-run spread)",
            1.0 - spread,
            spread * 100.0
        ),
        round2(1.0 - spread),
        before.into_iter().flat_map(|b| {
            let stores = r.rows.iter().map(|row| (speedup(row, b), store_cell(row)));
            let http = r.http.iter().filter(|h| h.requests_per_s > 0.0).map(|h| {
                let x = b
                    .http
                    .iter()
                    .find(|o| o.stack == h.stack && o.backend == h.backend && o.path == h.path)
                    .filter(|o| o.requests_per_s > 0.0)
                    .map(|o| round2(h.requests_per_s / o.requests_per_s));
                (x, http_cell(h))
            });
            stores.chain(http).collect::<Vec<_>>()
        }),
    );
    if before.is_none() {
        for line in [&mut cookie, &mut regression] {
            line.note = Some("needs --baseline (an earlier report)".into());
        }
    }
    vec![cookie, regression]
}

/// Every target line of issue 21 on `report`; `before` (an earlier report) for the
/// lines comparing two runs, with `spread` the run-to-run spread allowed.
pub fn evaluate(report: &Report, before: Option<&Report>, spread: f64) -> Vec<Line> {
    let mut lines = redis_lines(report);
    lines.extend(http_lines(report));
    lines.extend(store_lines(report));
    lines.extend(baseline_lines(report, before, spread));
    lines
}

/// The lines as a Markdown table.
pub fn markdown(lines: &[Line]) -> String {
    let mut table = Table::new(&[
        "group",
        "target",
        "status",
        "worst",
        "worst cell",
        "cells",
        "note",
    ]);
    for l in lines {
        let (worst, at) = match &l.worst {
            Some((x, at)) => (format!("{x:.2}"), at.clone()),
            None => ("–".into(), "–".into()),
        };
        table.row(vec![
            l.group.into(),
            l.target.clone(),
            match l.status() {
                Status::Met => "met",
                Status::NotMet => "**not met**",
                Status::NotMeasured => "not measured",
            }
            .into(),
            worst,
            at,
            l.cells.to_string(),
            l.note.clone().unwrap_or_default(),
        ]);
    }
    let mut out = String::new();
    let _ = writeln!(out, "### Issue 21 targets\n\n{}", table.render());
    out
}

/// Several reports as one: their rows side by side, so each target sees every cell.
pub fn merge(reports: Vec<Report>) -> Report {
    let mut all = Report::default();
    for r in reports {
        if all.command.is_empty() {
            all.command = r.command;
        } else {
            all.command = format!("{}; {}", all.command, r.command);
        }
        all.rows.extend(r.rows);
        all.http.extend(r.http);
        all.cpu.extend(r.cpu);
        all.skipped.extend(r.skipped);
    }
    all
}

/// `targets FILE... [--baseline FILE] [--spread X] [--markdown PATH]`.
pub fn command(
    files: &[PathBuf],
    baseline: Option<&std::path::Path>,
    spread: f64,
    markdown_to: Option<&std::path::Path>,
) -> BoxResult<()> {
    let read = |p: &std::path::Path| -> BoxResult<Report> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?)
    };
    let report = merge(files.iter().map(|f| read(f)).collect::<BoxResult<_>>()?);
    let before = baseline.map(read).transpose()?;
    let out = markdown(&evaluate(&report, before.as_ref(), spread));
    match markdown_to {
        Some(path) => std::fs::write(path, out)?,
        None => println!("{out}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::*;

    fn side(ops: f64, p99: f64) -> serde_json::Value {
        serde_json::json!({"what": "x", "ops_per_s": ops, "p50_us": 1.0, "p99_us": p99, "ops": 10})
    }

    fn row(backend: &str, op: &str, tasks: usize, payload: usize, ours: f64) -> serde_json::Value {
        serde_json::json!({
            "backend": backend, "op": op, "concurrency": tasks, "payload_bytes": payload,
            "ours": side(ours, 9.0), "raw": null, "raw_async": null, "peer": null,
            "ours_vs_raw": null, "ours_vs_raw_async": null, "ours_vs_peer": null,
        })
    }

    fn http(stack: &str, backend: &str, path: &str, rps: f64, p99: f64) -> serde_json::Value {
        serde_json::json!({
            "stack": stack, "backend": backend, "path": path, "connections": 32,
            "requests_per_s": rps, "p50_us": 100.0, "p99_us": p99, "errors": 0, "vs_bare": null,
        })
    }

    /// A small report written by hand: Redis saves with and without a raw CAS figure,
    /// HTTP rows on memory and Redis.
    fn report() -> Report {
        let mut save1 = row("redis", "save", 1, 100, 9000.0);
        save1["ours_vs_raw"] = 0.9.into();
        save1["ours_vs_raw_cas"] = 0.95.into();
        save1["ours_vs_peer"] = 1.1.into();
        let mut save32 = row("redis", "save", 32, 2048, 60000.0);
        save32["ours_vs_raw_cas"] = 0.8.into();
        save32["ours_vs_peer"] = 0.7.into();
        let mut load = row("memory", "load", 1, 100, 1e6);
        load["ours_vs_peer"] = 0.5.into();
        let mut ours_mem = http("ours", "memory", "/", 90.0, 500.0);
        ours_mem["vs_bare"] = 0.9.into();
        ours_mem["vs_hand_written"] = 0.95.into();
        let mut ours_redis = http("ours", "redis", "/counter", 50.0, 1000.0);
        ours_redis["vs_hand_written"] = 0.8.into();
        let json = serde_json::json!({
            "command": "hand-made", "started": "", "machine": "", "context": [],
            "load_average": [], "skipped": [], "scale": [], "touch": [],
            "rows": [save1, save32, load, row("cookie", "save", 1, 2048, 4000.0)],
            "http": [
                http("bare", "none", "/", 100.0, 400.0), ours_mem, ours_redis,
                http("tower-sessions", "memory", "/", 80.0, 600.0),
                http("tower-sessions", "redis", "/counter", 40.0, 900.0),
            ],
            "cpu": [
                {"stack": "ours", "backend": "memory", "path": "/", "requests": 10,
                 "instructions_per_request": 40.0, "layer_instructions_per_request": 30.0},
                {"stack": "tower-sessions", "backend": "memory", "path": "/", "requests": 10,
                 "instructions_per_request": 20.0, "layer_instructions_per_request": 15.0},
            ],
        });
        serde_json::from_value(json).unwrap()
    }

    fn find<'l>(lines: &'l [Line], group: &str, starts: &str) -> &'l Line {
        lines
            .iter()
            .find(|l| l.group == group && l.target.starts_with(starts))
            .unwrap_or_else(|| panic!("no line {group} / {starts}"))
    }

    #[test]
    fn each_line_is_judged_on_its_worst_cell() {
        let lines = evaluate(&report(), None, 0.1);
        let cas = find(&lines, "Redis", "save ≥ 0.9 × raw CAS");
        assert_eq!(cas.status(), Status::NotMet);
        assert_eq!(
            cas.worst,
            Some((0.8, "redis save, 32 task(s), 2 KiB".into()))
        );
        assert_eq!(cas.cells, 2);
        let set = find(&lines, "Redis", "save ≥ 0.85 × raw SET");
        assert_eq!((set.status(), set.cells), (Status::Met, 1));
        let ts1 = find(&lines, "Redis", "save ≥ 1.0 × tower-sessions, 1 task");
        assert_eq!(ts1.status(), Status::Met);
        let hw = find(&lines, "HTTP", "ours ≥ 0.9 × hand-written");
        assert_eq!(hw.status(), Status::NotMet);
        assert_eq!(hw.worst, Some((0.8, "ours /counter on redis".into())));
        let ts = find(&lines, "HTTP", "ours ≥ 1.0 × tower-sessions");
        // 90 / 80 on memory, 50 / 40 on Redis: both ahead.
        assert_eq!(ts.worst, Some((1.13, "ours / on memory".into())));
        assert_eq!(ts.status(), Status::Met);
        let p99 = find(&lines, "HTTP", "ours p99");
        // Redis: tower-sessions' p99 900 against ours' 1000.
        assert_eq!(p99.worst, Some((0.9, "ours /counter on redis".into())));
        let root = find(&lines, "HTTP", "memory store: / ");
        assert_eq!(
            (root.status(), root.worst.clone().unwrap().0),
            (Status::NotMet, 0.9)
        );
        let cpu = find(&lines, "HTTP", "layer's own");
        assert_eq!(cpu.worst.as_ref().map(|w| w.0), Some(0.5));
        assert_eq!(cpu.status(), Status::Met);
        let level = find(&lines, "Store level", "ours ≥ 1.0 × tower-sessions");
        assert_eq!(
            level.worst,
            Some((0.5, "memory load, 1 task(s), 100 B".into()))
        );
    }

    #[test]
    fn a_missing_figure_is_not_measured_never_guessed() {
        let lines = evaluate(&report(), None, 0.1);
        for (group, starts) in [
            ("Redis", "touch ≥ 0.9"),
            ("Redis", "last-writer-wins"),
            ("HTTP", "ours-actix ≥ 0.9"),
            ("HTTP", "memory store: /counter"),
            ("Store level", "file loads"),
            ("Store level", "memcached touch"),
            ("Store level", "cookie store"),
            ("No regression", "every cell"),
        ] {
            let line = find(&lines, group, starts);
            assert_eq!(line.status(), Status::NotMeasured, "{starts}");
            assert_eq!(line.cells, 0);
        }
        let md = markdown(&lines);
        assert!(md.contains("not measured") && md.contains("**not met**"));
    }

    #[test]
    fn a_baseline_judges_the_speed_up_and_regressions() {
        let now = report();
        let mut before = report();
        before.rows[3].ours.as_mut().unwrap().figures.ops_per_s = 1000.0;
        before.http[2].requests_per_s = 100.0;
        let lines = evaluate(&now, Some(&before), 0.1);
        let cookie = find(&lines, "Store level", "cookie store");
        assert_eq!(
            cookie.worst,
            Some((4.0, "cookie save, 1 task(s), 2 KiB".into()))
        );
        assert_eq!(cookie.status(), Status::Met);
        let regression = find(&lines, "No regression", "every cell");
        assert_eq!(
            regression.worst,
            Some((0.5, "ours /counter on redis".into()))
        );
        assert_eq!(regression.status(), Status::NotMet);
    }

    #[test]
    fn merged_reports_are_judged_together() {
        let merged = merge(vec![report(), report()]);
        assert_eq!(merged.rows.len(), 8);
        let lines = evaluate(&merged, None, 0.1);
        assert_eq!(find(&lines, "Redis", "save ≥ 0.9 × raw CAS").cells, 4);
    }
}
