//! The workspace's benchmark harness: a program that prints numbers (Markdown tables,
//! and JSON on request), never a timed test.
//!
//! ```text
//! cargo run -p session-bench --release -- all [--json PATH] [--markdown PATH] [options]
//! cargo run -p session-bench --release -- redis|memcache|sql|file|cookie|memory [options]
//! cargo run -p session-bench --release -- http|touch|scale|cpu|users|tiered [options]
//! cargo run -p session-bench --release -- help [command]
//! ```
//!
//! One generic driver ([`driver`]) measures every store through the `SessionStore`
//! trait; a backend module only opens its store and supplies its raw client. The
//! tower-sessions side runs as a subprocess from its own workspace
//! (`session-bench/peers`), whose rows are merged next to ours; the measurement rules
//! both sides follow are one file both include ([`measure`]).

mod cookie;
mod cpu;
#[path = "shared/cpu.rs"]
mod cpu_driver;
mod driver;
mod file;
mod hand_written;
mod http;
#[path = "shared/measure.rs"]
mod measure;
mod memcache;
mod observe;
mod peers;
mod pin;
mod redis;
mod report;
mod results;
mod scale;
#[path = "shared/serve.rs"]
mod serve;
#[path = "shared/serve_actix.rs"]
mod serve_actix;
mod sql;
mod targets;
mod tiered;
mod touch;
mod users;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use driver::Target;
use measure::{positive, Grid};
use results::Report;

/// The harness's error type, shared with the peers through [`measure`].
pub use measure::BoxResult;

/// session-bench: the session stores measured at store level (next to their backends'
/// raw clients and tower-sessions), at HTTP level, per touch policy and at scale.
/// Prints Markdown; `--json` and `--markdown` write the report.
#[derive(Debug, Parser)]
#[command(name = "session-bench")]
struct Cli {
    /// What to measure.
    #[command(subcommand)]
    command: Command,
}

