//! `FileStore`: load and save next to the raw file operations they are built from, with
//! and without fsync, and `delete_expired` over many expired files (rate and memory).
//!
//! The raw baselines do the minimum a crash-safe replace needs, on the same bytes the
//! store writes, in a mirror directory with the same layout, measured in the same run:
//! read = `fs::read`; write = create a temp file, write, `fdatasync`, rename over the
//! target, fsync the directory (the fsyncs only in the fsync rows). They run inline on
//! the calling thread; the store pays for its `spawn_blocking` hop, the envelope decode
//! or encode, the expiry and version checks, and the lock, which is what the ratio shows.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use session_core::{Codec, Data, ManualClock, Record, SessionId, SessionStore, Timestamp, Value};
use session_file::FileStore;

use crate::report::{self, fmt_kib, fmt_rate, rate, thousands, Table};
use crate::{BoxResult, Flags};

/// Distinct sessions the load and save loops cycle through.
const SESSIONS: usize = 1_000;
/// Each measurement is repeated this many times, alternating store and raw; the median
/// is reported, so one disturbed round does not decide the figure.
const ROUNDS: usize = 3;

/// Options of the `file` benchmark.
pub struct Options {
    ops: usize,
    fsync_ops: usize,
    sweep_files: usize,
    dir: Option<PathBuf>,
}

impl Options {
    /// Parses `--ops`, `--fsync-ops`, `--sweep-files` and `--dir`.
    pub fn parse(args: &[String]) -> BoxResult<Self> {
        let flags = Flags::new(args)?;
        flags.only(&["--ops", "--fsync-ops", "--sweep-files", "--dir"])?;
        let ops = flags.count("--ops", 20_000)?;
        Ok(Options {
            ops,
            fsync_ops: flags.count("--fsync-ops", (ops / 10).max(1))?,
            sweep_files: flags.count("--sweep-files", 100_000)?,
            dir: flags.path("--dir"),
        })
    }
}

