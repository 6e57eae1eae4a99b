//! The Sync screen: "Sync now", the outbox lists, resubmitting, the
//! working set.

use outpost_core::app::input::{from_json, outbox_state};
use outpost_core::store::WorkingSet;
use outpost_core::{Customer, OutboxMessage, Outpost};
use tauri::State;

use crate::error::IpcError;

/// "Sync now" / "Retry now": probe the CRM and flush what is due.
#[tauri::command]
pub async fn sync_now(app: State<'_, Outpost>) -> Result<(), IpcError> {
    Ok(app.sync_now().await?)
}

/// At most a page of messages (the core's default), optionally of one state.
#[tauri::command]
pub async fn list_outbox(
    app: State<'_, Outpost>,
    state_filter: Option<String>,
) -> Result<Vec<OutboxMessage>, IpcError> {
    let filter = state_filter.as_deref().map(outbox_state).transpose()?;
    Ok(app.outbox(filter, None).await?)
}

/// Resubmit a customer whose delivery needs attention.
#[tauri::command]
pub async fn retry_customer(app: State<'_, Outpost>, id: String) -> Result<u64, IpcError> {
    Ok(app.retry(&id).await?)
}

/// Correct a customer the CRM has not accepted yet (e.g. the field it refused).
#[tauri::command]
pub async fn update_customer(
    app: State<'_, Outpost>,
    id: String,
    input: serde_json::Value,
) -> Result<Customer, IpcError> {
    Ok(app.update_unsent_customer(&id, &from_json(input)?).await?)
}

/// Give up on a customer the CRM refused (the UI asks for confirmation first).
#[tauri::command]
pub async fn discard_customer(app: State<'_, Outpost>, id: String) -> Result<(), IpcError> {
    Ok(app.discard(&id).await?)
}

/// The working set's size and freshness for the status bar.
#[tauri::command]
pub async fn get_working_set(app: State<'_, Outpost>) -> Result<WorkingSet, IpcError> {
    Ok(app.working_set().await?)
}

/// "Update now": start a working-set pull (or as soon as the CRM is online).
#[tauri::command]
pub async fn pull_now(app: State<'_, Outpost>) -> Result<(), IpcError> {
    Ok(app.pull_now().await?)
}
