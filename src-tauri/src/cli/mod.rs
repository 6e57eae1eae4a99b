//! The headless CLI: the same binary without a window, for admins, scripts and
//! tests. Its subcommands, flags, `--json` names and exit codes are a contract
//! (see README): extend it compatibly, never change it.

mod admin;
mod conflicts;
mod customers;
mod endpoints;
mod field_args;
mod outbox;
mod output;
mod pull;
mod settings;
mod sync;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use outpost_core::endpoint::secrets::KeyringSecrets;
use outpost_core::{Outpost, Store};

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
    /// Edits that met a different value in the CRM: list and settle them.
    #[command(subcommand)]
    Conflicts(conflicts::ConflictsCommand),
    /// Configure the CRM endpoints customers are delivered to.
    #[command(subcommand)]
    Endpoints(endpoints::EndpointsCommand),
    /// Protect the settings with an admin passphrase.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// This device's settings, e.g. the default region for phone numbers.
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Bring the working set (the CRM's customers kept on this device) up to
    /// date once, then exit.
    Pull {
        /// The endpoint to pull from; the primary one when absent.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Deliver queued customers to the CRM.
    Sync(SyncArgs),
}

/// `sync` runs one of two ways.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SyncArgs {
    /// Flush what is due once, wait for the outcome, and exit.
    #[arg(long)]
    pub once: bool,
    /// Run headless (monitor, delivery, working-set pull) until SIGTERM or
    /// Ctrl-C, e.g. as a systemd user service; `--json`: one line per change.
    #[arg(long)]
    pub watch: bool,
}

impl Command {
    /// Runs until stopped and logs its life (`sync --watch`).
    pub fn is_service(&self) -> bool {
        matches!(self, Command::Sync(SyncArgs { watch: true, .. }))
    }
}

pub fn run(global: &GlobalArgs, command: Command) -> ExitCode {
    let out = Output { json: global.json };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.fail(&IpcError::cannot_start(e)),
    };
    let result = runtime.block_on(async {
        // The service catches its stop signals before anything else: a
        // SIGTERM while it opens the database or starts the engine still
        // stops it cleanly (exit 0), not by the signal's default action.
        let stop = command.is_service().then(watch::stop_requested);
        let path = global
            .db
            .clone()
            .unwrap_or_else(outpost_core::paths::default_db_path);
        let store = Store::open(&path).await?;
        if let Some(stop) = stop {
            return watch::run(store, stop, &out).await;
        }
        let app = Outpost::one_shot(store, Arc::new(KeyringSecrets::default()));
        let result = match command {
            Command::Customers(cmd) => customers::run(&app, cmd, &out).await,
            Command::Outbox(cmd) => outbox::run(&app, cmd, &out).await,
            Command::Status => outbox::status(&app, &out).await,
            Command::Conflicts(cmd) => conflicts::run(&app, cmd, &out).await,
            Command::Endpoints(cmd) => endpoints::run(&app, cmd, &out).await,
            Command::Admin(cmd) => admin::run(&app, cmd, &out).await,
            Command::Settings(cmd) => settings::run(&app, cmd, &out).await,
            Command::Sync(_) => sync::once(&app, &out).await,
            Command::Pull { endpoint } => pull::run(&app, endpoint, &out).await,
        };
        app.close().await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => out.fail(&e),
    }
}
