//! Striped advisory locks that serialise read-check-write sequences on a record, across
//! threads and across processes sharing the directory.
//!
//! One lock file per first byte of the storage key (`.locks/00` … `.locks/ff`) rather
//! than one per session: a bounded set of files that never needs cleaning up, and
//! 256-way striping keeps unrelated sessions from waiting on each other in practice.
//!
//! `flock` locks belong to an open file description, so two threads sharing one file
//! handle would both "hold" the lock. Each stripe therefore pairs an in-process mutex
//! (threads) with an `flock` on the stripe's file (processes, via `fs4`). A second
//! `FileStore` on the same directory in the same process opens its own handles, whose
//! `flock`s conflict with ours, so it is excluded too.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use fs4::FileExt;
use session_core::StorageKey;

use crate::layout::{hex_byte, FILE_MODE};

const STRIPES: usize = 256;

/// The lock stripes of one store directory. Lock files are opened on first use.
pub(crate) struct StripeLocks {
    dir: PathBuf,
    stripes: Vec<Mutex<Option<File>>>,
}

/// Holds one stripe, in this process and on the file, until dropped.
pub(crate) struct StripeGuard<'a> {
    file: MutexGuard<'a, Option<File>>,
}

impl StripeLocks {
    pub(crate) fn new(dir: PathBuf) -> Self {
        StripeLocks {
            dir,
            stripes: (0..STRIPES).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Blocks until this thread holds the stripe of `key`. Call from blocking code only.
    pub(crate) fn lock(&self, key: &StorageKey) -> io::Result<StripeGuard<'_>> {
        let first = key.as_bytes()[0];
        let stripe = &self.stripes[usize::from(first)];
        // The guarded value is only ever "no handle yet" or an open handle, both valid
        // after a panic elsewhere, so a poisoned mutex is safe to use.
        let mut file = stripe.lock().unwrap_or_else(PoisonError::into_inner);
        if file.is_none() {
            *file = Some(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(FILE_MODE)
                    .open(self.dir.join(hex_byte(first)))?,
            );
        }
        if let Some(handle) = file.as_ref() {
            // Fully qualified: std's inherent `File::lock` would otherwise shadow fs4's.
            FileExt::lock(handle)?;
        }
        Ok(StripeGuard { file })
    }
}

impl Drop for StripeGuard<'_> {
    fn drop(&mut self) {
        if let Some(handle) = self.file.as_ref() {
            if FileExt::unlock(handle).is_err() {
                // Closing the handle releases the flock for certain; the next locker
                // reopens the file.
                *self.file = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::SessionId;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn excludes_threads_and_a_second_instance() {
        let dir = tempfile::tempdir().unwrap();
        let a = Arc::new(StripeLocks::new(dir.path().to_path_buf()));
        let b = Arc::new(StripeLocks::new(dir.path().to_path_buf()));
        let key = SessionId::generate().storage_key();
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let locks = if i % 2 == 0 { a.clone() } else { b.clone() };
                let inside = inside.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let _g = locks.lock(&key).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
