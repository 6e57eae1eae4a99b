//! `outpost endpoints ...`: configure the CRMs. Secrets are read from stdin
//! (never argv, which other users can see) and kept in the OS keyring. Once
//! an admin passphrase is set, every command here requires it.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};
use outpost_core::endpoint::save::{self as endpoints, Entered};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::{Sensitive, Store};
use serde::{Deserialize, Serialize};

use super::admin;
use super::output::Output;
use crate::error::IpcError;

const EXPORT_VERSION: u32 = 1;

#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// Add (or replace) a CRM endpoint.
    Add(Box<AddArgs>),
    /// List the configured endpoints, primary first.
    List,
    /// Show one endpoint's settings and which secrets are set.
    Show { name: String },
    /// Change some settings of an endpoint (the others stay).
    Set(Box<SetArgs>),
    /// Probe an endpoint with its stored settings and say what is wrong, if anything.
    Test { name: String },
    /// Remove an endpoint and its secrets.
    Remove { name: String },
    /// Print the non-secret configuration of every endpoint as JSON.
    Export,
    /// Apply an exported configuration (FILE, or - for stdin).
    Import {
        file: PathBuf,
        /// Read secrets as JSON from stdin: {"NAME": {"token": "..."}}.
        #[arg(long)]
        secrets_stdin: bool,
    },
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
    #[arg(long, default_value_t = outpost_core::endpoint::DEFAULT_PRIORITY)]
    priority: i64,
    #[command(flatten)]
    sign_in: SignIn,
    #[command(flatten)]
    tuning: Tuning,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[arg(long)]
    name: String,
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    token_stdin: bool,
    #[arg(long, value_parser = parse_connectivity)]
    connectivity: Option<Connectivity>,
    #[arg(long)]
    priority: Option<i64>,
    #[command(flatten)]
    sign_in: SignIn,
    #[command(flatten)]
    tuning: Tuning,
}

/// How the endpoint signs in, beyond a plain token.
#[derive(Debug, Args)]
pub struct SignIn {
    /// token (default), oauth-client-credentials (generic REST) or oauth-refresh (HubSpot).
    #[arg(long, value_parser = parse_auth)]
    auth: Option<AuthMethod>,
    /// The OAuth client id (not a secret).
    #[arg(long)]
    client_id: Option<String>,
    /// Read the OAuth client secret from standard input.
    #[arg(long, conflicts_with = "token_stdin")]
    client_secret_stdin: bool,
}

impl SignIn {
    fn apply(&self, s: &mut EndpointSettings) {
        s.auth = self.auth.unwrap_or(s.auth);
        if let Some(id) = &self.client_id {
            s.client_id = Some(id.trim().to_owned());
        }
    }

    /// Which secret stdin carries, if any.
    fn stdin_secret(&self, token_stdin: bool) -> Option<SecretKind> {
        if self.client_secret_stdin {
            Some(SecretKind::ClientSecret)
        } else {
            token_stdin.then_some(SecretKind::Token)
        }
    }
}

#[derive(Debug, Args)]
pub struct Tuning {
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
    /// Keep a working set of the CRM's customers on this device (default on).
    #[arg(long, value_parser = parse_on_off)]
    pull: Option<bool>,
    /// Pull only customers changed in the last N days (1-3650).
    #[arg(long)]
    pull_modified_within_days: Option<u32>,
    /// Pull only customers in this country (region), as the CRM stores it.
    #[arg(long)]
    pull_country: Option<String>,
    /// Pull only customers of this CRM owner (HubSpot owner id).
    #[arg(long)]
    pull_owner: Option<String>,
}

impl Tuning {
    fn apply(self, s: &mut EndpointSettings) {
        s.batch_size = self.batch_size.or(s.batch_size);
        s.rate_limit = self.rate_limit.or(s.rate_limit);
        s.rate_window_secs = self.rate_window_secs.or(s.rate_window_secs);
        s.key_property = self.key_property.or(s.key_property.take());
        s.pull_enabled = self.pull.or(s.pull_enabled);
        s.pull_modified_within_days = self
            .pull_modified_within_days
            .or(s.pull_modified_within_days);
        s.pull_country = self.pull_country.or(s.pull_country.take());
        s.pull_owner = self.pull_owner.or(s.pull_owner.take());
    }
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("expected on or off".into()),
    }
}

