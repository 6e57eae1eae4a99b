//! `outpost customers add|edit|search|show|discard|recreate`.

use clap::{Args, Subcommand};
use outpost_core::app::Reach;
use outpost_core::customer::{CustomerEdit, Field};
use outpost_core::sync::lookup::RemoteLookup;
use outpost_core::{AppError, NewCustomer, Outpost};

use super::field_args::{flag, FieldArgs};
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
    /// Change a customer (created here or pulled from the CRM): stored at
    /// once and queued for the CRM as the changed fields only. Prints it.
    Edit(Box<EditArgs>),
    /// Remove a customer deleted in the CRM from this device, giving up its
    /// unsent change.
    Discard { key: String },
    /// Create a customer deleted in the CRM again as a new customer (a new
    /// key, the same fields with the unsent change); the old one is removed.
    /// Prints the new customer.
    Recreate { key: String },
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The customer's key.
    key: String,
    /// The new values; fields not given stay as they are.
    #[command(flatten)]
    fields: FieldArgs,
    /// Empty a field (its JSON name or flag: tax_id, tax-id); repeatable.
    #[arg(long, value_name = "FIELD")]
    clear: Vec<String>,
}

impl EditArgs {
    /// The edit the flags ask for: a field both given and cleared, an
    /// unknown `--clear` name, or no change at all is invalid input.
    fn edit(&self) -> Result<CustomerEdit, AppError> {
        let mut edit = CustomerEdit::default();
        for (field, value) in self.fields.0.iter() {
            edit = edit.set(field, value);
        }
        for name in &self.clear {
            let field = Field::from_name(&name.trim().replace('-', "_")).ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                AppError::invalid_input(
                    "clear",
                    format!(
                        "\"{name}\" is not a customer field (one of {}).",
                        known.join(", ")
                    ),
                )
            })?;
            if edit.fields.contains_key(&field) {
                return Err(AppError::invalid_input(
                    field.name(),
                    format!(
                        "--{} and --clear {} contradict each other.",
                        flag(field),
                        field.name()
                    ),
                ));
            }
            edit = edit.clear(field);
        }
        if edit.is_empty() {
            return Err(AppError::invalid_input(
                "clear",
                "Nothing to change: give a field's new value (e.g. --phone) or --clear FIELD.",
            ));
        }
        Ok(edit)
    }
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
        CustomersCommand::Edit(args) => {
            let customer = app.edit_customer(&args.key, &args.edit()?).await?;
            out.print(&customer, || customer_details(&customer));
        }
        CustomersCommand::Discard { key } => {
            app.discard_deleted(&key).await?;
            out.print(&serde_json::json!({ "discarded": key }), || {
                format!("{key} discarded")
            });
        }
        CustomersCommand::Recreate { key } => {
            let customer = app.recreate_deleted(&key).await?;
            out.print(&customer, || customer_details(&customer));
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
