//! The Sync screen: "Sync now", the outbox lists, resubmitting, the
//! working set.

use outpost_core::app::input::{from_json, outbox_state, resolution};
use outpost_core::store::{Conflict, WorkingSet};
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

/// "Create again as new" for a customer deleted in the CRM: the new customer.
#[tauri::command]
pub async fn recreate_customer(app: State<'_, Outpost>, id: String) -> Result<Customer, IpcError> {
    Ok(app.recreate_deleted(&id).await?)
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

/// Open conflicts, oldest first: all of them (the Sync screen), or one
/// customer's with `id` (its detail view; an unknown customer is
/// `not_found`).
#[tauri::command]
pub async fn list_conflicts(
    app: State<'_, Outpost>,
    id: Option<String>,
) -> Result<Vec<Conflict>, IpcError> {
    Ok(match id {
        Some(id) => app.conflicts_of(&id).await?,
        None => app.conflicts().await?,
    })
}

/// "Use mine" (`use: "mine"`: ours is sent with the CRM's value as its
/// base) or "Keep the CRM's" (`"crm"`: ours is dropped) for one field;
/// answers the customer as stored now.
#[tauri::command]
pub async fn resolve_conflict(
    app: State<'_, Outpost>,
    id: String,
    field: String,
    r#use: String,
) -> Result<Customer, IpcError> {
    let choice = resolution(&r#use)?;
    Ok(app.resolve_conflict(&id, &field, choice).await?)
}
