//! `outpost customers add|search|show`.

use clap::{Args, Subcommand};
use outpost_core::app::Reach;
use outpost_core::sync::lookup::RemoteLookup;
use outpost_core::{NewCustomer, Outpost};

use super::field_args::FieldArgs;
use super::output::{customer_details, customer_line, Output};
use crate::error::IpcError;

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Create a customer locally and queue it for the CRM; prints its key.
    Add(Box<AddArgs>),
    /// Search customers on this device (created here or pulled) and, when the
    /// primary CRM answers within 1.5 s, the CRM too (its results are cached).
    Search {
        /// Words or fragments; empty lists the most recent customers.
        #[arg(default_value = "")]
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Search this device only; never ask the CRM.
        #[arg(long)]
        local: bool,
    },
    /// Show one customer by key.
    Show { key: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    fields: FieldArgs,
}

impl From<AddArgs> for NewCustomer {
    fn from(a: AddArgs) -> Self {
        NewCustomer {
            fields: a.fields.0,
            attributes: None,
        }
    }
}

pub async fn run(app: &Outpost, command: CustomersCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        CustomersCommand::Add(args) => {
            let customer = app.create_customer(&(*args).into()).await?;
            out.print(&customer, || customer.id.to_string());
        }
        CustomersCommand::Search {
            query,
            limit,
            local,
        } => {
            let reach = if local { Reach::Local } else { Reach::WithCrm };
            let found = app.lookup(&query, Some(limit), reach).await?;
            if let Some(note) = remote_note(&found.remote) {
                eprintln!("{note}");
            }
            // Each customer as stored, plus where this result came from.
            let rows: Vec<serde_json::Value> = found
                .customers
                .iter()
                .map(|c| {
                    let mut v = serde_json::to_value(c).expect("a customer serializes");
                    let source = if found.from_crm.contains(&c.id) {
                        "crm"
                    } else {
                        "local"
                    };
                    v["source"] = source.into();
                    v
                })
                .collect();
            out.print(&rows, || {
                found
                    .customers
                    .iter()
                    .map(|c| {
                        let line = customer_line(c);
                        if found.from_crm.contains(&c.id) {
                            format!("{line}  (from the CRM)")
                        } else {
                            line
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        CustomersCommand::Show { key } => {
            let customer = app.customer(&key).await?;
            out.print(&customer, || customer_details(&customer));
        }
    }
    Ok(())
}

/// The quiet note shown beside local results when the CRM did not add to them.
fn remote_note(remote: &RemoteLookup) -> Option<String> {
    match remote {
        RemoteLookup::Answered { .. } | RemoteLookup::NotAsked => None,
        RemoteLookup::Offline => Some("offline: local results only".into()),
        RemoteLookup::TimedOut => Some("the CRM is slow: local results only".into()),
        RemoteLookup::Failed { reason } => Some(format!(
            "the CRM could not search ({reason}): local results only"
        )),
    }
}
