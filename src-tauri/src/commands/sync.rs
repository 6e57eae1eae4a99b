//! The Sync screen: "Sync now", the outbox lists, resubmitting.

use outpost_core::{OutboxMessage, OutboxState};
use tauri::State;

use super::parse_key;
use crate::error::IpcError;
use crate::state::AppState;

const OUTBOX_PAGE: u32 = 500;

/// "Sync now" / "Retry now": probe the CRM and flush what is due.
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), IpcError> {
    state.engine.sync_now().await;
    Ok(())
}

#[tauri::command]
pub async fn list_outbox(
    state: State<'_, AppState>,
    state_filter: Option<String>,
) -> Result<Vec<OutboxMessage>, IpcError> {
    let filter = state_filter
        .map(|s| {
            OutboxState::parse(&s).ok_or_else(|| {
                IpcError::invalid_input(
                    "state_filter",
                    "Use pending, in-flight, needs-attention or sent.",
                )
            })
        })
        .transpose()?;
    Ok(state.store.outbox(filter, OUTBOX_PAGE).await?)
}

/// Resubmit a customer whose delivery needs attention.
#[tauri::command]
pub async fn retry_customer(state: State<'_, AppState>, id: String) -> Result<u64, IpcError> {
    let key = parse_key(&id)?;
    let n = state.store.retry_customer(key).await?;
    state.engine.sync_now().await;
    Ok(n)
}

/// Correct a customer the CRM has not accepted yet (e.g. the field it refused).
#[tauri::command]
pub async fn update_customer(
    state: State<'_, AppState>,
    id: String,
    input: serde_json::Value,
) -> Result<outpost_core::Customer, IpcError> {
    let key = parse_key(&id)?;
    let input: outpost_core::NewCustomer = serde_json::from_value(input)?;
    Ok(state.store.update_unsent_customer(key, &input).await?)
}

/// Give up on a customer the CRM refused (the UI asks for confirmation first).
#[tauri::command]
pub async fn discard_customer(state: State<'_, AppState>, id: String) -> Result<(), IpcError> {
    let key = parse_key(&id)?;
    Ok(state.store.discard_refused_customer(key).await?)
}

/// The working set's size and freshness for the status bar.
#[tauri::command]
pub async fn get_working_set(
    state: State<'_, AppState>,
) -> Result<outpost_core::store::WorkingSet, IpcError> {
    Ok(state.engine.working_set().await?)
}

/// "Update now": start a working-set pull (or as soon as the CRM is online).
/// Refused, in words, when the primary endpoint keeps no working set.
#[tauri::command]
pub async fn pull_now(state: State<'_, AppState>) -> Result<(), IpcError> {
    if state.engine.pull_now().await {
        Ok(())
    } else {
        Err(IpcError {
            code: crate::error::ErrorCode::Refused,
            message: "This computer does not keep the CRM's customers: no CRM is configured, or the working set is turned off in Settings.".into(),
            fields: Vec::new(),
        })
    }
}
