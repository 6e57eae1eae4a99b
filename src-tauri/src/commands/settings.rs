//! The admin settings screen: the passphrase, the endpoint list, "Test
//! connection" and saving. Every endpoint command needs an unlocked session;
//! secrets go into the keyring and only "set" / "not set" comes back.

use std::collections::HashMap;

use outpost_core::admin::{self, AdminError};
use outpost_core::endpoint::diagnose::{test_connection, TestResult};
use outpost_core::endpoint::overlay::OverlaySecrets;
use outpost_core::endpoint::save::{self as endpoints, field_name, missing_message, secrets_used};
use outpost_core::endpoint::secrets::{self, SecretKind};
use outpost_core::endpoint::EndpointConfig;
use outpost_core::sync::monitor::EndpointStatus;
use outpost_core::{FieldError, Sensitive, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::State;
use ts_rs::TS;

use crate::error::IpcError;
use crate::state::AppState;

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct AdminStatus {
    pub passphrase_set: bool,
    pub unlocked: bool,
}

/// Secrets as typed in the form; absent or empty means "keep what is stored".
#[derive(Debug, Default, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
#[ts(export, optional_fields)]
pub struct SecretsInput {
    pub token: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct EndpointView {
    pub config: EndpointConfig,
    pub token_set: bool,
    pub client_secret_set: bool,
    pub refresh_token_set: bool,
    pub status: Option<EndpointStatus>,
}

#[tauri::command]
pub async fn admin_status(state: State<'_, AppState>) -> Result<AdminStatus, IpcError> {
    Ok(AdminStatus {
        passphrase_set: admin::is_set(&state.store).await?,
        unlocked: state.admin.is_unlocked(),
    })
}

/// First run: set the passphrase. Later: change it (the current one is needed).
#[tauri::command]
pub async fn admin_set_passphrase(
    state: State<'_, AppState>,
    current: Option<String>,
    passphrase: String,
) -> Result<AdminStatus, IpcError> {
    let current = current.map(Sensitive::new);
    admin::set_passphrase(&state.store, current.as_ref(), &Sensitive::new(passphrase))
        .await
        .map_err(admin_error)?;
    state.admin.unlock();
    admin_status(state).await
}

#[tauri::command]
pub async fn admin_unlock(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<AdminStatus, IpcError> {
    if passphrase.chars().count() > admin::MAX_LENGTH {
        return Err(IpcError::invalid_input(
            "passphrase",
            "That is longer than any passphrase.",
        ));
    }
    admin::verify(&state.store, &Sensitive::new(passphrase))
        .await
        .map_err(admin_error)?;
    state.admin.unlock();
    admin_status(state).await
}

#[tauri::command]
pub async fn admin_lock(state: State<'_, AppState>) -> Result<AdminStatus, IpcError> {
    state.admin.lock();
    admin_status(state).await
}

#[tauri::command]
pub async fn list_endpoints(state: State<'_, AppState>) -> Result<Vec<EndpointView>, IpcError> {
    // The screen reloads the list on every status change: reading is not
    // admin activity, so an open but unused screen still locks when idle.
    if !state.admin.is_unlocked() {
        return Err(locked());
    }
    let statuses = state.engine.endpoint_statuses().await;
    let mut views = Vec::new();
    for config in state.store.endpoints().await? {
        let is_set = |kind| {
            let secrets = state.secrets.clone();
            let name = config.name.clone();
            async move { matches!(secrets.get(&name, kind).await, Ok(Some(_))) }
        };
        views.push(EndpointView {
            token_set: is_set(SecretKind::Token).await,
            client_secret_set: is_set(SecretKind::ClientSecret).await,
            refresh_token_set: is_set(SecretKind::RefreshToken).await,
            status: statuses.iter().find(|s| s.endpoint == config.name).cloned(),
            config,
        });
    }
    Ok(views)
}

/// Probes with the values as entered, before anything is saved.
#[tauri::command]
pub async fn test_endpoint(
    state: State<'_, AppState>,
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
) -> Result<TestResult, IpcError> {
    require_unlocked(&state)?;
    let (config, entered) = parse_form(config, secrets)?;
    let overlay = Arc::new(OverlaySecrets::new(
        state.secrets.clone(),
        &config.name,
        entered,
    ));
    Ok(test_connection(&config, overlay).await)
}

/// Saves an endpoint; with `previous_name`, renames that one (its secrets
/// and queue follow). The engine restarts it at once, so a paused queue
/// resumes if the new settings work.
#[tauri::command]
pub async fn save_endpoint(
    state: State<'_, AppState>,
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
    previous_name: Option<String>,
) -> Result<EndpointConfig, IpcError> {
    require_unlocked(&state)?;
    let (config, entered) = parse_form(config, secrets)?;
    let is_new = previous_name.is_none() && state.store.endpoint(&config.name).await?.is_none();
    if is_new {
        // The form asks for every secret of a new endpoint; the CLI may add them later.
        let missing: Vec<FieldError> = secrets_used(config.settings.auth)
            .iter()
            .filter(|kind| !entered.contains_key(kind))
            .map(|&kind| FieldError::new(field_name(kind), missing_message(kind)))
            .collect();
        if !missing.is_empty() {
            return Err(outpost_core::Error::Validation(ValidationErrors(missing)).into());
        }
    }
    endpoints::save(
        &state.store,
        state.secrets.as_ref(),
        &config,
        &entered,
        previous_name.as_deref(),
    )
    .await?;
    Ok(config)
}

#[tauri::command]
pub async fn remove_endpoint(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    require_unlocked(&state)?;
    endpoints::remove(&state.store, state.secrets.as_ref(), &name).await?;
    Ok(())
}

/// For admin actions: refused while locked, and each one restarts the idle clock.
fn require_unlocked(state: &AppState) -> Result<(), IpcError> {
    if state.admin.touch() {
        Ok(())
    } else {
        Err(locked())
    }
}

fn locked() -> IpcError {
    IpcError::forbidden("The settings are locked: enter the admin passphrase.")
}

/// Parses and validates the form; every problem is reported against its field.
fn parse_form(
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
) -> Result<(EndpointConfig, HashMap<SecretKind, Sensitive<String>>), IpcError> {
    let config: EndpointConfig = serde_json::from_value(config)?;
    let secrets: SecretsInput = match secrets {
        Some(v) => serde_json::from_value(v)?,
        None => SecretsInput::default(),
    };
    let mut fields = config.validate().err().map(|e| e.0).unwrap_or_default();
    let mut entered = HashMap::new();
    for (name, kind, value) in [
        ("token", SecretKind::Token, secrets.token),
        (
            "client_secret",
            SecretKind::ClientSecret,
            secrets.client_secret,
        ),
        (
            "refresh_token",
            SecretKind::RefreshToken,
            secrets.refresh_token,
        ),
    ] {
        let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
            continue;
        };
        match secrets::check(&v) {
            Err(rule) => fields.push(FieldError::new(name, rule)),
            Ok(()) => {
                entered.insert(kind, Sensitive::new(v));
            }
        }
    }
    if fields.is_empty() {
        Ok((config, entered))
    } else {
        Err(outpost_core::Error::Validation(outpost_core::ValidationErrors(fields)).into())
    }
}

fn admin_error(e: AdminError) -> IpcError {
    match e {
        AdminError::Weak => IpcError::invalid_input("passphrase", e.to_string()),
        other => IpcError::forbidden(other.to_string()),
    }
}