/// A session of typical shape: a user, roles, a cart, a CSRF token and some text.
fn sample_record(now: Timestamp, ttl: Duration, i: usize) -> Record {
    let mut data = Data::new();
    data.insert("user".into(), Value::from(format!("user-{i}@example.com")));
    data.insert("roles".into(), Value::from(vec!["reader", "editor"]));
    data.insert(
        "cart".into(),
        Value::from((0..8).map(|n| format!("sku-{i}-{n}")).collect::<Vec<_>>()),
    );
    data.insert("csrf".into(), Value::from("x".repeat(43)));
    data.insert("note".into(), Value::from("lorem ipsum ".repeat(30)));
    Record::new(SessionId::generate(), data, now, now.saturating_add(ttl))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Where the raw baseline keeps its copy of a record: the store's path, moved under
/// `raw_root`, so the directory shapes match.
fn mirror(store: &FileStore, raw_root: &Path, id: &SessionId) -> BoxResult<PathBuf> {
    let rel = store
        .record_path(id)
        .strip_prefix(store.dir())?
        .to_path_buf();
    Ok(raw_root.join(rel))
}

/// The raw crash-safe replace the store is built from.
fn raw_replace(target: &Path, bytes: &[u8], seq: u64, fsync: bool) -> BoxResult<()> {
    let dir = target.parent().ok_or("record path has no parent")?;
    let tmp = dir.join(format!(".raw-{seq}"));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    if fsync {
        f.sync_data()?;
    }
    drop(f);
    fs::rename(&tmp, target)?;
    if fsync {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

struct Bench {
    store: FileStore,
    records: Vec<Record>,
    cookies: Vec<String>,
    raw_paths: Vec<PathBuf>,
    raw_seq: u64,
}

impl Bench {
    async fn setup(scratch: &Path) -> BoxResult<Self> {
        let store = FileStore::open(scratch.join("store")).await?.durable(false);
        let raw_root = scratch.join("raw");
        let now = Timestamp::from_system(std::time::SystemTime::now());
        let (mut records, mut cookies, mut raw_paths) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..SESSIONS {
            let r = sample_record(now, Duration::from_secs(24 * 3600), i);
            cookies.push(store.create(&r).await?);
            let raw = mirror(&store, &raw_root, &r.id)?;
            fs::create_dir_all(raw.parent().ok_or("no parent")?)?;
            fs::write(&raw, Codec::MessagePack.encode(&r)?)?;
            raw_paths.push(raw);
            records.push(r);
        }
        Ok(Bench {
            store,
            records,
            cookies,
            raw_paths,
            raw_seq: 0,
        })
    }

    fn mean_record_bytes(&self) -> BoxResult<usize> {
        let mut total = 0;
        for r in &self.records {
            total += Codec::MessagePack.encode(r)?.len();
        }
        Ok(total / self.records.len())
    }

    async fn store_loads(&self, ops: usize) -> BoxResult<f64> {
        let start = Instant::now();
        for i in 0..ops {
            let cookie = &self.cookies[i % SESSIONS];
            self.store
                .load(cookie)
                .await?
                .ok_or("a session went missing")?;
        }
        Ok(rate(ops as u64, start.elapsed()))
    }

    fn raw_reads(&self, ops: usize) -> BoxResult<f64> {
        let start = Instant::now();
        for i in 0..ops {
            let bytes = fs::read(&self.raw_paths[i % SESSIONS])?;
            std::hint::black_box(bytes);
        }
        Ok(rate(ops as u64, start.elapsed()))
    }

    async fn store_saves(&mut self, ops: usize, durable: bool) -> BoxResult<f64> {
        let store = self.store.clone().durable(durable);
        // The next version of every record, built before the clock starts.
        let mut nexts = Vec::with_capacity(ops);
        for i in 0..ops {
            let idx = i % SESSIONS;
            let mut next = self.records[idx].clone();
            next.version += (i / SESSIONS) as u64 + 1;
            next.data.insert("n".into(), Value::from(i));
            nexts.push(next);
        }
        let start = Instant::now();
        for next in &nexts {
            store.save(next, next.version - 1).await?;
        }
        let r = rate(ops as u64, start.elapsed());
        for next in nexts.into_iter().rev().take(SESSIONS) {
            let idx = self
                .records
                .iter()
                .position(|r| r.id == next.id)
                .ok_or("record vanished")?;
            if self.records[idx].version < next.version {
                self.records[idx] = next;
            }
        }
        Ok(r)
    }

    fn raw_writes(&mut self, ops: usize, fsync: bool) -> BoxResult<f64> {
        // The bytes the store writes for these records, encoded before the clock starts.
        let mut payloads = Vec::with_capacity(SESSIONS);
        for r in &self.records {
            payloads.push(Codec::MessagePack.encode(r)?);
        }
        let start = Instant::now();
        for i in 0..ops {
            let idx = i % SESSIONS;
            self.raw_seq += 1;
            raw_replace(&self.raw_paths[idx], &payloads[idx], self.raw_seq, fsync)?;
        }
        Ok(rate(ops as u64, start.elapsed()))
    }
}

fn ratio_row(op: &str, fsync: &str, ops: usize, store: f64, raw: f64) -> Vec<String> {
    vec![
        op.to_owned(),
        fsync.to_owned(),
        thousands(ops as u64),
        fmt_rate(store),
        fmt_rate(raw),
        format!("{:.2}", store / raw),
    ]
}

/// Creates `files` sessions that expire, lets them expire, and times one sweep.
async fn sweep(scratch: &Path, files: usize) -> BoxResult<Vec<String>> {
    let clock = ManualClock::new();
    let dir = scratch.join(format!("sweep-{files}"));
    let setup = FileStore::open(&dir)
        .await?
        .with_clock(clock.clone())
        .durable(false);
    let started = Instant::now();
    for i in 0..files {
        setup
            .create(&sample_record(clock.now(), Duration::from_secs(60), i))
            .await?;
    }
    eprintln!(
        "  created {} expiring sessions in {:.1} s",
        thousands(files as u64),
        started.elapsed().as_secs_f64()
    );
    drop(setup);
    clock.advance(Duration::from_secs(61));
    // Default (durable) options: the sweep itself never fsyncs, see session-file.
    let store = FileStore::open(&dir).await?.with_clock(clock.clone());

    let reset = report::reset_peak();
    let before = report::memory().ok_or("no /proc/self/status")?;
    let start = Instant::now();
    let removed = store.delete_expired().await?;
    let elapsed = start.elapsed();
    let after = report::memory().ok_or("no /proc/self/status")?;
    if removed != files as u64 {
        return Err(format!("delete_expired removed {removed} of {files}").into());
    }
    let growth_kib = after.peak_kib.saturating_sub(before.rss_kib);
    let growth = if reset {
        format!("{} KiB", thousands(growth_kib))
    } else {
        format!("≤ {} KiB (peak not resettable)", thousands(growth_kib))
    };
    Ok(vec![
        thousands(files as u64),
        format!("{:.2}", elapsed.as_secs_f64()),
        fmt_rate(rate(removed, elapsed)),
        growth,
        fmt_kib(after.peak_kib),
    ])
}

/// Runs the whole `file` benchmark and prints its tables.
pub async fn run(opts: Options) -> BoxResult<()> {
    let scratch = match &opts.dir {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    println!("## FileStore\n");
    println!("- machine: {}", report::machine());
    println!(
        "- scratch directory: {} ({})",
        scratch.path().display(),
        report::filesystem(scratch.path())
    );

    let mut bench = Bench::setup(scratch.path()).await?;
    println!(
        "- {} sessions of {} bytes (encoded), one task, median of {ROUNDS} rounds\n",
        thousands(SESSIONS as u64),
        bench.mean_record_bytes()?
    );

    // Warm the page cache and the blocking pool once, untimed.
    bench.store_loads(SESSIONS).await?;
    bench.raw_reads(SESSIONS)?;

    let mut table = Table::new(&[
        "operation",
        "fsync",
        "ops",
        "FileStore ops/s",
        "raw ops/s",
        "FileStore / raw",
    ]);
    let (mut store_r, mut raw_r) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        raw_r.push(bench.raw_reads(opts.ops)?);
        store_r.push(bench.store_loads(opts.ops).await?);
    }
    table.row(ratio_row(
        "load / read",
        "n/a",
        opts.ops,
        median(store_r),
        median(raw_r),
    ));
    for (fsync, ops) in [(true, opts.fsync_ops), (false, opts.ops)] {
        let (mut store_r, mut raw_r) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            raw_r.push(bench.raw_writes(ops, fsync)?);
            store_r.push(bench.store_saves(ops, fsync).await?);
        }
        table.row(ratio_row(
            "save / write-temp-rename",
            if fsync { "yes" } else { "no" },
            ops,
            median(store_r),
            median(raw_r),
        ));
    }
    println!("{}", table.render());

    println!("### delete_expired\n");
    let mut sweeps = Table::new(&[
        "expired files",
        "seconds",
        "files/s",
        "peak RSS growth",
        "process peak RSS",
    ]);
    // A tenth of the files first: equal memory at both sizes shows the walk streams.
    for files in [(opts.sweep_files / 10).max(1), opts.sweep_files] {
        sweeps.row(sweep(scratch.path(), files).await?);
    }
    println!("{}", sweeps.render());
    println!(
        "Peak RSS growth: the sweep's peak resident memory above the resident memory \
         just before it (VmHWM reset through /proc/self/clear_refs)."
    );
    Ok(())
}
