//! `file:///dir` and `shelf:///path/file`: the embedded file stores.

use std::path::PathBuf;
use std::sync::Arc;

use session_core::{Error, Result, SessionStore};
use session_file::{FileStore, ShelfStore};

use crate::url::{Backend, StoreUrl};

const PARAMS: &[&str] = &["durable", "max_record_size"];

/// `file:///dir[?durable=BOOL&max_record_size=SIZE|none]`: one file per session.
pub(crate) static FILE: Backend = Backend {
    params: PARAMS,
    check: |url| options(url).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let o = options(&url)?;
            let mut store = FileStore::open(o.path)
                .await?
                .with_clock(ctx.clock)
                .durable(o.durable);
            if let Some(limit) = o.max_record_size {
                store = store.with_max_record_size(limit);
            }
            Ok(Arc::new(store) as Arc<dyn SessionStore>)
        })
    },
};

/// `shelf:///path/file[?durable=BOOL&max_record_size=SIZE|none]`: every session in
/// one redb file.
pub(crate) static SHELF: Backend = Backend {
    params: PARAMS,
    check: |url| options(url).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let o = options(&url)?;
            let mut store = ShelfStore::open(o.path)
                .await?
                .with_clock(ctx.clock)
                .durable(o.durable);
            if let Some(limit) = o.max_record_size {
                store = store.with_max_record_size(limit);
            }
            Ok(Arc::new(store) as Arc<dyn SessionStore>)
        })
    },
};

/// What a `file://` or `shelf://` URL says.
struct Options {
    path: PathBuf,
    durable: bool,
    /// `None`: the store's default; `Some(None)`: no limit.
    max_record_size: Option<Option<usize>>,
}

fn options(url: &StoreUrl) -> Result<Options> {
    let params = url.params();
    Ok(Options {
        path: path_of(url)?,
        durable: params.bool("durable")?.unwrap_or(true),
        max_record_size: params.limit("max_record_size")?,
    })
}

/// The absolute path a `file://` or `shelf://` URL names.
fn path_of(store_url: &StoreUrl) -> Result<PathBuf> {
    let url = store_url.parsed()?;
    let scheme = store_url.scheme().name();
    if url
        .host_str()
        .is_some_and(|h| !h.is_empty() && h != "localhost")
    {
        return Err(Error::Config(format!(
            "`{scheme}://` takes an absolute path (three slashes: {scheme}:///var/lib/app/sessions), not a host"
        )));
    }
    // `to_file_path` decodes percent-escapes and rejects relative or odd paths; it
    // reads only host and path, so it serves `shelf://` as well.
    let path = url
        .to_file_path()
        .map_err(|()| Error::Config(format!("`{scheme}://` URL does not name an absolute path")))?;
    if path.as_os_str().len() <= 1 {
        return Err(Error::Config(format!("`{scheme}://` needs a path")));
    }
    Ok(path)
}
