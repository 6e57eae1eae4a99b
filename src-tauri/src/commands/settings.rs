//! The admin settings screen: the passphrase, the endpoint list, "Test
//! connection" and saving. The core refuses every endpoint command while
//! the settings are locked; secrets go into the keyring and only "set" /
//! "not set" comes back.

use outpost_core::app::input::{from_json, from_optional_json};
use outpost_core::app::{AdminStatus, EndpointView, NewEndpointSecrets};
use outpost_core::endpoint::diagnose::TestResult;
use outpost_core::endpoint::mapping::MapCheck;
use outpost_core::endpoint::EndpointConfig;
use outpost_core::{Outpost, Sensitive};
use tauri::State;

use crate::error::IpcError;

#[tauri::command]
pub async fn admin_status(app: State<'_, Outpost>) -> Result<AdminStatus, IpcError> {
    Ok(app.admin_status().await?)
}

/// First run: set the passphrase. Later: change it (the current one is needed).
#[tauri::command]
pub async fn admin_set_passphrase(
    app: State<'_, Outpost>,
    current: Option<String>,
    passphrase: String,
) -> Result<AdminStatus, IpcError> {
    let current = current.map(Sensitive::new);
    Ok(app
        .set_passphrase(current.as_ref(), &Sensitive::new(passphrase))
        .await?)
}

#[tauri::command]
pub async fn admin_unlock(
    app: State<'_, Outpost>,
    passphrase: String,
) -> Result<AdminStatus, IpcError> {
    Ok(app.unlock(Some(&Sensitive::new(passphrase))).await?)
}

#[tauri::command]
pub async fn admin_lock(app: State<'_, Outpost>) -> Result<AdminStatus, IpcError> {
    Ok(app.lock().await?)
}

#[tauri::command]
pub async fn list_endpoints(app: State<'_, Outpost>) -> Result<Vec<EndpointView>, IpcError> {
    Ok(app.list_endpoints().await?)
}

/// Probes with the values as entered, before anything is saved.
#[tauri::command]
pub async fn test_endpoint(
    app: State<'_, Outpost>,
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
) -> Result<TestResult, IpcError> {
    let config = from_json(config)?;
    Ok(app
        .test_endpoint(&config, from_optional_json(secrets)?)
        .await?)
}

/// The CRM's fields for the endpoint as entered (choices for its field map)
/// and what of the map does not fit them; offline, why not.
#[tauri::command]
pub async fn endpoint_crm_fields(
    app: State<'_, Outpost>,
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
) -> Result<MapCheck, IpcError> {
    let config = from_json(config)?;
    Ok(app
        .endpoint_crm_fields(&config, from_optional_json(secrets)?)
        .await?)
}

/// Saves an endpoint; with `previous_name`, renames that one. A new one
/// needs every secret its sign-in method uses; a field map that does not
/// fit the CRM is refused (offline it is saved unchecked).
#[tauri::command]
pub async fn save_endpoint(
    app: State<'_, Outpost>,
    config: serde_json::Value,
    secrets: Option<serde_json::Value>,
    previous_name: Option<String>,
) -> Result<EndpointConfig, IpcError> {
    let (config, secrets) = (from_json(config)?, from_optional_json(secrets)?);
    let (previous, needs) = (previous_name.as_deref(), NewEndpointSecrets::Required);
    Ok(app
        .save_endpoint(config, secrets, previous, needs)
        .await?
        .config)
}

#[tauri::command]
pub async fn remove_endpoint(app: State<'_, Outpost>, name: String) -> Result<(), IpcError> {
    Ok(app.remove_endpoint(&name).await?)
}
