//! `outpost endpoints ...`: configure the CRMs. Secrets are read from stdin
//! (never argv, which other users can see) and kept in the OS keyring. Once
//! an admin passphrase is set, every command here requires it.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use outpost_core::app::{EndpointView, NewEndpointSecrets};
use outpost_core::endpoint::diagnose::TestOutcome;
use outpost_core::endpoint::mapping::{self, MapEdit};
use outpost_core::endpoint::save::field_name;
use outpost_core::endpoint::secret_input::{
    check_used, not_one_line, words, SecretsInput, MAX_CHARS,
};
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{
    AuthMethod, Connectivity, CrmObject, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::{AppError, Outpost, ValidationErrors};
use serde::Serialize;

use super::admin;
use super::output::Output;
use crate::error::IpcError;

/// An export file (or the secrets beside it) is at most this big.
const MAX_IMPORT_BYTES: u64 = 1 << 20;

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
    /// generic-rest, hubspot, bottlecrm, salesforce, dynamics or zoho.
    #[arg(long, value_parser = parse_kind)]
    kind: EndpointKind,
    /// The CRM's URL. Zoho: the API domain, by default the data centre's
    /// (from --token-url; the token answer's api_domain is followed).
    #[arg(long)]
    url: Option<String>,
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
    #[command(flatten)]
    mapping: MapArgs,
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
    #[command(flatten)]
    mapping: MapArgs,
}

/// The endpoint's field map: `--unmap`s apply first, then `--map`s.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// Map an Outpost field to a CRM field (notes=description), or add a CRM
    /// field to the creation form (+store_id). Repeatable.
    #[arg(long = "map", value_name = "FIELD=CRM_FIELD|+CRM_FIELD")]
    map: Vec<String>,
    /// Drop a mapping (FIELD: back to the connector's default) or a form
    /// extra (+CRM_FIELD). Repeatable.
    #[arg(long = "unmap", value_name = "FIELD|+CRM_FIELD")]
    unmap: Vec<String>,
}

impl MapArgs {
    fn apply(&self, config: &mut EndpointConfig) -> Result<(), IpcError> {
        let unmaps = self.unmap.iter().map(|a| MapEdit::parse_unmap(a));
        let maps = self.map.iter().map(|a| MapEdit::parse_map(a));
        let (edits, errors): (Vec<_>, Vec<_>) = unmaps.chain(maps).partition(Result::is_ok);
        if !errors.is_empty() {
            let errors = errors.into_iter().filter_map(Result::err).collect();
            return Err(outpost_core::Error::Validation(ValidationErrors(errors)).into());
        }
        let edits: Vec<MapEdit> = edits.into_iter().filter_map(Result::ok).collect();
        mapping::apply(config, &edits);
        Ok(())
    }
}

/// How the endpoint signs in, beyond a plain token.
#[derive(Debug, Args)]
pub struct SignIn {
    /// token (default), oauth-client-credentials (generic REST, Salesforce;
    /// Dynamics: its only one) or
    /// oauth-refresh (HubSpot, Salesforce: its default; Zoho: its only one).
    #[arg(long, value_parser = parse_auth)]
    auth: Option<AuthMethod>,
    /// The OAuth client id (not a secret).
    #[arg(long)]
    client_id: Option<String>,
    /// Read the OAuth client secret from standard input.
    #[arg(long, conflicts_with = "token_stdin")]
    client_secret_stdin: bool,
    /// Read secrets as a JSON object from standard input:
    /// {"client_secret": "...", "refresh_token": "..."} (names as `show` lists them).
    #[arg(long, conflicts_with_all = ["token_stdin", "client_secret_stdin"])]
    secrets_stdin: bool,
}

impl SignIn {
    fn apply(&self, s: &mut EndpointSettings) {
        s.auth = self.auth.unwrap_or(s.auth);
        if let Some(id) = &self.client_id {
            s.client_id = Some(id.trim().to_owned());
        }
    }

    /// What stdin carries, if anything.
    fn stdin_secret(&self, token_stdin: bool) -> StdinSecrets {
        if self.secrets_stdin {
            StdinSecrets::Json
        } else if self.client_secret_stdin {
            StdinSecrets::One(SecretKind::ClientSecret)
        } else if token_stdin {
            StdinSecrets::One(SecretKind::Token)
        } else {
            StdinSecrets::None
        }
    }
}

