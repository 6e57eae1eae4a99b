//! The device's settings on the Settings screen (the default region for
//! phone numbers). Reading is open to the create form as well; changing
//! needs the unlocked admin session, like the endpoints.

use outpost_core::app_settings::{AppSettings, AppSettingsInput};
use outpost_core::Outpost;
use tauri::State;

use crate::error::IpcError;
use outpost_core::app::input::from_json;

#[tauri::command]
pub async fn get_app_settings(app: State<'_, Outpost>) -> Result<AppSettings, IpcError> {
    Ok(app.app_settings())
}

#[tauri::command]
pub async fn set_app_settings(
    app: State<'_, Outpost>,
    settings: serde_json::Value,
) -> Result<AppSettings, IpcError> {
    // Deserialized here so an unknown key is a field error, not a string.
    let input: AppSettingsInput = from_json(settings)?;
    Ok(app.set_app_settings(&input).await?)
}
