//! `outpost endpoints add|list`: configure the CRMs. Secrets are read from
//! stdin (never argv, which other users can see) and kept in the OS keyring.

use std::io::Read;
use std::sync::Arc;

use clap::{Args, Subcommand};
use outpost_core::sync::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::secrets::{SecretKind, SecretStore};
use outpost_core::{Sensitive, Store};

use super::output::Output;
use crate::error::IpcError;

#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// Add (or replace) a CRM endpoint.
    Add(Box<AddArgs>),
    /// List the configured endpoints, primary first.
    List,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[arg(long)]
    name: String,
    /// generic-rest, hubspot or bottlecrm.
    #[arg(long, value_parser = parse_kind)]
    kind: EndpointKind,
    #[arg(long)]
    url: String,
    /// Read the API / private-app token from standard input.
    #[arg(long)]
    token_stdin: bool,
    #[arg(long, value_parser = parse_connectivity, default_value = "online-offline")]
    connectivity: Connectivity,
    /// Lower is preferred; the lowest is the primary endpoint.
    #[arg(long, default_value_t = 100)]
    priority: i64,
    #[arg(long)]
    batch_size: Option<u32>,
    /// Requests per 10 s (or per --rate-window-secs).
    #[arg(long)]
    rate_limit: Option<u32>,
    #[arg(long)]
    rate_window_secs: Option<u32>,
    /// The CRM property that holds Outpost's key (HubSpot: a unique property).
    #[arg(long)]
    key_property: Option<String>,
}

fn parse_kind(s: &str) -> Result<EndpointKind, String> {
    EndpointKind::parse(s).ok_or_else(|| "expected generic-rest, hubspot or bottlecrm".into())
}

fn parse_connectivity(s: &str) -> Result<Connectivity, String> {
    Connectivity::parse(s).ok_or_else(|| "expected online-offline or online-only".into())
}

pub async fn run(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    command: EndpointsCommand,
    out: &Output,
) -> Result<(), IpcError> {
    match command {
        EndpointsCommand::Add(args) => {
            let config = EndpointConfig {
                name: args.name.trim().to_owned(),
                kind: args.kind,
                base_url: args.url.trim().to_owned(),
                connectivity: args.connectivity,
                priority: args.priority,
                settings: EndpointSettings {
                    auth: AuthMethod::Token,
                    batch_size: args.batch_size,
                    rate_limit: args.rate_limit,
                    rate_window_secs: args.rate_window_secs,
                    key_property: args.key_property,
                    ..Default::default()
                },
            };
            config.validate().map_err(outpost_core::Error::Validation)?;
            if args.token_stdin {
                let token = read_secret_from_stdin()?;
                secrets
                    .set(&config.name, SecretKind::Token, &token)
                    .await
                    .map_err(|e| IpcError::from_other(e.to_string()))?;
            }
            store.save_endpoint(&config).await?;
            out.print(&config, || format!("endpoint {} saved", config.name));
        }
        EndpointsCommand::List => {
            let endpoints = store.endpoints().await?;
            out.print(&endpoints, || {
                endpoints
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {}  {}  {}  priority={}",
                            e.name,
                            e.kind.as_str(),
                            e.base_url,
                            e.connectivity.as_str(),
                            e.priority
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

fn read_secret_from_stdin() -> Result<Sensitive<String>, IpcError> {
    let mut raw = String::new();
    std::io::stdin()
        .take(16 * 1024)
        .read_to_string(&mut raw)
        .map_err(|e| {
            IpcError::invalid_input("token", format!("could not read it from stdin: {e}"))
        })?;
    let token = raw.trim();
    if token.is_empty() {
        return Err(IpcError::invalid_input(
            "token",
            "The token read from stdin is empty.",
        ));
    }
    if token.chars().any(char::is_control) || token.len() > 4096 {
        return Err(IpcError::invalid_input(
            "token",
            "The token must be one line of at most 4096 characters.",
        ));
    }
    Ok(Sensitive::new(token.to_owned()))
}
