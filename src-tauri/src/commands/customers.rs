//! Lookup, create and detail.

use outpost_core::crm::form::FormMetadata;
use outpost_core::customer::validation::CustomerCheck;
use outpost_core::customer::Field;
use outpost_core::sync::lookup::Lookup;
use outpost_core::{Customer, CustomerId, NewCustomer, StatusSnapshot};
use tauri::State;

use crate::error::IpcError;
use crate::state::AppState;

/// Longest search query accepted; anything longer is not a lookup.
const MAX_QUERY_CHARS: usize = 200;
const MAX_SEARCH_LIMIT: u32 = 200;
const DEFAULT_SEARCH_LIMIT: u32 = 50;

#[tauri::command]
pub async fn create_customer(
    state: State<'_, AppState>,
    input: serde_json::Value,
) -> Result<Customer, IpcError> {
    // Deserialized here rather than by Tauri so a bad field comes back as a
    // field-level IpcError instead of an opaque string.
    let input: NewCustomer = serde_json::from_value(input)?;
    state.engine.check_can_create().await?;
    Ok(state.store.create_customer(&input).await?)
}

/// The create form's as-you-type check: what `create_customer` would say
/// about `input` (validation and the cached CRM form), storing nothing.
#[tauri::command]
pub async fn check_customer(
    state: State<'_, AppState>,
    input: serde_json::Value,
) -> Result<CustomerCheck, IpcError> {
    let input: NewCustomer = serde_json::from_value(input)?;
    Ok(state.store.check_customer(&input).await?)
}

#[tauri::command]
pub async fn search_customers(
    state: State<'_, AppState>,
    query: String,
    limit: Option<u32>,
) -> Result<Vec<Customer>, IpcError> {
    let (query, limit) = search_args(query, limit)?;
    Ok(state.store.search(&query, limit).await?)
}

/// The lookup screen's search: local results at once, merged with the
/// primary CRM's when it answers within the lookup deadline.
#[tauri::command]
pub async fn lookup_customers(
    state: State<'_, AppState>,
    query: String,
    limit: Option<u32>,
) -> Result<Lookup, IpcError> {
    let (query, limit) = search_args(query, limit)?;
    Ok(state.engine.lookup(&query, limit).await?)
}

/// The create form's duplicate check: customers with this email or phone.
#[tauri::command]
pub async fn find_duplicates(
    state: State<'_, AppState>,
    email: Option<String>,
    phone: Option<String>,
) -> Result<Vec<Customer>, IpcError> {
    let too_long =
        |v: &Option<String>, max: usize| v.as_ref().is_some_and(|v| v.chars().count() > max);
    if too_long(&email, Field::Email.spec().max_len) {
        return Err(IpcError::invalid_input("email", "The email is too long."));
    }
    if too_long(&phone, Field::Phone.spec().max_len) {
        return Err(IpcError::invalid_input(
            "phone",
            "The phone number is too long.",
        ));
    }
    Ok(state
        .engine
        .possible_duplicates(email.as_deref(), phone.as_deref())
        .await?)
}

/// The creation form: the CRM's cached metadata, or the built-in form.
#[tauri::command]
pub async fn get_form_metadata(state: State<'_, AppState>) -> Result<FormMetadata, IpcError> {
    Ok(state.store.current_form().await?)
}

#[tauri::command]
pub async fn get_customer(state: State<'_, AppState>, id: String) -> Result<Customer, IpcError> {
    let key = parse_key(&id)?;
    state
        .store
        .customer(key)
        .await?
        .ok_or_else(|| outpost_core::Error::CustomerNotFound(id).into())
}

#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> Result<StatusSnapshot, IpcError> {
    Ok(state.engine.status().await?)
}

pub(crate) fn search_args(query: String, limit: Option<u32>) -> Result<(String, u32), IpcError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(IpcError::invalid_input(
            "query",
            format!("A search is at most {MAX_QUERY_CHARS} characters."),
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(IpcError::invalid_input(
            "limit",
            format!("The limit must be between 1 and {MAX_SEARCH_LIMIT}."),
        ));
    }
    Ok((query, limit))
}

pub(crate) fn parse_key(key: &str) -> Result<CustomerId, IpcError> {
    key.parse().map_err(|_| {
        IpcError::invalid_input("id", format!("\"{key}\" is not a customer key (a UUID)."))
    })
}
