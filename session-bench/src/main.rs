//! The workspace's benchmark harness: a program that prints numbers (Markdown tables,
//! and JSON on request), never a timed test.
//!
//! ```text
//! cargo run -p session-bench --release -- all [--json PATH] [--markdown PATH] [options]
//! cargo run -p session-bench --release -- redis|memcache|sql|file|cookie|memory [options]
//! cargo run -p session-bench --release -- http|touch|scale [options]
//! ```
//!
//! One generic driver ([`driver`]) measures every store through the `SessionStore`
//! trait; a backend module only opens its store and supplies its raw client. The
//! tower-sessions side runs as a subprocess from its own workspace
//! (`session-bench/peers`), whose rows are merged next to ours.

mod cookie;
mod driver;
mod file;
mod http;
mod memcache;
mod peers;
mod pin;
mod redis;
mod report;
mod results;
mod scale;
mod sql;
mod touch;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use driver::{Grid, Op, Target};
use results::Report;

const USAGE: &str = "\
usage: session-bench <command> [options]

commands:
  all       every reachable backend (store level, next to raw and tower-sessions),
            then the touch-policy count and the HTTP runs: one report
  memory | file | sql | sqlite | postgres | mysql | redis | memcache | cookie
            store level for that backend (`sql`: SQLite, PostgreSQL and MariaDB;
            `file`: durable and non-durable stores, then the delete_expired sweep)
  http      HTTP level only: the demo app per backend, the bare app, tower-sessions
  touch     store writes of a read-only workload per touch policy
  scale     1,000,000 sessions (--sessions) in files, SQLite and Redis: load latency
            at 10,000 and at the full size, delete_expired rate and memory
  render    --from PATH [--markdown PATH]: the Markdown of an earlier JSON report

