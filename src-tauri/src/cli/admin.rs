//! `outpost admin set-passphrase` and the gate in front of settings commands:
//! once a passphrase is set, they need it (from `OUTPOST_ADMIN_PASSPHRASE`
//! for scripts, else a prompt on the terminal; never from argv).

use clap::Subcommand;
use outpost_core::{Outpost, Sensitive};

use super::output::Output;
use crate::error::IpcError;

pub const PASSPHRASE_ENV: &str = "OUTPOST_ADMIN_PASSPHRASE";

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set the admin passphrase (the current one is needed to change it).
    /// The new one comes from OUTPOST_ADMIN_NEW_PASSPHRASE or a prompt.
    SetPassphrase,
}

pub async fn run(app: &Outpost, command: AdminCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        AdminCommand::SetPassphrase => {
            let current = if app.admin_status().await?.passphrase_set {
                Some(passphrase(PASSPHRASE_ENV, "Current admin passphrase: ")?)
            } else {
                None
            };
            let new = passphrase("OUTPOST_ADMIN_NEW_PASSPHRASE", "New admin passphrase: ")?;
            app.set_passphrase(current.as_ref(), &new).await?;
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

/// Unlocks the settings for this run: at once when no passphrase is set
/// yet, else with the passphrase.
pub async fn require(app: &Outpost) -> Result<(), IpcError> {
    let given = if app.admin_status().await?.passphrase_set {
        Some(passphrase(PASSPHRASE_ENV, "Admin passphrase: ")?)
    } else {
        None
    };
    app.unlock(given.as_ref()).await?;
    Ok(())
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
