//! Lookup, create and detail.

use outpost_core::app::input::from_json;
use outpost_core::app::Reach;
use outpost_core::crm::form::FormMetadata;
use outpost_core::customer::validation::CustomerCheck;
use outpost_core::sync::lookup::Lookup;
use outpost_core::{Customer, Outpost, StatusSnapshot};
use tauri::State;

use crate::error::IpcError;

/// `input` is read by the core, not by Tauri, so a bad field comes back as
/// a field-level error instead of an opaque string.
#[tauri::command]
pub async fn create_customer(
    app: State<'_, Outpost>,
    input: serde_json::Value,
) -> Result<Customer, IpcError> {
    Ok(app.create_customer(&from_json(input)?).await?)
}

/// The create form's as-you-type check: what `create_customer` would say
/// about `input` (validation and the cached CRM form), storing nothing.
#[tauri::command]
pub async fn check_customer(
    app: State<'_, Outpost>,
    input: serde_json::Value,
) -> Result<CustomerCheck, IpcError> {
    Ok(app.check_customer(&from_json(input)?).await?)
}

#[tauri::command]
pub async fn search_customers(
    app: State<'_, Outpost>,
    query: String,
    limit: Option<u32>,
) -> Result<Vec<Customer>, IpcError> {
    Ok(app.search(&query, limit).await?)
}

/// The lookup screen's search: local results at once, merged with the
/// primary CRM's when it answers within the lookup deadline.
#[tauri::command]
pub async fn lookup_customers(
    app: State<'_, Outpost>,
    query: String,
    limit: Option<u32>,
) -> Result<Lookup, IpcError> {
    Ok(app.lookup(&query, limit, Reach::WithCrm).await?)
}

/// The create form's duplicate check: customers with this email or phone.
#[tauri::command]
pub async fn find_duplicates(
    app: State<'_, Outpost>,
    email: Option<String>,
    phone: Option<String>,
) -> Result<Vec<Customer>, IpcError> {
    Ok(app
        .possible_duplicates(email.as_deref(), phone.as_deref())
        .await?)
}

/// The creation form: the CRM's cached metadata, or the built-in form.
#[tauri::command]
pub async fn get_form_metadata(app: State<'_, Outpost>) -> Result<FormMetadata, IpcError> {
    Ok(app.form().await?)
}

#[tauri::command]
pub async fn get_customer(app: State<'_, Outpost>, id: String) -> Result<Customer, IpcError> {
    Ok(app.customer(&id).await?)
}

/// The edit form's save: `changes` names only what changes (`null` clears a
/// field) and is read by the core like `create_customer`'s input, so an
/// unknown field comes back field by field.
#[tauri::command]
pub async fn edit_customer(
    app: State<'_, Outpost>,
    id: String,
    changes: serde_json::Value,
) -> Result<Customer, IpcError> {
    Ok(app.edit_customer(&id, &from_json(changes)?).await?)
}

#[tauri::command]
pub async fn get_status(app: State<'_, Outpost>) -> Result<StatusSnapshot, IpcError> {
    Ok(app.status().await?)
}
