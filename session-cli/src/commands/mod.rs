//! One module per subcommand; each returns a [`Report`](crate::report::Report).

pub mod delete;
pub mod gc;
pub mod inspect;
pub mod migrate;
pub mod purge;
pub mod revoke_session;
pub mod revoke_user;
pub mod stats;
pub mod user_sessions;
