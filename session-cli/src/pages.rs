//! Walking every page of a store's scan.

use session_core::{ScanCursor, ScanEntry, SessionStore};

use crate::exit::{AdminError, AdminResult};

/// A walk over every record of a store, page by page.
pub struct Pages<'a> {
    store: &'a dyn SessionStore,
    cursor: Option<ScanCursor>,
    done: bool,
    limit: usize,
}

impl<'a> Pages<'a> {
    /// A walk over `store` in pages of about `limit` records. A store that cannot
    /// enumerate is refused here, before the first page.
    pub fn new(store: &'a dyn SessionStore, limit: usize, command: &str) -> AdminResult<Self> {
        if !store.capabilities().enumerate {
            return Err(AdminError::Unsupported(format!(
                "`{command}` needs to list every session, and this store cannot"
            )));
        }
        Ok(Pages {
            store,
            cursor: None,
            done: false,
            limit,
        })
    }

    /// The next page's records, or `None` when the walk is complete.
    pub async fn next(&mut self) -> AdminResult<Option<Vec<ScanEntry>>> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.scan(self.cursor.take(), self.limit).await?;
        match page.next {
            Some(next) => self.cursor = Some(next),
            None => self.done = true,
        }
        Ok(Some(page.entries))
    }
}
