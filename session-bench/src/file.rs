//! `FileStore`, durable (fsync, the default) and not (`durable(false)`), next to the
//! raw file operations it is built from, twice: inline on the calling thread (the
//! physical limit) and on tokio's blocking pool (the limit for an async server, which
//! must not block its workers, and which is what our store does).
//!
//! Raw operations, in a mirror directory with the store's layout (`ab/cd/<key hex>`),
//! on the bytes the store writes:
//!
//! - create: `open(O_CREAT|O_EXCL)`, write, `fdatasync`, fsync the directory;
//! - load: `fs::read`;
//! - save and touch: write a temp file, `fdatasync`, rename over the target, fsync the
//!   directory (our touch rewrites the record with its new deadline, so the raw
//!   equivalent is the same crash-safe replace);
//! - delete: unlink, fsync the directory.
//!
//! Without fsync both sides skip every `fdatasync` and directory fsync.
//!
//! Also here: `delete_expired` over many expired files (the `file` subcommand's sweep
//! table), rate and memory.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use session_core::{ManualClock, SessionStore, StoreSettings};
use session_file::FileStore;

use crate::driver::{Item, Raw, Target};
use crate::measure::{Op, TaskResult};
use crate::report::{self, fmt_kib, fmt_rate, rate, thousands, Table};
use crate::workload::sample_record;
use crate::BoxResult;

/// The raw file operations, inline or offloaded.
pub struct FileRaw {
    root: PathBuf,
    durable: bool,
    offload: bool,
    seq: AtomicU64,
}

impl FileRaw {
    fn new(root: PathBuf, durable: bool, offload: bool) -> Arc<Self> {
        Arc::new(FileRaw {
            root,
            durable,
            offload,
            seq: AtomicU64::new(0),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root
            .join(key.get(0..2).unwrap_or("00"))
            .join(key.get(2..4).unwrap_or("00"))
            .join(key)
    }

    fn sync_dir(&self, path: &Path) -> std::io::Result<()> {
        if self.durable {
            if let Some(dir) = path.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        Ok(())
    }

    fn create_sync(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let open = || {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
        };
        let mut f = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                open()?
            }
            Err(e) => return Err(e),
        };
        f.write_all(bytes)?;
        if self.durable {
            f.sync_data()?;
        }
        drop(f);
        self.sync_dir(path)
    }

    fn replace_sync(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".raw-{seq}"));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if self.durable {
            f.sync_data()?;
        }
        drop(f);
        fs::rename(&tmp, path)?;
        self.sync_dir(path)
    }

    fn delete_sync(&self, path: &Path) -> std::io::Result<()> {
        fs::remove_file(path)?;
        self.sync_dir(path)
    }

    async fn run<T, F>(self: &Arc<Self>, f: F) -> TaskResult<T>
    where
        F: FnOnce(&FileRaw) -> std::io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.offload {
            let me = self.clone();
            tokio::task::spawn_blocking(move || f(&me))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        } else {
            f(self).map_err(|e| e.to_string())
        }
    }
}

/// `Raw` needs `&self`; the offloaded calls need an owned handle.
struct Shared(Arc<FileRaw>);

#[async_trait]
impl Raw for Shared {
    fn label(&self, op: Op) -> Option<String> {
        let sync = if self.0.durable {
            ", fdatasync, dir fsync"
        } else {
            ""
        };
        let how = if self.0.offload {
            " (spawn_blocking)"
        } else {
            " (inline)"
        };
        Some(match op {
            Op::Create => format!("open O_EXCL, write{sync}{how}"),
            Op::Load => format!("fs::read{how}"),
            Op::Save | Op::Touch => format!("write temp, rename{sync}{how}"),
            Op::Delete => format!(
                "unlink{}{how}",
                if self.0.durable { ", dir fsync" } else { "" }
            ),
        })
    }

    async fn create(&self, item: &Item) -> TaskResult<String> {
        let path = self.0.path(&item.key);
        let handle = path.to_string_lossy().into_owned();
        let bytes = item.bytes.clone();
        self.0
            .run(move |raw| raw.create_sync(&path, &bytes))
            .await?;
        Ok(handle)
    }

    async fn load(&self, handle: &str) -> TaskResult<()> {
        let path = PathBuf::from(handle);
        let bytes = self.0.run(move |_| fs::read(path)).await?;
        std::hint::black_box(bytes);
        Ok(())
    }

    async fn save(&self, handle: &str, item: &Item) -> TaskResult<()> {
        let (path, bytes) = (PathBuf::from(handle), item.bytes.clone());
        self.0.run(move |raw| raw.replace_sync(&path, &bytes)).await
    }

    async fn touch(&self, handle: &str, item: &Item) -> TaskResult<()> {
        self.save(handle, item).await
    }

    async fn delete(&self, handle: &str) -> TaskResult<()> {
        let path = PathBuf::from(handle);
        self.0.run(move |raw| raw.delete_sync(&path)).await
    }
}

/// The file backends: `file` (durable, the default) and `file-nosync`.
pub async fn target(scratch: &Path, durable: bool) -> BoxResult<Target> {
    let name = if durable { "file" } else { "file-nosync" };
    let store = FileStore::open(scratch.join(format!("{name}-store")))
        .await?
        .durable(durable);
    let raw_root = scratch.join(format!("{name}-raw"));
    let async_root = scratch.join(format!("{name}-raw-async"));
    Ok(Target {
        backend: name.into(),
        what: format!("FileStore (durable: {durable})"),
        store: Arc::new(store),
        raw: Some(Arc::new(Shared(FileRaw::new(raw_root, durable, false)))),
        raw_async: Some(Arc::new(Shared(FileRaw::new(async_root, durable, true)))),
        cleanup: None,
        commands: None,
    })
}

/// Creates `files` sessions that expire, lets them expire, and times one sweep.
async fn sweep(scratch: &Path, files: usize) -> BoxResult<Vec<String>> {
    let clock = ManualClock::new();
    let dir = scratch.join(format!("sweep-{files}"));
    let setup = FileStore::open(&dir)
        .await?
        .with_settings(StoreSettings::new().with_clock(clock.clone()))
        .durable(false);
    let started = Instant::now();
    for i in 0..files {
        let mut r = sample_record(clock.now(), 600, i);
        r.expires_at = clock.now().saturating_add(Duration::from_secs(60));
        setup.create(&r).await?;
    }
    eprintln!(
        "  created {} expiring sessions in {:.1} s",
        thousands(files as u64),
        started.elapsed().as_secs_f64()
    );
    drop(setup);
    clock.advance(Duration::from_secs(61));
    // Default (durable) options: the sweep itself never fsyncs, see session-file.
    let store = FileStore::open(&dir)
        .await?
        .with_settings(StoreSettings::new().with_clock(clock.clone()));

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

/// The `file` subcommand's extra: `delete_expired` at a tenth of `files` and at
/// `files`, as a Markdown table.
pub async fn sweeps(scratch: &Path, files: usize) -> BoxResult<String> {
    let mut sweeps = Table::new(&[
        "expired files",
        "seconds",
        "files/s",
        "peak RSS growth",
        "process peak RSS",
    ]);
    // A tenth of the files first: equal memory at both sizes shows the walk streams.
    for n in [(files / 10).max(1), files] {
        sweeps.row(sweep(scratch, n).await?);
    }
    Ok(format!(
        "### file: delete_expired\n\n{}\nPeak RSS growth: the sweep's peak resident memory \
         above the resident memory just before it (VmHWM reset through \
         /proc/self/clear_refs).\n",
        sweeps.render()
    ))
}