/// The commands. Every measuring one takes the same [`Options`].
#[derive(Debug, Subcommand)]
enum Command {
    /// Every reachable backend (store level, next to raw and tower-sessions), then the
    /// touch-policy count and the HTTP runs: one report.
    All(Options),
    /// Store level: the in-memory store.
    Memory(Options),
    /// Store level: the file store with and without fsync (file, file-nosync), then the
    /// delete_expired sweep.
    File(Options),
    /// Store level: the file store without fsync only.
    FileNosync(Options),
    /// Store level: SQLite, PostgreSQL and MariaDB.
    Sql(Options),
    /// Store level: SQLite (a file in the scratch directory).
    Sqlite(Options),
    /// Store level: PostgreSQL (--postgres).
    Postgres(Options),
    /// Store level: MariaDB / MySQL (--mysql).
    Mysql(Options),
    /// Store level: Redis (--redis).
    Redis(Options),
    /// Store level: memcached (--memcache, else a private one).
    Memcache(Options),
    /// Store level: the cookie store.
    Cookie(Options),
    /// HTTP level only: the demo app per backend, the bare app, tower-sessions (axum);
    /// the demo on actix-web, the bare actix app, actix-session (actix).
    Http(Options),
    /// Store writes of a read-only workload per touch policy.
    Touch(Options),
    /// 1,000,000 sessions (--sessions) in files, SQLite and Redis: load latency at
    /// 10,000 and at the full size, delete_expired rate and memory.
    Scale(Options),
    /// Sessions by user on SQLite, PostgreSQL and Redis (--backends): listing and
    /// revoking 1, 10, 100 and 1,000 sessions of one user next to the raw queries, and
    /// bound versus unbound create and save.
    Users(Options),
    /// Issue 22's tiered stores: loads and saves of `TieredStore` (in-process cache
    /// with and without an invalidation bus, shared Redis cache) over SQLite and
    /// PostgreSQL, next to the durable store alone and tower-sessions'
    /// `CachingSessionStore` with a moka cache; hit rates over a warm working set.
    Tiered(Options),
    /// The Markdown of an earlier JSON report (after a change to the tables, without
    /// measuring again).
    Render {
        /// The JSON report to read.
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// Write the Markdown here instead of printing it.
        #[arg(long, value_name = "PATH")]
        markdown: Option<PathBuf>,
    },
    /// The session layers' own CPU per request over the memory store (ours,
    /// tower-sessions', minus the bare app), in instructions counted by valgrind's
    /// callgrind over in-process requests (also part of `http` and `all`).
    Cpu(Options),
    /// Issue 21's targets, met / not met / not measured with the worst cell, judged on
    /// the JSON of one or more earlier runs (read as one report).
    Targets {
        /// The JSON reports (`--json` of earlier runs).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// An earlier report to compare with: the cookie speed-up and "no regression".
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// The run-to-run spread a cell may drop by against the baseline (a fraction).
        #[arg(long, value_name = "X", default_value = "0.1")]
        spread: f64,
        /// Write the Markdown here instead of printing it.
        #[arg(long, value_name = "PATH")]
        markdown: Option<PathBuf>,
    },
    /// Internal: the process `cpu` counts: `--requests` requests of `--path` through
    /// one router in process.
    #[command(hide = true)]
    CpuRun {
        /// The router.
        #[arg(long, value_enum)]
        stack: cpu::Stack,
        /// `/` or `/counter`.
        #[arg(long, value_parser = ["/", "/counter"])]
        path: String,
        /// Requests after the first (which creates the session).
        #[arg(long)]
        requests: usize,
    },
    /// Internal: the HTTP server process of `http`. Prints `LISTENING <addr>` and
    /// serves until its standard input closes.
    #[command(hide = true)]
    Serve(http::ServeArgs),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // Parsed before anything runs: an unknown command or option fails here, before the
    // peers build or any server starts.
    let matches = Cli::command().get_matches_from(&args);
    let command = matches.subcommand_name().unwrap_or_default().to_owned();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let command_line = format!(
        "cargo run -p session-bench --release -- {}",
        args.get(1..).unwrap_or_default().join(" ")
    );
    match run(&command, cli.command, command_line) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(name: &str, command: Command, command_line: String) -> BoxResult<()> {
    if let Command::Serve(args) = &command {
        if args.observe {
            observe::install()?;
        }
        if args.framework == http::Framework::Actix {
            // actix-web runs its own runtimes (one per worker), not the shared tokio one.
            return http::serve_actix(args);
        }
    }
    if let Command::CpuRun {
        stack,
        path,
        requests,
    } = &command
    {
        // Its own current-thread runtime: one thread's work, no scheduler.
        return cpu::run_one(*stack, path, *requests);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match command {
        Command::Render { from, markdown } => render(&from, markdown.as_deref()),
        Command::Targets {
            files,
            baseline,
            spread,
            markdown,
        } => targets::command(&files, baseline.as_deref(), spread, markdown.as_deref()),
        Command::Serve(args) => runtime.block_on(http::serve(&args)),
        Command::CpuRun { .. } => Err("cpu-run runs on its own runtime".into()),
        Command::All(opts)
        | Command::Memory(opts)
        | Command::File(opts)
        | Command::FileNosync(opts)
        | Command::Sql(opts)
        | Command::Sqlite(opts)
        | Command::Postgres(opts)
        | Command::Mysql(opts)
        | Command::Redis(opts)
        | Command::Memcache(opts)
        | Command::Cookie(opts)
        | Command::Http(opts)
        | Command::Cpu(opts)
        | Command::Touch(opts)
        | Command::Users(opts)
        | Command::Tiered(opts)
        | Command::Scale(opts) => {
            if let Some(cpus) = &opts.server_cpus {
                pin::set_server_cpus(cpus);
            }
            runtime.block_on(dispatch(name, opts, command_line))
        }
    }
}

/// `render --from PATH [--markdown PATH]`: the Markdown of a JSON report written by an
/// earlier run (after a change to the tables, without measuring again).
fn render(from: &std::path::Path, markdown_to: Option<&std::path::Path>) -> BoxResult<()> {
    let report: Report = serde_json::from_str(&std::fs::read_to_string(from)?)?;
    let markdown = report.to_markdown();
    match markdown_to {
        Some(path) => std::fs::write(path, markdown)?,
        None => println!("{markdown}"),
    }
    Ok(())
}

/// `on` or `off`.
fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("on or off, got {other:?}")),
    }
}

