//! The workspace's benchmark harness: a program that prints numbers (as Markdown tables),
//! never a timed test.
//!
//! ```text
//! cargo run -p session-bench --release -- file [--ops N] [--fsync-ops N]
//!                                              [--sweep-files N] [--dir PATH]
//! ```
//!
//! Each backend is a module with its own options and a `run`; `report` holds the
//! shared measuring and table code. Add a backend by adding a module and a match arm.

mod file;
mod memcache;
mod redis;
mod report;
mod sql;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: session-bench <backend> [options]

backends:
  file    FileStore against raw file operations, and delete_expired
  sql     SqlStore against raw sqlx statements (SQLite; PostgreSQL, MariaDB if reachable)
  redis   RedisStore against raw redis-rs GET / SET on the same connection
  memcache MemcacheStore against raw meta-protocol mg / ms of the same client

options for `file`:
  --ops N           operations per non-fsync measurement (default 20000)
  --fsync-ops N     operations per fsync measurement (default: --ops / 10)
  --sweep-files N   expired files for the delete_expired run (default 100000)
  --dir PATH        where to create the scratch directory (default: the system temp dir)

options for `sql`:
  --ops N           operations per measurement (default 2000)
  --postgres URL    default: $SESSION_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test
  --mysql URL       default: $SESSION_TEST_MYSQL_URL or mysql://root@127.0.0.1:3306/test

options for `redis`:
  --ops N           operations per measurement (default 10000)
  --url URL         default: $SESSION_TEST_REDIS_URL or redis://127.0.0.1:6379/

options for `memcache`:
  --ops N           operations per measurement (default 10000)
  --url URL         memcache://host:port[,host:port]; default: $SESSION_TEST_MEMCACHE_URL,
                    else a private memcached started for the run
";

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-bench: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> BoxResult<()> {
    let Some((backend, rest)) = args.split_first() else {
        return Err("no backend given".into());
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match backend.as_str() {
        "file" => runtime.block_on(file::run(file::Options::parse(rest)?)),
        "sql" => runtime.block_on(sql::run(sql::Options::parse(rest)?)),
        "redis" => runtime.block_on(redis::run(redis::Options::parse(rest)?)),
        "memcache" => runtime.block_on(memcache::run(memcache::Options::parse(rest)?)),
        "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown backend {other:?}").into()),
    }
}

/// A tiny `--flag value` parser: a handful of numeric flags do not need an argument
/// parsing dependency.
pub struct Flags<'a> {
    args: &'a [String],
}

impl<'a> Flags<'a> {
    /// Flags from the arguments after the backend name.
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

    fn value(&self, name: &str) -> Option<&'a str> {
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
