//! `session-admin`: gc, stats, inspect, delete, purge, migrate and the user commands for every session
//! backend, by the same URLs `session-any` takes. See the crate's README.

mod cli;
mod commands;
mod exit;
mod id;
mod pages;
mod progress;
mod report;
mod target;
mod time;
mod users;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use serde_json::json;

use cli::{Cli, Command};
use exit::{AdminError, AdminResult};
use report::Report;
use target::Target;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(url) = cli.url.clone() else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "the store URL is required: --url <URL> or the SESSION_URL environment variable",
            )
            .exit()
    };
    let result = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(&cli, &url)),
        Err(e) => Err(AdminError::Output(e)),
    };
    let outcome = result.and_then(|report| Ok(report.print(cli.json, cli.quiet)?));
    match outcome {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            let code = err.exit_code();
            let message = explain(&err);
            eprintln!("session-admin: {message}");
            if cli.json {
                println!("{}", json!({"error": message, "exit_code": code}));
            }
            ExitCode::from(code)
        }
    }
}

async fn run(cli: &Cli, url: &str) -> AdminResult<Report> {
    let cache = cli.cache_url.as_deref().filter(|c| !c.trim().is_empty());
    let target = Target::new(url, cache, &cli.cookie_name)?;
    let page_size = cli.page_size as usize;
    let mut report = match &cli.command {
        Command::Gc { dry_run } => commands::gc::run(&target, page_size, *dry_run, cli.quiet).await,
        Command::Stats => commands::stats::run(&target, page_size, cli.quiet).await,
        Command::Inspect { id } => commands::inspect::run(&target, id, &cli.cookie_name).await,
        Command::Delete { id } => commands::delete::run(&target, id, &cli.cookie_name).await,
        Command::Purge { yes } => commands::purge::run(&target, page_size, *yes, cli.quiet).await,
        Command::Migrate => commands::migrate::run(&target).await,
        Command::UserSessions { user } => {
            commands::user_sessions::run(&target, user, page_size).await
        }
        Command::RevokeUser { user, except } => {
            commands::revoke_user::run(&target, user, except.as_deref()).await
        }
        Command::RevokeSession { user, storage_key } => {
            commands::revoke_session::run(&target, user, storage_key).await
        }
    }?;
    // Which cache the command went through, in every command's object (not in
    // `inspect`'s, which is the record itself).
    if let (Some(shown), Some(object)) = (target.cache_shown(), report.json.as_object_mut()) {
        if object.contains_key("command") {
            object.insert("cache".into(), shown.into());
        }
    }
    let ends_sessions = matches!(
        cli.command,
        Command::Delete { .. }
            | Command::Purge { .. }
            | Command::RevokeUser { .. }
            | Command::RevokeSession { .. }
    );
    if ends_sessions && target.cache_is_deaf() && !cli.quiet {
        eprintln!(
            "session-admin: note: the cache is local:// without a bus (bus=none), so only \
             this process's memory was invalidated; the app's instances were not told and \
             may serve those sessions from their memory until the cache's ttl has passed"
        );
    }
    Ok(report)
}

/// The error's message, with a pointer to `migrate` where the SQL table is missing.
fn explain(err: &AdminError) -> String {
    let message = err.to_string();
    if message.contains("the session table is missing") {
        format!("{message}; create it with `session-admin migrate`")
    } else if message.contains("unable to open database file") {
        format!("{message} (is the path right? `session-admin migrate` creates the database)")
    } else {
        message
    }
}
