//! `outpost conflicts list` and `outpost conflicts resolve`.

use clap::{Subcommand, ValueEnum};
use outpost_core::store::Resolution;
use outpost_core::Outpost;

use super::output::Output;
use crate::error::IpcError;

#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    /// Fields whose edit met a different value in the CRM.
    List,
    /// Settle one field: send ours ("mine") or keep the CRM's ("crm").
    Resolve {
        /// The customer's key.
        key: String,
        /// The field, by its JSON name (e.g. phone) or a CRM form field's name.
        #[arg(long)]
        field: String,
        #[arg(long = "use", value_enum)]
        choice: Choice,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Choice {
    Mine,
    Crm,
}

fn shown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(empty)")
}

pub async fn run(app: &Outpost, command: ConflictsCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        ConflictsCommand::List => {
            let conflicts = app.conflicts().await?;
            out.print(&conflicts, || {
                conflicts
                    .iter()
                    .map(|c| {
                        format!(
                            "{}  {}  ours={}  crm={}  base={}  at={}",
                            c.customer_id,
                            c.field,
                            shown(&c.ours),
                            shown(&c.theirs),
                            shown(&c.base),
                            c.detected_at.to_rfc3339()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ConflictsCommand::Resolve { key, field, choice } => {
            let choice = match choice {
                Choice::Mine => Resolution::Mine,
                Choice::Crm => Resolution::Crm,
            };
            let customer = app.resolve_conflict(&key, &field, choice).await?;
            out.print(&customer, || match choice {
                Resolution::Mine => format!("{key}: {field} keeps yours; it is queued for the CRM"),
                Resolution::Crm => format!("{key}: {field} keeps the CRM's value"),
            });
        }
    }
    Ok(())
}