fn parse_kind(s: &str) -> Result<EndpointKind, String> {
    EndpointKind::parse(s).ok_or_else(|| "expected generic-rest, hubspot or bottlecrm".into())
}

fn parse_auth(s: &str) -> Result<AuthMethod, String> {
    AuthMethod::parse(s)
        .ok_or_else(|| "expected token, oauth-client-credentials or oauth-refresh".into())
}

fn parse_connectivity(s: &str) -> Result<Connectivity, String> {
    Connectivity::parse(s).ok_or_else(|| "expected online-offline or online-only".into())
}

#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    config: EndpointConfig,
    /// "set" / "not set": secrets never leave the keyring.
    token: &'static str,
    client_secret: &'static str,
    refresh_token: &'static str,
}

#[derive(Serialize, Deserialize)]
struct Export {
    version: u32,
    endpoints: Vec<EndpointConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedSecrets {
    token: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

pub async fn run(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    command: EndpointsCommand,
    out: &Output,
) -> Result<(), IpcError> {
    admin::require(store).await?;
    match command {
        EndpointsCommand::Add(args) => {
            let args = *args;
            let mut settings = EndpointSettings {
                auth: AuthMethod::Token,
                ..Default::default()
            };
            args.sign_in.apply(&mut settings);
            args.tuning.apply(&mut settings);
            let config = EndpointConfig {
                name: args.name.trim().to_owned(),
                kind: args.kind,
                base_url: args.url.trim().to_owned(),
                connectivity: args.connectivity,
                priority: args.priority,
                settings,
            };
            let stdin_secret = args.sign_in.stdin_secret(args.token_stdin);
            save(store, secrets, &config, stdin_secret).await?;
            out.print(&config, || format!("endpoint {} saved", config.name));
        }
        EndpointsCommand::Set(args) => {
            let args = *args;
            let mut config = find(store, &args.name).await?;
            if let Some(url) = args.url {
                config.base_url = url.trim().to_owned();
            }
            config.connectivity = args.connectivity.unwrap_or(config.connectivity);
            config.priority = args.priority.unwrap_or(config.priority);
            args.sign_in.apply(&mut config.settings);
            args.tuning.apply(&mut config.settings);
            let stdin_secret = args.sign_in.stdin_secret(args.token_stdin);
            save(store, secrets, &config, stdin_secret).await?;
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
        EndpointsCommand::Show { name } => {
            let config = find(store, &name).await?;
            let set = endpoints::secrets_set(secrets.as_ref(), &name)
                .await
                .map_err(|e| IpcError::from_other(e.to_string()))?;
            let words = |kind| if set[&kind] { "set" } else { "not set" };
            let shown = Shown {
                config,
                token: words(SecretKind::Token),
                client_secret: words(SecretKind::ClientSecret),
                refresh_token: words(SecretKind::RefreshToken),
            };
            out.print(&shown, || {
                serde_json::to_string_pretty(&shown).expect("serializes")
            });
        }
        EndpointsCommand::Test { name } => {
            let config = find(store, &name).await?;
            let result = test_connection(&config, secrets.clone()).await;
            out.print(&result, || result.message.clone());
            if result.outcome != TestOutcome::Ok {
                return Err(IpcError::from_other(result.message));
            }
        }
        EndpointsCommand::Remove { name } => {
            endpoints::remove(store, secrets.as_ref(), &name).await?;
            #[derive(Serialize)]
            struct Removed {
                removed: String,
            }
            out.print(
                &Removed {
                    removed: name.clone(),
                },
                || format!("endpoint {name} removed"),
            );
        }
        EndpointsCommand::Export => {
            let export = Export {
                version: EXPORT_VERSION,
                endpoints: store.endpoints().await?,
            };
            // Always JSON: an export is for machines.
            println!(
                "{}",
                serde_json::to_string_pretty(&export).expect("serializes")
            );
        }
        EndpointsCommand::Import {
            file,
            secrets_stdin,
        } => {
            let text = if file.as_os_str() == "-" {
                if secrets_stdin {
                    return Err(IpcError::invalid_input(
                        "file",
                        "stdin cannot carry both the file and the secrets",
                    ));
                }
                read_stdin(1 << 20)?
            } else {
                std::fs::read_to_string(&file).map_err(|e| {
                    IpcError::invalid_input("file", format!("cannot read {}: {e}", file.display()))
                })?
            };
            let import: Export = serde_json::from_str(&text).map_err(|e| {
                IpcError::invalid_input("file", format!("not an Outpost endpoint export: {e}"))
            })?;
            if import.version != EXPORT_VERSION {
                return Err(IpcError::invalid_input(
                    "version",
                    format!("unsupported export version {}", import.version),
                ));
            }
            // Validate everything before saving anything.
            for c in &import.endpoints {
                c.validate().map_err(outpost_core::Error::Validation)?;
            }
            let provided: HashMap<String, ImportedSecrets> = if secrets_stdin {
                serde_json::from_str(&read_stdin(1 << 20)?).map_err(|e| {
                    IpcError::invalid_input(
                        "secrets",
                        format!("expected {{\"NAME\": {{\"token\": \"...\"}}}}: {e}"),
                    )
                })?
            } else {
                HashMap::new()
            };
            for c in &import.endpoints {
                store.save_endpoint(c).await?;
                if let Some(s) = provided.get(&c.name) {
                    for (kind, value) in [
                        (SecretKind::Token, &s.token),
                        (SecretKind::ClientSecret, &s.client_secret),
                        (SecretKind::RefreshToken, &s.refresh_token),
                    ] {
                        if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                            secrets
                                .set(&c.name, kind, &Sensitive::new(v.trim().to_owned()))
                                .await
                                .map_err(|e| IpcError::from_other(e.to_string()))?;
                        }
                    }
                }
            }
            out.print(&import.endpoints, || {
                format!("{} endpoint(s) imported", import.endpoints.len())
            });
        }
    }
    Ok(())
}

async fn find(store: &Store, name: &str) -> Result<EndpointConfig, IpcError> {
    store
        .endpoint(name)
        .await?
        .ok_or_else(|| IpcError::not_found(format!("no endpoint named {name}")))
}

/// Validates, then stores the secret read from stdin and the settings
/// (the secret first, so a keyring failure saves nothing).
async fn save(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    config: &EndpointConfig,
    stdin_secret: Option<SecretKind>,
) -> Result<(), IpcError> {
    config.validate().map_err(outpost_core::Error::Validation)?;
    let mut entered = Entered::new();
    if let Some(kind) = stdin_secret {
        if !endpoints::secrets_used(config.settings.auth).contains(&kind) {
            return Err(IpcError::invalid_input(
                endpoints::field_name(kind),
                format!(
                    "{} does not use a {}",
                    config.settings.auth.as_str(),
                    endpoints::field_name(kind).replace('_', " ")
                ),
            ));
        }
        entered.insert(kind, read_secret_from_stdin(kind)?);
    }
    endpoints::save(store, secrets.as_ref(), config, &entered, None).await?;
    Ok(())
}

fn read_stdin(limit: u64) -> Result<String, IpcError> {
    let mut raw = String::new();
    std::io::stdin()
        .take(limit)
        .read_to_string(&mut raw)
        .map_err(|e| IpcError::invalid_input("stdin", format!("could not read it: {e}")))?;
    Ok(raw)
}

fn read_secret_from_stdin(kind: SecretKind) -> Result<Sensitive<String>, IpcError> {
    let field = endpoints::field_name(kind);
    let what = match kind {
        SecretKind::Token => "token",
        SecretKind::ClientSecret => "client secret",
        SecretKind::RefreshToken => "refresh token",
    };
    let raw = read_stdin(16 * 1024)?;
    let secret = raw.trim();
    if secret.is_empty() {
        return Err(IpcError::invalid_input(
            field,
            format!("The {what} read from stdin is empty."),
        ));
    }
    if secret.chars().any(char::is_control) || secret.len() > 4096 {
        return Err(IpcError::invalid_input(
            field,
            format!("The {what} must be one line of at most 4096 characters."),
        ));
    }
    Ok(Sensitive::new(secret.to_owned()))
}
