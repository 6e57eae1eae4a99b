//! `outpost admin set-passphrase` and the gate in front of settings commands:
//! once a passphrase is set, they need it (from `OUTPOST_ADMIN_PASSPHRASE`
//! for scripts, else a prompt on the terminal; never from argv).

use clap::Subcommand;
use outpost_core::admin::{self, AdminError};
use outpost_core::{Sensitive, Store};

use super::output::Output;
use crate::error::IpcError;

pub const PASSPHRASE_ENV: &str = "OUTPOST_ADMIN_PASSPHRASE";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set the admin passphrase (the current one is needed to change it).
    /// The new one comes from OUTPOST_ADMIN_NEW_PASSPHRASE or a prompt.
    SetPassphrase,
}

pub async fn run(store: &Store, command: AdminCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        AdminCommand::SetPassphrase => {
            let current = if admin::is_set(store).await? {
                Some(passphrase(PASSPHRASE_ENV, "Current admin passphrase: ")?)
            } else {
                None
            };
            let new = passphrase("OUTPOST_ADMIN_NEW_PASSPHRASE", "New admin passphrase: ")?;
            admin::set_passphrase(store, current.as_ref(), &new)
                .await
                .map_err(admin_error)?;
            #[derive(serde::Serialize)]
            struct Done {
                passphrase_set: bool,
            }
            out.print(
                &Done {
                    passphrase_set: true,
                },
                || "admin passphrase set".into(),
            );
        }
    }
    Ok(())
}

/// Passes when no passphrase is set yet, or the given one is right.
pub async fn require(store: &Store) -> Result<(), IpcError> {
    if !admin::is_set(store).await? {
        return Ok(());
    }
    let given = passphrase(PASSPHRASE_ENV, "Admin passphrase: ")?;
    admin::verify(store, &given).await.map_err(admin_error)
}

fn passphrase(env: &str, prompt: &str) -> Result<Sensitive<String>, IpcError> {
    if let Ok(v) = std::env::var(env) {
        return Ok(Sensitive::new(v));
    }
    rpassword::prompt_password(prompt)
        .map(Sensitive::new)
        .map_err(|_| {
            IpcError::forbidden(format!(
                "the admin passphrase is required: set {env} or run in a terminal"
            ))
        })
}

fn admin_error(e: AdminError) -> IpcError {
    match e {
        AdminError::Weak => IpcError::invalid_input("passphrase", e.to_string()),
        other => IpcError::forbidden(other.to_string()),
    }
}
