//! `outpost customers add|search|show`.

use clap::{Args, Subcommand};
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::sync::lookup::{lookup, RemoteLookup, DEADLINE};
use outpost_core::sync::once::{check_can_create_once, cli_remote, use_primary_keys};
use outpost_core::{NewCustomer, Store};
use std::sync::Arc;

use super::field_args::FieldArgs;
use super::output::{customer_details, customer_line, Output};
use crate::commands::{parse_key, search_args};
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

pub async fn run(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    command: CustomersCommand,
    out: &Output,
) -> Result<(), IpcError> {
    match command {
        CustomersCommand::Add(args) => {
            check_can_create_once(store, secrets.clone()).await??;
            use_primary_keys(store).await?;
            let customer = store.create_customer(&(*args).into()).await?;
            out.print(&customer, || customer.id.to_string());
        }
        CustomersCommand::Search {
            query,
            limit,
            local,
        } => {
            let (query, limit) = search_args(query, Some(limit))?;
            let remote = if local {
                None
            } else {
                cli_remote(store, secrets.clone()).await?
            };
            let found = lookup(store, remote, &query, limit, DEADLINE).await?;
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
            let id = parse_key(&key)?;
            let customer = store
                .customer(id)
                .await?
                .ok_or(outpost_core::Error::CustomerNotFound(key))?;
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
