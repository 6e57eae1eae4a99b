//! The device's settings on the Settings screen (the default region for
//! phone numbers). Reading is open to the create form as well; changing
//! needs the unlocked admin session, like the endpoints.

use outpost_core::app_settings::{AppSettings, AppSettingsInput};
use tauri::State;

use super::settings::require_unlocked;
use crate::error::IpcError;
use crate::state::AppState;

#[tauri::command]
pub async fn get_app_settings(state: State<'_, AppState>) -> Result<AppSettings, IpcError> {
    Ok(state.store.app_settings())
}

#[tauri::command]
pub async fn set_app_settings(
    state: State<'_, AppState>,
    settings: serde_json::Value,
) -> Result<AppSettings, IpcError> {
    require_unlocked(&state)?;
    // Deserialized here so an unknown key is a field error, not a string.
    let input: AppSettingsInput = serde_json::from_value(settings)?;
    Ok(state.store.set_app_settings(&input).await?)
}
