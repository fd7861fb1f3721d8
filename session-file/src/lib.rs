#![doc = include_str!("../README.md")]

// flock, Unix file modes, directory fsync and rename-over semantics are what make the
// stores safe; say so at build time rather than fail subtly elsewhere.
#[cfg(not(unix))]
compile_error!("session-file supports Unix-like systems only");

mod atomic;
mod error;
mod file_store;
mod layout;
mod listing;
mod lock;
mod markers;
mod options;
mod scan;
mod shelf_store;
mod sweep;
mod users;

pub use file_store::{FileStore, DEFAULT_TEMP_GRACE};
pub use options::FileOptions;
pub use shelf_store::ShelfStore;
