//! `file:///dir` and `shelf:///path/file`: the embedded file stores.

use std::path::PathBuf;

use session_core::{Error, Result};
use session_file::{FileStore, ShelfStore};
use url::Url;

use crate::url::{query, query_usize, OpenContext};

/// The absolute path a `file://` or `shelf://` URL names.
fn path_of(url: &Url) -> Result<PathBuf> {
    if url
        .host_str()
        .is_some_and(|h| !h.is_empty() && h != "localhost")
    {
        return Err(Error::Config(format!(
            "`{}://` takes an absolute path (three slashes: {}:///var/lib/app/sessions), not a host",
            url.scheme(),
            url.scheme()
        )));
    }
    // `to_file_path` decodes percent-escapes and rejects relative or odd paths; it
    // reads only host and path, so it serves `shelf://` as well.
    let path = url.to_file_path().map_err(|()| {
        Error::Config(format!(
            "`{}://` URL does not name an absolute path",
            url.scheme()
        ))
    })?;
    if path.as_os_str().len() <= 1 {
        return Err(Error::Config(format!("`{}://` needs a path", url.scheme())));
    }
    Ok(path)
}

fn durable(url: &Url) -> Result<bool> {
    match query(url, "durable").as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(Error::Config(format!(
            "durable must be true or false, got {other:?}"
        ))),
    }
}

/// `file:///dir[?durable=false&max_record_size=N]`: one file per session under `dir`.
pub(crate) async fn file(url: &Url, ctx: OpenContext) -> Result<FileStore> {
    let mut store = FileStore::open(path_of(url)?)
        .await?
        .with_clock(ctx.clock)
        .durable(durable(url)?);
    if let Some(limit) = query_usize(url, "max_record_size")? {
        store = store.with_max_record_size(limit);
    }
    Ok(store)
}

/// `shelf:///path/file[?durable=false&max_record_size=N]`: every session in one file.
pub(crate) async fn shelf(url: &Url, ctx: OpenContext) -> Result<ShelfStore> {
    let mut store = ShelfStore::open(path_of(url)?)
        .await?
        .with_clock(ctx.clock)
        .durable(durable(url)?);
    if let Some(limit) = query_usize(url, "max_record_size")? {
        store = store.with_max_record_size(limit);
    }
    Ok(store)
}