/// The secrets `add` and `set` read from stdin.
#[derive(Debug, Clone, Copy)]
enum StdinSecrets {
    None,
    /// One secret, the whole of stdin (`--token-stdin`, `--client-secret-stdin`).
    One(SecretKind),
    /// A JSON object of secrets (`--secrets-stdin`).
    Json,
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
    /// Generic REST: this shop's number (1-999999), carried in every new
    /// customer's key (a UUIDv8 ending in the six digits).
    #[arg(long)]
    key_shop: Option<u32>,
    /// Keep a working set of the CRM's customers on this device (default on).
    #[arg(long, value_parser = parse_on_off)]
    pull: Option<bool>,
    /// Pull only customers changed in the last N days (1-3650).
    #[arg(long)]
    pull_modified_within_days: Option<u32>,
    /// Pull only customers in this country (region), as the CRM stores it.
    #[arg(long)]
    pull_country: Option<String>,
    /// Pull only customers of this CRM owner (HubSpot owner id, Salesforce user id).
    #[arg(long)]
    pull_owner: Option<String>,
    /// Salesforce: the object customers become, contact (default) or lead.
    #[arg(long, value_parser = parse_object)]
    object: Option<CrmObject>,
    /// The OAuth token endpoint: Salesforce (default
    /// https://login.salesforce.com/services/oauth2/token) or generic REST
    /// client credentials (default {url}/oauth/token; e.g. Keycloak or
    /// https://login.microsoftonline.com/TENANT/oauth2/v2.0/token) or
    /// Dynamics (required: the tenant's Entra ID token endpoint) or Zoho
    /// (required: the data centre's accounts server, e.g.
    /// https://accounts.zoho.eu/oauth/v2/token).
    #[arg(long)]
    token_url: Option<String>,
    /// Client credentials: the scope to ask the token endpoint for (generic
    /// REST: none by default; Dynamics: {url}/.default by default).
    #[arg(long)]
    scope: Option<String>,
    /// Salesforce: at most this many API requests a day from this device.
    #[arg(long)]
    daily_request_cap: Option<u32>,
    /// Salesforce: save records a duplicate rule matched (on) or refuse them (off, default).
    #[arg(long, value_parser = parse_on_off)]
    allow_duplicates: Option<bool>,
    /// Dynamics: the Web API version, 9.0 to 9.2 (default 9.2); Zoho: 8
    /// (default; 2, 5, 6, 7 accepted).
    #[arg(long)]
    api_version: Option<String>,
    /// Dynamics: run Dataverse's duplicate detection rules on every save
    /// (on) or not (off, default).
    #[arg(long, value_parser = parse_on_off)]
    duplicate_detection: Option<bool>,
    /// Zoho: the module customers become, Contacts (default) or Leads
    /// (kept as the setting crm_object).
    #[arg(long, value_parser = parse_module)]
    module: Option<CrmObject>,
    /// Zoho: at most this many requests in flight (the edition's limit:
    /// Free 5, Standard 10 (default), Professional 15, Enterprise 20, Ultimate 25).
    #[arg(long)]
    concurrency: Option<u32>,
}

