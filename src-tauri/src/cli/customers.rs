//! `outpost customers add|search|show`.

use clap::{Args, Subcommand};
use outpost_core::sync::engine::check_can_create_once;
use outpost_core::sync::secrets::SecretStore;
use outpost_core::{NewCustomer, Store};
use std::sync::Arc;

use super::output::{customer_details, customer_line, Output};
use crate::commands::{parse_key, search_args};
use crate::error::IpcError;

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Create a customer locally and queue it for the CRM; prints its key.
    Add(Box<AddArgs>),
    /// Search local customers (names, company, email, phone, city).
    Search {
        /// Words or fragments; empty lists the most recent customers.
        #[arg(default_value = "")]
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one customer by key.
    Show { key: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    #[arg(long)]
    company: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    street: Option<String>,
    #[arg(long)]
    postal_code: Option<String>,
    #[arg(long)]
    city: Option<String>,
    /// ISO 3166-1 alpha-2 code, e.g. DE.
    #[arg(long)]
    country: Option<String>,
    #[arg(long)]
    tax_id: Option<String>,
    #[arg(long)]
    notes: Option<String>,
}

impl From<AddArgs> for NewCustomer {
    fn from(a: AddArgs) -> Self {
        NewCustomer {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            email: a.email,
            phone: a.phone,
            street: a.street,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
            tax_id: a.tax_id,
            notes: a.notes,
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
            let customer = store.create_customer(&(*args).into()).await?;
            out.print(&customer, || customer.id.to_string());
        }
        CustomersCommand::Search { query, limit } => {
            let (query, limit) = search_args(query, Some(limit))?;
            let found = store.search(&query, limit).await?;
            out.print(&found, || {
                found
                    .iter()
                    .map(customer_line)
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