options (defaults in brackets):
  --ops N             operations per side per cell, split over the rounds [3000]
  --rounds N          rounds per cell, alternating raw and ours [5]
  --payloads LIST     encoded session sizes, bytes [100,2048,32768]
  --concurrency LIST  concurrent tasks [1,32]
  --op-list LIST      operations [create,load,save,touch,delete]
  --backends LIST     for all / http / scale: which backends
                      [all: memory,file,file-nosync,sqlite,postgres,mysql,redis,memcache,cookie]
  --json PATH         write the report as JSON
  --markdown PATH     write the report as Markdown
  --peers on|off      run tower-sessions from session-bench/peers [on]
  --peers-bin PATH    a prebuilt peers binary (else it is built with cargo)
  --dir PATH          where scratch files and SQLite databases go [system temp dir]
  --postgres URL      [$SESSION_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test]
  --mysql URL         [$SESSION_TEST_MYSQL_URL or mysql://root@127.0.0.1:3306/test]
  --redis URL         [$SESSION_TEST_REDIS_URL or redis://127.0.0.1:6379/]
  --memcache URL      memcache://host:port [$SESSION_TEST_MEMCACHE_URL, else a private
                      memcached started for the run]
  --http-secs N       measured seconds per HTTP run, after 1 s of warm-up [4]
  --server-cpus LIST  start the servers the bench runs (private memcached, HTTP apps)
                      under `taskset -c LIST`; see pinned.sh [unpinned]
  --connections N     keep-alive connections of the HTTP load generator [32]
  --sessions N        scale: sessions [1000000]
  --sweep-files N     file: expired files of the big delete_expired run [100000]
";

/// Errors of the harness.
pub type BoxResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> BoxResult<()> {
    let Some((command, rest)) = args.split_first() else {
        return Err("no command given".into());
    };
    if matches!(command.as_str(), "-h" | "--help") {
        print!("{USAGE}");
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if command == "serve" {
        // Internal: the HTTP server process of `http` (see http.rs).
        return runtime.block_on(http::serve(rest));
    }
    if command == "render" {
        return render(rest);
    }
    let opts = Options::parse(rest)?;
    let command_line = format!("cargo run -p session-bench --release -- {}", args.join(" "));
    runtime.block_on(dispatch(command, opts, command_line))
}

/// `render --from PATH [--markdown PATH]`: the Markdown of a JSON report written by an
/// earlier run (after a change to the tables, without measuring again).
fn render(args: &[String]) -> BoxResult<()> {
    let flags = Flags::new(args)?;
    flags.only(&["--from", "--markdown"])?;
    let from = flags.path("--from").ok_or("render needs --from PATH")?;
    let report: Report = serde_json::from_str(&std::fs::read_to_string(from)?)?;
    let markdown = report.to_markdown();
    match flags.path("--markdown") {
        Some(path) => std::fs::write(path, markdown)?,
        None => println!("{markdown}"),
    }
    Ok(())
}

/// Options common to every command.
pub struct Options {
    grid: Grid,
    backends: Option<Vec<String>>,
    json: Option<PathBuf>,
    markdown: Option<PathBuf>,
    peers: bool,
    peers_bin: Option<PathBuf>,
    dir: Option<PathBuf>,
    postgres: String,
    mysql: String,
    redis: String,
    memcache: Option<String>,
    http_secs: u64,
    connections: usize,
    sessions: usize,
    sweep_files: usize,
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

impl Options {
    fn parse(args: &[String]) -> BoxResult<Self> {
        let flags = Flags::new(args)?;
        flags.only(&[
            "--ops",
            "--rounds",
            "--payloads",
            "--concurrency",
            "--op-list",
            "--backends",
            "--json",
            "--markdown",
            "--peers",
            "--peers-bin",
            "--dir",
            "--postgres",
            "--mysql",
            "--redis",
            "--memcache",
            "--http-secs",
            "--connections",
            "--sessions",
            "--sweep-files",
            "--server-cpus",
        ])?;
        if let Some(cpus) = flags.value("--server-cpus") {
            crate::pin::set_server_cpus(cpus);
        }
        let ops = match flags.value("--op-list") {
            Some(list) => list.split(',').map(Op::parse).collect::<BoxResult<_>>()?,
            None => Op::ALL.to_vec(),
        };
        let peers = match flags.value("--peers") {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(format!("--peers takes on or off, got {other:?}").into()),
        };
        Ok(Options {
            grid: Grid {
                ops,
                tasks: flags.list("--concurrency", &[1, 32])?,
                payloads: flags.list("--payloads", &[100, 2048, 32 * 1024])?,
                n: flags.count("--ops", 3000)?,
                rounds: flags.count("--rounds", 5)?,
            },
            backends: flags
                .value("--backends")
                .map(|l| l.split(',').map(str::to_owned).collect()),
            json: flags.path("--json"),
            markdown: flags.path("--markdown"),
            peers,
            peers_bin: flags.path("--peers-bin"),
            dir: flags.path("--dir"),
            postgres: flags
                .value("--postgres")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    env_or(
                        "SESSION_TEST_POSTGRES_URL",
                        "postgres://postgres@127.0.0.1:5432/test",
                    )
                }),
            mysql: flags
                .value("--mysql")
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    env_or("SESSION_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
                }),
            redis: flags
                .value("--redis")
                .map(str::to_owned)
                .unwrap_or_else(|| env_or("SESSION_TEST_REDIS_URL", "redis://127.0.0.1:6379/")),
            memcache: flags
                .value("--memcache")
                .map(str::to_owned)
                .or_else(|| std::env::var("SESSION_TEST_MEMCACHE_URL").ok()),
            http_secs: flags.count("--http-secs", 4)? as u64,
            connections: flags.count("--connections", 32)?,
            sessions: flags.count("--sessions", 1_000_000)?,
            sweep_files: flags.count("--sweep-files", 100_000)?,
        })
    }

    fn scratch(&self) -> BoxResult<tempfile::TempDir> {
        Ok(match &self.dir {
            Some(dir) => tempfile::tempdir_in(dir)?,
            None => tempfile::tempdir()?,
        })
    }
}

