//! Backend failures that name the file they happened on, and the bridge from blocking
//! filesystem work to the async store methods.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use session_core::{BoxError, Error, Result};

/// A filesystem or database failure on one file, carried inside
/// [`Error::Backend`](session_core::Error::Backend).
///
/// A bare `io::Error` says "No such file or directory" without saying which; this one
/// names the operation and the path, so a log line is enough to find the problem.
/// [`std::error::Error::source`] gives the underlying `io::Error` or `redb` error.
#[derive(Debug)]
pub struct FileError {
    operation: &'static str,
    path: PathBuf,
    source: BoxError,
}

impl FileError {
    /// What the store was doing: "read", "rename", "lock", "commit"…
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The file or directory involved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `io::ErrorKind` when the cause is an I/O error.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.source.downcast_ref::<io::Error>().map(io::Error::kind)
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.operation,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Wraps a failure on `path` as [`Error::Backend`].
pub(crate) fn file_error(
    operation: &'static str,
    path: &Path,
    source: impl Into<BoxError>,
) -> Error {
    Error::backend(FileError {
        operation,
        path: path.to_path_buf(),
        source: source.into(),
    })
}

/// Runs blocking filesystem work on tokio's blocking pool, so no store call ever stalls
/// an async worker thread.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        // The closure panicked or the runtime is shutting down: a backend failure for
        // the caller, not a reason to take the caller's task down too.
        Err(join) => Err(Error::backend(join)),
    }
}
