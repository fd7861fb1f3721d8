//! Listing a store directory: one entry at a time, with its name and kind, and an empty
//! listing for a directory that is gone (a sweep or a delete may remove it meanwhile).
//! Shared by the sweep (which streams) and the scan (which sorts).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use session_core::Result;

use crate::error::file_error;

/// One directory entry.
pub(crate) struct Listed {
    pub(crate) name: OsString,
    pub(crate) path: PathBuf,
    kind: fs::FileType,
}

impl Listed {
    pub(crate) fn is_dir(&self) -> bool {
        self.kind.is_dir()
    }

    /// Only regular files are ours: anything else someone put here (a directory under a
    /// record's name, a socket) is left alone.
    pub(crate) fn is_file(&self) -> bool {
        self.kind.is_file()
    }
}

/// The entries of `dir`, streamed: the listing holds one directory handle, however
/// many entries there are.
pub(crate) fn list(dir: &Path) -> Result<impl Iterator<Item = Result<Listed>> + '_> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => Some(entries),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(file_error("list", dir, e)),
    };
    Ok(entries.into_iter().flatten().map(move |entry| {
        let entry = entry.map_err(|e| file_error("list", dir, e))?;
        let path = entry.path();
        // Usually from the listing itself, without a stat.
        let kind = entry
            .file_type()
            .map_err(|e| file_error("stat", &path, e))?;
        Ok(Listed {
            name: entry.file_name(),
            path,
            kind,
        })
    }))
}
