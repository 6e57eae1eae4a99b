//! The headless CLI: the same binary without a window, for admins, scripts and
//! tests. Its subcommands, flags, `--json` names and exit codes are a contract
//! (see README): extend it compatibly, never change it.

mod customers;
mod outbox;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use outpost_core::Store;

use crate::error::IpcError;
use output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "outpost",
    version,
    about = "Offline-first CRM client. With no subcommand, opens the window."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The local database file (default: the platform's app data directory).
    #[arg(long, global = true, env = outpost_core::paths::DB_ENV, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Machine-readable output on stdout (errors as JSON on stderr).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, search and show customers.
    #[command(subcommand)]
    Customers(customers::CustomersCommand),
    /// Inspect the outbox of changes waiting for the CRM.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// Outbox counts and the CRM connection state.
    Status,
}

pub fn run(global: &GlobalArgs, command: Command) -> ExitCode {
    let out = Output { json: global.json };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.fail(&IpcError::from_other(format!("cannot start: {e}"))),
    };
    let result = runtime.block_on(async {
        let path = global
            .db
            .clone()
            .unwrap_or_else(outpost_core::paths::default_db_path);
        let store = Store::open(&path).await?;
        let result = match command {
            Command::Customers(cmd) => customers::run(&store, cmd, &out).await,
            Command::Outbox(cmd) => outbox::run(&store, cmd, &out).await,
            Command::Status => outbox::status(&store, &out).await,
        };
        store.close().await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out.fail(&e),
    }
}