/// Options common to every measuring command.
#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    grid: Grid,
    /// For all / http (default: every backend) and scale (default: file,sqlite,redis):
    /// which backends.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = clap::builder::PossibleValuesParser::new(BACKENDS.iter().copied())
    )]
    backends: Option<Vec<String>>,
    /// Write the report as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the report as Markdown.
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Run tower-sessions from session-bench/peers (built with cargo on first use).
    #[arg(
        long,
        value_name = "on|off",
        default_value = "on",
        value_parser = on_off,
        action = clap::ArgAction::Set
    )]
    peers: bool,
    /// A prebuilt peers binary (else it is built with cargo).
    #[arg(long, value_name = "PATH")]
    peers_bin: Option<PathBuf>,
    /// Where scratch files and SQLite databases go (pick the filesystem you deploy
    /// on) [default: the system temp dir].
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,
    /// PostgreSQL.
    #[arg(
        long,
        value_name = "URL",
        env = "SESSION_TEST_POSTGRES_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
    /// MariaDB / MySQL.
    #[arg(
        long,
        value_name = "URL",
        env = "SESSION_TEST_MYSQL_URL",
        hide_env_values = true,
        default_value = "mysql://root@127.0.0.1:3306/test"
    )]
    mysql: String,
    /// Redis.
    #[arg(
        long,
        value_name = "URL",
        env = "SESSION_TEST_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379/"
    )]
    redis: String,
    /// memcached, memcache://host:port [default: a private memcached started for the
    /// run].
    #[arg(
        long,
        value_name = "URL",
        env = "SESSION_TEST_MEMCACHE_URL",
        hide_env_values = true
    )]
    memcache: Option<String>,
    /// Measured seconds per HTTP run, after 1 s of warm-up.
    #[arg(long, value_name = "N", default_value = "4", value_parser = positive::<u64>)]
    http_secs: u64,
    /// Start the servers the bench runs (private memcached, HTTP apps) under
    /// `taskset -c LIST`; see pinned.sh [default: unpinned].
    #[arg(long, value_name = "LIST")]
    server_cpus: Option<String>,
    /// For all / http: which web frameworks' stacks (axum: bare, ours, tower-sessions;
    /// actix: bare-actix, ours-actix, actix-session).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_enum,
        default_value = "axum,actix"
    )]
    frameworks: Vec<http::Framework>,
    /// Keep-alive connections of the HTTP load generator.
    #[arg(long, value_name = "N", default_value = "32", value_parser = positive::<usize>)]
    connections: usize,
    /// scale: sessions.
    #[arg(long, value_name = "N", default_value = "1000000", value_parser = positive::<usize>)]
    sessions: usize,
    /// cpu (and http, all): requests between the two instruction counts of each
    /// stack and path (counted at N/2 and 3N/2).
    #[arg(long, value_name = "N", default_value = "2000", value_parser = positive::<usize>)]
    cpu_requests: usize,
    /// tiered: loads per store per cell, split over the rounds [default: 10 × --ops]
    /// (a cache hit takes about a microsecond: a round of --ops / --rounds would last
    /// about a millisecond).
    #[arg(long, value_name = "N", value_parser = positive::<usize>)]
    load_ops: Option<usize>,
    /// file: expired files of the big delete_expired run.
    #[arg(long, value_name = "N", default_value = "100000", value_parser = positive::<usize>)]
    sweep_files: usize,
}

