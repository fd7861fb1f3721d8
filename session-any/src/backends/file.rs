//! `file:///dir` and `shelf:///path/file`: the embedded file stores. session-file reads
//! the URLs ([`FileOptions`]).

use std::sync::Arc;

use session_core::SessionStore;
use session_file::{FileOptions, FileStore, ShelfStore};

use crate::url::Backend;

/// `file:///dir[?durable=BOOL&max_record_size=SIZE|none]`: one file per session.
pub(crate) static FILE: Backend = Backend {
    params: FileOptions::URL_PARAMS,
    lazy: None,
    check: |url| FileOptions::from_url(url.as_str()).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let options = FileOptions::from_url(url.as_str())?;
            let options = options
                .clone()
                .with_settings(ctx.clocked(options.settings()));
            Ok(Arc::new(FileStore::open_with(options).await?) as Arc<dyn SessionStore>)
        })
    },
};

/// `shelf:///path/file[?durable=BOOL&max_record_size=SIZE|none]`: every session in
/// one redb file.
pub(crate) static SHELF: Backend = Backend {
    params: FileOptions::URL_PARAMS,
    lazy: None,
    check: |url| FileOptions::from_shelf_url(url.as_str()).map(drop),
    open: |url, ctx| {
        Box::pin(async move {
            let options = FileOptions::from_shelf_url(url.as_str())?;
            let options = options
                .clone()
                .with_settings(ctx.clocked(options.settings()));
            Ok(Arc::new(ShelfStore::open_with(options).await?) as Arc<dyn SessionStore>)
        })
    },
};
