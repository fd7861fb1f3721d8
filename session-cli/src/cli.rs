//! The command line.

use clap::{Parser, Subcommand};

/// Administer a session store: sweep expired sessions, count them, look one up, end
/// one session or all of them, list or end one user's sessions, create the SQL table. Takes the same URLs as session-any
/// (and the apps that use it).
#[derive(Debug, Parser)]
#[command(name = "session-admin", version, after_help = crate::exit::HELP)]
pub struct Cli {
    /// The store's URL, as session-any takes it: file:///dir, shelf:///path/file,
    /// sqlite:///path/file.db, postgres://user@host/db, mysql://user@host/db,
    /// redis://host:port/db?prefix=…, redis+cluster://h1:p1,h2:p2,
    /// memcache://h1:p1,…, cookie://. SQL URLs take ?session_table=name.
    #[arg(
        short,
        long,
        env = "SESSION_URL",
        global = true,
        hide_env_values = true
    )]
    pub url: Option<String>,

    /// The cache the app puts in front of the store, as session-any takes it
    /// (SESSION_CACHE_URL, `cache` in its configuration): local://?… (in each app
    /// instance's memory, told through a bus) or redis://…, memcache://… (shared). Give
    /// the app's, so that delete, purge, revoke-user and revoke-session invalidate what
    /// the app has cached; without it, an app instance may go on serving a session
    /// deleted here from its cache. An empty value is no cache.
    #[arg(long, env = "SESSION_CACHE_URL", global = true, hide_env_values = true)]
    pub cache_url: Option<String>,

    /// Print one JSON object on stdout (errors too: {"error": …, "exit_code": …}).
    #[arg(long, global = true)]
    pub json: bool,

    /// Print nothing on success and show no progress; errors still go to stderr.
    /// With --json the JSON object is still printed.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Sessions per page when walking the store.
    #[arg(long, global = true, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: u32,

    /// The session cookie's name: signed cookie values and cookie:// values are bound
    /// to it.
    #[arg(
        long,
        global = true,
        env = "SESSION_COOKIE_NAME",
        default_value = "session"
    )]
    pub cookie_name: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Delete expired sessions and print how many went. Stores with native TTLs
    /// (Redis) drop most by themselves; gc removes those the clock calls expired first.
    Gc {
        /// Count the expired sessions, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Count sessions (live, expired, unreadable) and show their size distribution.
    Stats,
    /// Print one session's record as JSON: version, times, data. ID is the
    /// 43-character session id or the signed cookie value (verified with the secrets in
    /// SESSION_SECRET); for cookie:// it is the sealed cookie value. Only a live
    /// session is shown, exactly as the app would load it: an expired session is "not
    /// found" (exit 4) even before gc removes it.
    Inspect {
        /// The session id, signed cookie value, or (cookie://) sealed cookie value.
        // An id is URL-safe base64, so one in 64 starts with `-`: it is a value, not a flag.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Delete one session: the browser holding that cookie is logged out. The user's
    /// other sessions (other browsers and devices) stay valid; `purge` ends every
    /// session. ID as for inspect.
    Delete {
        /// The session id or signed cookie value.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Delete every session (everyone is logged out). Refuses without --yes.
    Purge {
        /// Confirm: really delete every session.
        #[arg(long)]
        yes: bool,
    },
    /// Create the SQL session table and its index if missing (SQL stores only).
    Migrate,
    /// List one user's live sessions (storage key, created, last seen, deadline,
    /// label), on stores with a user index (not memcache://, cookie://). USER is the
    /// app's user id, as it binds sessions with `UserBinding::new`.
    UserSessions {
        /// The app's user id.
        user: String,
    },
    /// End every session of one user (all their browsers and devices) and print how
    /// many went; --except keeps one. Stores with a user index only.
    RevokeUser {
        /// The app's user id.
        user: String,
        /// The storage key (as `user-sessions` lists it) of a session to keep.
        #[arg(long, value_name = "STORAGE_KEY")]
        except: Option<String>,
    },
    /// End one session of a user, by the storage key `user-sessions` lists; a key of
    /// another user's session ends nothing. Stores with a user index only.
    RevokeSession {
        /// The app's user id.
        user: String,
        /// The session's storage key (64 hex digits).
        storage_key: String,
    },
}