impl Options {
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
        "touch" | "cpu" => (Vec::new(), command == "touch", Vec::new()),
        "scale" | "users" | "tiered" => (Vec::new(), false, Vec::new()),
        "sql" => (owned(&["sqlite", "postgres", "mysql"]), false, Vec::new()),
        "file" => (owned(&["file", "file-nosync"]), false, Vec::new()),
        one if BACKENDS.contains(&one) => (owned(&[one]), false, Vec::new()),
        other => return Err(format!("unknown command {other:?}").into()),
    };
    let peers = if opts.peers && !matches!(command, "touch" | "scale" | "users") {
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
    // The in-process count needs the axum stacks; `--frameworks actix` alone skips it.
    let counts_cpu = command == "cpu"
        || (matches!(command, "http" | "all") && opts.frameworks.contains(&http::Framework::Axum));
    if counts_cpu {
        report.cpu = cpu::run(&opts, peers.as_ref(), &mut report.skipped).await?;
    }
    if command == "file" {
        extra = file::sweeps(scratch.path(), opts.sweep_files).await?;
    }
    if command == "scale" {
        let backends = selected(&["file", "sqlite", "redis"]);
        report.scale = scale::run(&opts, &backends, scratch.path(), &mut report).await?;
    }
    if command == "users" {
        let mut targets = Vec::new();
        for backend in selected(&["sqlite", "postgres", "redis"]) {
            let opened = match backend.as_str() {
                "sqlite" => {
                    let url = sql::sqlite_url(scratch.path(), "users.db");
                    sql::index_target("sqlite", &url).await
                }
                "postgres" => sql::index_target("postgres", &opts.postgres).await,
                "mysql" => sql::index_target("mysql", &opts.mysql).await,
                "redis" => redis::index_target(&opts.redis).await,
                other => Err(format!("{other} has no sessions-by-user cells").into()),
            };
            match opened {
                Ok(t) => targets.push(t),
                Err(e) => report.skipped.push(format!("{backend}: {e}")),
            }
        }
        report.users = users::run(targets).await?;
    }
    if command == "tiered" {
        report.tiered = tiered::run(&opts, scratch.path(), peers.as_ref(), &mut report).await?;
    }
    drop(memcached);
    report.load_average.push(load_average());
    let mut markdown = report.to_markdown();
    // Issue 21's targets judge store, HTTP and cpu cells, none of which `tiered` has.
    if command != "tiered" {
        markdown.push('\n');
        markdown.push_str(&targets::markdown(&targets::evaluate(&report, None, 0.1)));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("session-bench").chain(args.split_whitespace()))
            .map(|cli| cli.command)
    }

    fn options(args: &str) -> Options {
        match parse(args) {
            Ok(Command::All(opts) | Command::Http(opts) | Command::Scale(opts)) => opts,
            other => panic!("{args}: {other:?}"),
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_parses() {
        for command in [
            "all",
            "memory",
            "file",
            "file-nosync",
            "sql",
            "sqlite",
            "postgres",
            "mysql",
            "redis",
            "memcache",
            "cookie",
            "http",
            "touch",
            "scale",
            "cpu",
            "cpu --cpu-requests 100 --peers off",
            "tiered",
            "tiered --load-ops 1_000 --backends postgres --op-list load",
            "cpu-run --stack ours --path /counter --requests 10",
            "render --from report.json",
            "render --from report.json --markdown report.md",
            "targets a.json",
            "targets a.json b.json --baseline c.json --spread 0.05 --markdown t.md",
            "serve",
            "serve --url memory://",
            "serve --framework actix",
            "serve --framework actix --url cookie://",
            "serve --stack hand-written --backend memory",
            "serve --stack hand-written --framework actix --backend redis --url redis://x/ --prefix p:",
        ] {
            assert!(parse(command).is_ok(), "{command}");
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let opts = options("all");
        assert_eq!(opts.grid.n, 3000);
        assert_eq!(opts.grid.rounds, 5);
        assert_eq!(opts.grid.payloads, [100, 2048, 32768]);
        assert_eq!(opts.grid.tasks, [1, 32]);
        assert_eq!(opts.grid.ops.len(), 5);
        assert!(opts.peers);
        assert_eq!(opts.backends, None);
        assert_eq!(opts.http_secs, 4);
        assert_eq!(opts.connections, 32);
        assert_eq!(opts.sessions, 1_000_000);
        assert_eq!(opts.sweep_files, 100_000);
        assert_eq!(opts.server_cpus, None);
        assert_eq!(
            opts.frameworks,
            [http::Framework::Axum, http::Framework::Actix]
        );
    }

    #[test]
    fn options_parse_as_pinned_sh_and_the_readme_type_them() {
        let opts = options(
            "all --json r.json --markdown r.md --peers off --backends memory,file-nosync \
             --sessions 1_000 --http-secs 2 --server-cpus 1-3 --frameworks actix",
        );
        assert_eq!(opts.json, Some(PathBuf::from("r.json")));
        assert_eq!(opts.markdown, Some(PathBuf::from("r.md")));
        assert!(!opts.peers);
        assert_eq!(
            opts.backends,
            Some(vec!["memory".to_owned(), "file-nosync".to_owned()])
        );
        assert_eq!(opts.sessions, 1000);
        assert_eq!(opts.http_secs, 2);
        assert_eq!(opts.server_cpus.as_deref(), Some("1-3"));
        assert_eq!(opts.frameworks, [http::Framework::Actix]);
    }

    #[test]
    fn unknown_or_bad_arguments_fail_before_anything_runs() {
        for bad in [
            "",
            "bogus",
            "all --bogus 1",
            "all --backends memory,nope",
            "all --peers maybe",
            "all --sessions 0",
            "tiered --load-ops 0",
            "all --op-list create,upsert",
            "render",
            "render --from r.json --ops 5",
            "targets",
            "targets a.json --ops 5",
            "serve --ops 5",
            "serve --framework rocket",
            "serve --stack hand-written --backend file",
            "cpu-run --stack ours --path /login --requests 1",
            "cpu-run --stack tower --path / --requests 1",
            "http --frameworks axum,warp",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
