//! How a [`FileStore`](crate::FileStore) or [`ShelfStore`](crate::ShelfStore) is
//! configured: in code or from a `file://` / `shelf://` URL.

use std::path::{Path, PathBuf};

use session_core::params::{url_query, Params};
use session_core::{redact_url, Error, Result, StoreSettings};

/// Where a file store lives and how it writes: the path, whether writes wait for the
/// disk, and the [`StoreSettings`] (codec, record size limit, clock).
///
/// ```
/// use session_file::FileOptions;
///
/// let options = FileOptions::from_url("file:///var/lib/app/sessions?durable=no&max_record_size=64KiB")?;
/// assert_eq!(options.path(), std::path::Path::new("/var/lib/app/sessions"));
/// assert!(!options.durable());
/// assert_eq!(options.settings().max_record_size(), Some(64 * 1024));
///
/// let typo = FileOptions::from_url("file:///var/lib/app/sessions?durabel=no").unwrap_err();
/// assert!(typo.to_string().contains("`durabel`; known: durable, max_record_size"));
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileOptions {
    path: PathBuf,
    durable: bool,
    settings: StoreSettings,
}

impl FileOptions {
    /// The query parameters `file://` and `shelf://` URLs take: `durable` (a boolean,
    /// default true) and `max_record_size` (a size, or `none`).
    pub const URL_PARAMS: &'static [&'static str] = &["durable", "max_record_size"];

    /// Options for the store at `path`: durable writes, [`StoreSettings::new`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileOptions {
            path: path.into(),
            durable: true,
            settings: StoreSettings::new(),
        }
    }

    /// Reads `file:///dir[?durable=BOOL&max_record_size=SIZE|none]` (a directory for
    /// [`FileStore`](crate::FileStore)), in the shared grammar of
    /// [`session_core::params`]. A host, a relative path, an unknown or repeated
    /// parameter or a bad value is an [`Error::Config`] naming it.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::parse(url, "file")
    }

    /// Reads `shelf:///path/file[?durable=BOOL&max_record_size=SIZE|none]` (the redb
    /// file of a [`ShelfStore`](crate::ShelfStore)), as [`FileOptions::from_url`] does.
    pub fn from_shelf_url(url: &str) -> Result<Self> {
        Self::parse(url, "shelf")
    }

    fn parse(text: &str, scheme: &str) -> Result<Self> {
        let url = url::Url::parse(text).map_err(|e| {
            Error::Config(format!(
                "session store URL {:?} does not parse: {e}",
                redact_url(text)
            ))
        })?;
        if url.scheme() != scheme {
            return Err(Error::Config(format!(
                "a {scheme} store URL starts with {scheme}://, got {:?}",
                redact_url(text)
            )));
        }
        let params = Params::new(
            scheme,
            Self::URL_PARAMS,
            url::form_urlencoded::parse(url_query(text).as_bytes()),
        )?;
        let mut options = FileOptions::new(path_of(&url, scheme)?);
        if let Some(durable) = params.bool("durable")? {
            options.durable = durable;
        }
        if let Some(limit) = params.limit("max_record_size")? {
            options.settings = options.settings.with_max_record_size(limit);
        }
        Ok(options)
    }

    /// Whether writes wait for the disk (see [`FileStore::durable`](crate::FileStore::durable)).
    pub fn with_durable(mut self, yes: bool) -> Self {
        self.durable = yes;
        self
    }

    /// The codec, record size limit and clock the store takes.
    pub fn with_settings(mut self, settings: StoreSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The directory (`file://`) or redb file (`shelf://`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether writes wait for the disk.
    pub fn durable(&self) -> bool {
        self.durable
    }

    /// The codec, record size limit and clock.
    pub fn settings(&self) -> &StoreSettings {
        &self.settings
    }
}

/// The absolute path a `file://` or `shelf://` URL names.
fn path_of(url: &url::Url, scheme: &str) -> Result<PathBuf> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_and_values() {
        let o = FileOptions::from_url("file:///tmp/s").unwrap();
        assert!(o.durable());
        assert_eq!(
            o.settings().max_record_size(),
            Some(session_core::DEFAULT_MAX_RECORD_SIZE)
        );
        let o = FileOptions::from_shelf_url("shelf:///tmp/s.redb?max_record_size=none").unwrap();
        assert_eq!(o.path(), Path::new("/tmp/s.redb"));
        assert_eq!(o.settings().max_record_size(), None);
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for bad in [
            "file://host/tmp/s",
            "file:///",
            "file:///tmp/s?durable=maybe",
            "file:///tmp/s?bogus=1",
            "shelf:///tmp/s",
        ] {
            assert!(
                matches!(FileOptions::from_url(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
        assert!(FileOptions::from_shelf_url("file:///tmp/s").is_err());
    }
}