impl Tuning {
    fn apply(self, s: &mut EndpointSettings) {
        s.batch_size = self.batch_size.or(s.batch_size);
        s.rate_limit = self.rate_limit.or(s.rate_limit);
        s.rate_window_secs = self.rate_window_secs.or(s.rate_window_secs);
        s.key_property = self.key_property.or(s.key_property.take());
        s.key_shop = self.key_shop.or(s.key_shop);
        s.pull_enabled = self.pull.or(s.pull_enabled);
        s.pull_modified_within_days = self
            .pull_modified_within_days
            .or(s.pull_modified_within_days);
        s.pull_country = self.pull_country.or(s.pull_country.take());
        s.pull_owner = self.pull_owner.or(s.pull_owner.take());
        s.crm_object = self.object.or(s.crm_object);
        s.token_url = self
            .token_url
            .map(|u| u.trim().to_owned())
            .or(s.token_url.take());
        s.scope = self.scope.map(|v| v.trim().to_owned()).or(s.scope.take());
        s.daily_request_cap = self.daily_request_cap.or(s.daily_request_cap);
        s.allow_duplicates = self.allow_duplicates.or(s.allow_duplicates);
        s.api_version = self
            .api_version
            .map(|v| v.trim().to_owned())
            .or(s.api_version.take());
        s.duplicate_detection = self.duplicate_detection.or(s.duplicate_detection);
        s.crm_object = self.module.or(s.crm_object);
        s.concurrency = self.concurrency.or(s.concurrency);
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
    EndpointKind::parse(s).ok_or_else(|| {
        "expected generic-rest, hubspot, bottlecrm, salesforce, dynamics or zoho".into()
    })
}

fn parse_module(s: &str) -> Result<CrmObject, String> {
    use outpost_core::crm::zoho::Module;
    match Module::parse(s) {
        Some(Module::Contacts) => Ok(CrmObject::Contact),
        Some(Module::Leads) => Ok(CrmObject::Lead),
        None => Err("expected Contacts or Leads".into()),
    }
}

fn parse_object(s: &str) -> Result<CrmObject, String> {
    CrmObject::parse(s).ok_or_else(|| "expected contact or lead".into())
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
    /// The effective map (defaults and overrides; `settings.field_map`
    /// holds the overrides only).
    field_map: std::collections::BTreeMap<String, String>,
    form_extra: Vec<String>,
    /// What does not fit the CRM's field list as last fetched, and when.
    map_problems: Vec<String>,
    map_checked_at: Option<String>,
}

impl From<EndpointView> for Shown {
    fn from(v: EndpointView) -> Self {
        let words = |set| if set { "set" } else { "not set" };
        Shown {
            token: words(v.token_set),
            client_secret: words(v.client_secret_set),
            refresh_token: words(v.refresh_token_set),
            field_map: v.mapping.field_map,
            form_extra: v.mapping.form_extra,
            map_problems: v.mapping.problems.into_iter().map(|p| p.message).collect(),
            map_checked_at: v.mapping.checked_at,
            config: v.config,
        }
    }
}

pub async fn run(app: &Outpost, command: EndpointsCommand, out: &Output) -> Result<(), IpcError> {
    admin::require(app).await?;
    match command {
        EndpointsCommand::Add(args) => {
            let args = *args;
            // The kind's first sign-in (a token, or OAuth for Salesforce).
            let mut settings = EndpointSettings {
                auth: args.kind.auth_methods()[0],
                ..Default::default()
            };
            args.sign_in.apply(&mut settings);
            args.tuning.apply(&mut settings);
            let base_url = match args.url.as_deref().map(str::trim) {
                Some(url) => url.to_owned(),
                None => default_url(args.kind, &settings)?,
            };
            let mut config = EndpointConfig {
                name: args.name.trim().to_owned(),
                kind: args.kind,
                base_url,
                connectivity: args.connectivity,
                priority: args.priority,
                settings,
            };
            args.mapping.apply(&mut config)?;
            let stdin_secret = args.sign_in.stdin_secret(args.token_stdin);
            let config = save(app, config, stdin_secret).await?;
            out.print(&config, || format!("endpoint {} saved", config.name));
        }
        EndpointsCommand::Set(args) => {
            let args = *args;
            let mut config = app.endpoint_config(&args.name).await?;
            if let Some(url) = args.url {
                config.base_url = url.trim().to_owned();
            }
            config.connectivity = args.connectivity.unwrap_or(config.connectivity);
            config.priority = args.priority.unwrap_or(config.priority);
            args.sign_in.apply(&mut config.settings);
            args.tuning.apply(&mut config.settings);
            args.mapping.apply(&mut config)?;
            let stdin_secret = args.sign_in.stdin_secret(args.token_stdin);
            let config = save(app, config, stdin_secret).await?;
            out.print(&config, || format!("endpoint {} saved", config.name));
        }
        EndpointsCommand::List => {
            let endpoints = app.endpoints().await?;
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
            let shown = Shown::from(app.endpoint(&name).await?);
            out.print(&shown, || {
                serde_json::to_string_pretty(&shown).expect("serializes")
            });
        }
        EndpointsCommand::Test { name } => {
            let result = app.test_saved_endpoint(&name).await?;
            out.print(&result, || result.message.clone());
            if !result.map_problems.is_empty() {
                // The stored map does not fit the CRM: a field error, like saving it would be.
                let errors = result.map_problems.iter().map(|p| p.to_field_error());
                return Err(AppError::from(ValidationErrors(errors.collect())).into());
            }
            if result.outcome != TestOutcome::Ok {
                return Err(AppError::TestFailed(result).into());
            }
        }
        EndpointsCommand::Remove { name } => {
            app.remove_endpoint(&name).await?;
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
            let export = app.export_endpoints().await?;
            // Always JSON: an export is for machines.
            super::output::emit(&serde_json::to_string_pretty(&export).expect("serializes"));
        }
        EndpointsCommand::Import {
            file,
            secrets_stdin,
        } => {
            let too_big = "larger than 1 MiB";
            let text = if file.as_os_str() == "-" {
                if secrets_stdin {
                    return Err(AppError::invalid_input(
                        "file",
                        "stdin cannot carry both the file and the secrets",
                    )
                    .into());
                }
                read_stdin(MAX_IMPORT_BYTES, "file", too_big)?
            } else {
                std::fs::read_to_string(&file).map_err(|e| {
                    AppError::invalid_input("file", format!("cannot read {}: {e}", file.display()))
                })?
            };
            let secrets = if secrets_stdin {
                Some(read_stdin(MAX_IMPORT_BYTES, "secrets", too_big)?)
            } else {
                None
            };
            let imported = app.import_endpoints(&text, secrets.as_deref()).await?;
            out.print(&imported, || {
                format!("{} endpoint(s) imported", imported.len())
            });
        }
    }
    Ok(())
}

/// The URL when `--url` is not given: Zoho's is the data centre's API
/// domain (from the token URL); every other kind needs one.
fn default_url(kind: EndpointKind, s: &EndpointSettings) -> Result<String, AppError> {
    let derived = (kind == EndpointKind::Zoho)
        .then_some(s.token_url.as_deref())
        .flatten()
        .and_then(outpost_core::crm::zoho::default_api_domain_of);
    derived.ok_or_else(|| {
        let words = if kind == EndpointKind::Zoho {
            "Zoho needs --url API_DOMAIN when --token-url is not one of Zoho's accounts servers"
        } else {
            "--url is required"
        };
        AppError::invalid_input("url", words)
    })
}

/// Saves the settings with the secret read from stdin, if the flags say
/// one comes. A secret the sign-in does not use is refused before stdin is
/// read (a terminal would wait for it).
async fn save(
    app: &Outpost,
    config: EndpointConfig,
    stdin_secret: StdinSecrets,
) -> Result<EndpointConfig, IpcError> {
    let secrets = match stdin_secret {
        StdinSecrets::One(kind) => {
            check_used(config.settings.auth, kind).map_err(AppError::InvalidInput)?;
            SecretsInput::one(kind, read_secret_from_stdin(kind)?)
        }
        // Each secret is checked against the sign-in by `save_endpoint`,
        // before anything is saved.
        StdinSecrets::Json => {
            let text = read_stdin(MAX_IMPORT_BYTES, "secrets", "larger than 1 MiB")?;
            SecretsInput::from_json(&text).map_err(AppError::InvalidInput)?
        }
        StdinSecrets::None => SecretsInput::default(),
    };
    let saved = app
        .save_endpoint(config, secrets, None, NewEndpointSecrets::Later)
        .await?;
    if let Some(note) = saved.map_note {
        eprintln!("note: {note}");
    }
    Ok(saved.config)
}

/// At most `limit` bytes; more is refused, never cut short.
fn read_stdin(limit: u64, field: &str, too_long: &str) -> Result<String, AppError> {
    let mut raw = String::new();
    std::io::stdin()
        .take(limit + 1)
        .read_to_string(&mut raw)
        .map_err(|e| AppError::invalid_input(field, format!("could not read it: {e}")))?;
    if raw.len() as u64 > limit {
        return Err(AppError::invalid_input(field, too_long));
    }
    Ok(raw)
}

/// The secret itself is checked by the core's one rule; here only that
/// stdin carried one at all.
fn read_secret_from_stdin(kind: SecretKind) -> Result<String, AppError> {
    let field = field_name(kind);
    // Room for the longest secret in 4-byte characters, and a line break.
    let limit = 4 * MAX_CHARS as u64 + 2;
    let raw = read_stdin(limit, field, &not_one_line())?;
    if raw.trim().is_empty() {
        return Err(AppError::invalid_input(
            field,
            format!("The {} read from stdin is empty.", words(kind)),
        ));
    }
    Ok(raw)
}
