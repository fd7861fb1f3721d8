//! One module per subcommand; each returns a [`Report`](crate::report::Report).

pub mod delete;
pub mod gc;
pub mod inspect;
pub mod migrate;
pub mod purge;
pub mod stats;
