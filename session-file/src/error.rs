//! How filesystem and database failures become a [`BackendError`] that names the file
//! they happened on, and the bridge from blocking filesystem work to the async store
//! methods.

use std::path::Path;

use session_core::{BackendError, BackendErrorKind, BoxError, Error, Operation, Result};

/// A failure of `step` ("read", "rename", "lock", "commit"...) on `path`, as a
/// [`BackendError`] of kind [`Io`](BackendErrorKind::Io): a local failure that a retry
/// does not cure (permissions, a full disk). A bare `io::Error` says "No such file or
/// directory" without saying which; the context names the step and the path, so a log
/// line is enough to find the problem. The source is the `io::Error` or `redb` error.
/// [`blocking`] adds the store and the operation.
pub(crate) fn file_error(step: &'static str, path: &Path, source: impl Into<BoxError>) -> Error {
    BackendError::new(BackendErrorKind::Io, source)
        .with_context(format!("{step} {}", path.display()))
        .into()
}

/// Runs blocking filesystem work for `store`'s `operation` on tokio's blocking pool,
/// so no store call ever stalls an async worker thread. A backend error from `work`
/// comes back naming the store and the operation.
pub(crate) async fn blocking<T, F>(store: &'static str, operation: Operation, work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let result = match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        // The closure panicked or the runtime is shutting down: a backend failure for
        // the caller, not a reason to take the caller's task down too.
        Err(join) => Err(BackendError::new(BackendErrorKind::Other, join).into()),
    };
    result.map_err(|e| match e {
        Error::Backend(b) => b.with_store(store).or_operation(operation).into(),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_failure_names_store_operation_step_and_path() {
        let err = blocking("file", Operation::Load, || -> Result<()> {
            let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
            Err(file_error("read", Path::new("/s/ab/cd"), io))
        })
        .await
        .unwrap_err();
        let Error::Backend(b) = &err else {
            panic!("a file failure is a backend error: {err:?}");
        };
        assert_eq!(b.kind(), BackendErrorKind::Io);
        assert!(!err.is_temporary(), "a local I/O failure is not an outage");
        assert_eq!(b.store(), Some("file"));
        assert_eq!(b.operation(), Some(Operation::Load));
        assert_eq!(b.context(), Some("read /s/ab/cd"));
        assert!(b.source_as::<std::io::Error>().is_some());
        assert!(
            err.to_string()
                .starts_with("session backend failed: file load: I/O error: read /s/ab/cd: "),
            "{err}"
        );
    }

    #[tokio::test]
    async fn other_errors_pass_through() {
        let err = blocking("shelf", Operation::Save, || -> Result<()> {
            Err(Error::Conflict)
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Conflict));
    }
}