/// Every store backend, in report order.
pub const BACKENDS: &[&str] = &[
    "memory",
    "file",
    "file-nosync",
    "sqlite",
    "postgres",
    "mysql",
    "redis",
    "memcache",
    "cookie",
];

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn started() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let (days, secs) = ((now / 86_400) as i64, now % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

async fn dispatch(command: &str, opts: Options, command_line: String) -> BoxResult<()> {
    let mut report = Report {
        command: command_line,
        started: started(),
        machine: report::machine(),
        load_average: vec![load_average()],
        context: vec![pin::placement()],
        ..Report::default()
    };
    let scratch = opts.scratch()?;
    let mut extra = String::new();
    let selected = |default: &[&str]| -> Vec<String> {
        match &opts.backends {
            Some(list) => list.clone(),
            None => default.iter().map(|s| (*s).to_owned()).collect(),
        }
    };
    // What each command measures: store-level rows of some backends, the touch
    // counts, HTTP runs, the file sweeps, scale.
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (store_backends, touch_counts, http_backends) = match command {
        "all" => (selected(BACKENDS), true, selected(BACKENDS)),
        "http" => (Vec::new(), false, selected(BACKENDS)),
        "touch" => (Vec::new(), true, Vec::new()),
        "scale" => (Vec::new(), false, Vec::new()),
        "sql" => (owned(&["sqlite", "postgres", "mysql"]), false, Vec::new()),
        "file" => (owned(&["file", "file-nosync"]), false, Vec::new()),
        one if BACKENDS.contains(&one) => (owned(&[one]), false, Vec::new()),
        other => return Err(format!("unknown command {other:?}").into()),
    };
    let peers = if opts.peers && !matches!(command, "touch" | "scale") {
        match peers::Peers::locate(&opts).await {
            Ok(p) => Some(p),
            Err(e) => {
                report
                    .skipped
                    .push(format!("tower-sessions (peers binary unavailable: {e})"));
                None
            }
        }
    } else {
        None
    };
    let mut memcached = None;
    if !store_backends.is_empty() {
        stores(
            &opts,
            &store_backends,
            scratch.path(),
            peers.as_ref(),
            &mut memcached,
            &mut report,
        )
        .await?;
    }
    if touch_counts {
        report.touch = touch::run().await?;
    }
    if !http_backends.is_empty() {
        report.http = http::run(
            &opts,
            &http_backends,
            scratch.path(),
            peers.as_ref(),
            &mut memcached,
            &mut report,
        )
        .await?;
    }
    if command == "file" {
        extra = file::sweeps(scratch.path(), opts.sweep_files).await?;
    }
    if command == "scale" {
        let backends = selected(&["file", "sqlite", "redis"]);
        report.scale = scale::run(&opts, &backends, scratch.path(), &mut report).await?;
    }
    drop(memcached);
    report.load_average.push(load_average());
    let mut markdown = report.to_markdown();
    if !extra.is_empty() {
        markdown.push('\n');
        markdown.push_str(&extra);
    }
    println!("{markdown}");
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &opts.markdown {
        std::fs::write(path, &markdown)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Opens one backend's target; `Ok(None)` with a reason when it is not reachable.
async fn open_target(
    backend: &str,
    opts: &Options,
    scratch: &std::path::Path,
    memcached: &mut Option<memcache::PrivateServer>,
    report: &mut Report,
) -> BoxResult<Result<Target, String>> {
    Ok(match backend {
        "memory" => Ok(cookie::memory_target()),
        "cookie" => Ok(cookie::target()?),
        "file" | "file-nosync" => {
            report.context.push(format!(
                "{backend}: scratch in {} ({})",
                scratch.display(),
                report::filesystem(scratch)
            ));
            Ok(file::target(scratch, backend == "file").await?)
        }
        "sqlite" | "postgres" | "mysql" => {
            let url = match backend {
                "sqlite" => sql::sqlite_url(scratch, "bench.db"),
                "postgres" => opts.postgres.clone(),
                _ => opts.mysql.clone(),
            };
            match sql::target(backend, &url).await {
                Ok((t, version)) => {
                    let how = if backend == "sqlite" {
                        " (a file in WAL mode, synchronous=NORMAL)"
                    } else {
                        ""
                    };
                    report.context.push(format!(
                        "{backend}: server {version}{how}, pools of 32 connections"
                    ));
                    Ok(t)
                }
                Err(e) => Err(format!("{backend} not reachable: {e}")),
            }
        }
        "redis" => match redis::target(&opts.redis).await {
            Ok((t, version)) => {
                report.context.push(format!(
                    "redis: Redis {version} at {}, one multiplexed ConnectionManager",
                    opts.redis
                ));
                Ok(t)
            }
            Err(e) => Err(format!("redis not reachable: {e}")),
        },
        "memcache" => {
            let servers = match memcache_servers(opts, memcached).await {
                Ok(s) => s,
                Err(e) => return Ok(Err(format!("memcache not reachable: {e}"))),
            };
            match memcache::target(&servers).await {
                Ok(t) => {
                    report.context.push(format!(
                        "memcache: {} at {}",
                        memcache::binary_version(),
                        servers.join(",")
                    ));
                    Ok(t)
                }
                Err(e) => Err(format!("memcache not reachable: {e}")),
            }
        }
        other => return Err(format!("unknown backend {other:?}").into()),
    })
}

/// The memcached servers: `--memcache`, or a private one started once per run.
async fn memcache_servers(
    opts: &Options,
    memcached: &mut Option<memcache::PrivateServer>,
) -> BoxResult<Vec<String>> {
    if let Some(url) = &opts.memcache {
        return Ok(memcache::servers(Some(url)).await?.1);
    }
    if memcached.is_none() {
        *memcached = memcache::servers(None).await?.0;
    }
    memcached
        .as_ref()
        .map(|s| vec![s.addr.clone()])
        .ok_or_else(|| "no memcached".into())
}

/// Store level: every backend of `backends`, ours and raw, then tower-sessions'.
async fn stores(
    opts: &Options,
    backends: &[String],
    scratch: &std::path::Path,
    peers: Option<&peers::Peers>,
    memcached: &mut Option<memcache::PrivateServer>,
    report: &mut Report,
) -> BoxResult<()> {
    for backend in backends {
        eprintln!("{backend}: measuring");
        let target = match open_target(backend, opts, scratch, memcached, report).await? {
            Ok(t) => t,
            Err(why) => {
                eprintln!("  skipped: {why}");
                report.skipped.push(why);
                continue;
            }
        };
        let rows = driver::bench_target(&target, &opts.grid).await;
        if let Some(cleanup) = target.cleanup {
            cleanup().await;
        }
        let mut rows = rows?;
        if let Some(p) = peers {
            match p.store_rows(backend, opts).await {
                Ok(Some(peer_rows)) => peers::merge(&mut rows, peer_rows),
                Ok(None) => {}
                Err(e) => report
                    .skipped
                    .push(format!("tower-sessions on {backend}: {e}")),
            }
        }
        report.rows.extend(rows);
    }
    Ok(())
}

/// A tiny `--flag value` parser: a handful of flags do not need an argument parsing
/// dependency.
pub struct Flags<'a> {
    args: &'a [String],
}

impl<'a> Flags<'a> {
    /// Flags from the arguments after the command name.
    pub fn new(args: &'a [String]) -> BoxResult<Self> {
        let mut i = 0;
        while i < args.len() {
            if !args[i].starts_with("--") || i + 1 >= args.len() {
                return Err(format!("expected `--flag value`, got {:?}", args[i]).into());
            }
            i += 2;
        }
        Ok(Flags { args })
    }

    /// The value of `name`, if given.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.args
            .chunks(2)
            .find(|pair| pair[0] == name)
            .and_then(|pair| pair.get(1))
            .map(String::as_str)
    }

    /// A positive whole number, or `default` when the flag is absent.
    pub fn count(&self, name: &str, default: usize) -> BoxResult<usize> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => match v.replace('_', "").parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name} needs a positive number, got {v:?}").into()),
            },
        }
    }

    /// A comma-separated list of positive numbers, or `default`.
    pub fn list(&self, name: &str, default: &[usize]) -> BoxResult<Vec<usize>> {
        match self.value(name) {
            None => Ok(default.to_vec()),
            Some(v) => v
                .split(',')
                .map(|x| match x.trim().replace('_', "").parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{name} needs positive numbers, got {x:?}").into()),
                })
                .collect(),
        }
    }

    /// A path, if given.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.value(name).map(PathBuf::from)
    }

    /// Fails on any flag not in `known`.
    pub fn only(&self, known: &[&str]) -> BoxResult<()> {
        for pair in self.args.chunks(2) {
            if !known.contains(&pair[0].as_str()) {
                return Err(format!("unknown option {:?}", pair[0]).into());
            }
        }
        Ok(())
    }
}
