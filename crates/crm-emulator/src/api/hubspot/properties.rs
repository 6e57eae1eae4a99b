//! Properties API subset: list, read, create (so an admin can add the unique
//! `outpost_key`), archive.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{parse_json, HsError};
use super::model::{ObjectType, PropertyDef};
use super::{authorize, read_body};
use crate::state::{durable, Shared};

pub async fn list(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.schema_read_scope())?;
    let store = shared.store();
    let results: Vec<Value> = store
        .hubspot
        .table(ty)
        .properties
        .values()
        .map(PropertyDef::api_view)
        .collect();
    Ok(Json(json!({ "results": results })))
}

fn missing(ty: ObjectType, name: &str) -> HsError {
    HsError::not_found(format!(
        "Unable to find property {name} for object type {}",
        ty.path()
    ))
}

pub async fn get_one(
    ty: ObjectType,
    shared: Arc<Shared>,
    name: String,
    headers: HeaderMap,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.schema_read_scope())?;
    let store = shared.store();
    store
        .hubspot
        .table(ty)
        .properties
        .get(&name)
        .map(|p| Json(p.api_view()))
        .ok_or_else(|| missing(ty, &name))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProperty {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    field_type: String,
    group_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    has_unique_value: bool,
    #[serde(default)]
    options: Vec<Value>,
    #[serde(default)]
    form_field: bool,
    #[serde(default)]
    hidden: bool,
}

const TYPES: [&str; 7] = [
    "string",
    "number",
    "date",
    "datetime",
    "enumeration",
    "bool",
    "phone_number",
];

pub async fn create(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HsError> {
    authorize(&shared, &headers, ty.schema_write_scope())?;
    let input: CreateProperty = parse_json(&read_body(&shared, body).await?)?;
    let (def, barrier) = insert(&shared, ty, input)?;
    durable(barrier).await;
    Ok((StatusCode::CREATED, Json(def.api_view())).into_response())
}

/// Validates and stores a new custom property (the API's create, and the
/// control API's `POST /hubspot/properties/create`); returns it with a
/// barrier for the state file.
pub fn insert(
    shared: &Shared,
    ty: ObjectType,
    input: CreateProperty,
) -> Result<(PropertyDef, Option<tokio::sync::oneshot::Receiver<()>>), HsError> {
    let valid_name = input.name.starts_with(|c: char| c.is_ascii_lowercase())
        && input
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        return Err(HsError::validation(format!(
            "Property name {:?} must start with a lowercase letter and contain only lowercase letters, digits and underscores",
            input.name
        )));
    }
    if !TYPES.contains(&input.kind.as_str()) {
        return Err(HsError::validation(format!(
            "Unknown property type {:?}",
            input.kind
        )));
    }
    let def = PropertyDef {
        name: input.name.clone(),
        label: input.label,
        kind: input.kind,
        field_type: input.field_type,
        group_name: input.group_name,
        description: input.description,
        options: input.options,
        has_unique_value: input.has_unique_value,
        hubspot_defined: false,
        form_field: input.form_field,
        hidden: input.hidden,
    };
    let barrier = {
        let mut store = shared.store();
        let table = store.hubspot.table_mut(ty);
        if table.properties.contains_key(&def.name) {
            return Err(HsError::new(
                StatusCode::CONFLICT,
                "OBJECT_ALREADY_EXISTS",
                format!("A property named '{}' already exists.", def.name),
            ));
        }
        table.properties.insert(def.name.clone(), def.clone());
        store.put(ty.property_kind(), &def.name, &def);
        store.barrier()
    };
    Ok((def, barrier))
}

/// Removes a custom property; HubSpot-defined ones cannot be removed.
pub fn remove(shared: &Shared, ty: ObjectType, name: &str) -> Result<(), HsError> {
    let mut store = shared.store();
    let table = store.hubspot.table_mut(ty);
    match table.properties.get(name) {
        None => return Err(missing(ty, name)),
        Some(d) if d.hubspot_defined => {
            return Err(HsError::validation(format!(
                "{name} is a HubSpot-defined property and cannot be archived"
            )))
        }
        Some(_) => {}
    }
    table.properties.remove(name);
    store.delete(ty.property_kind(), name);
    Ok(())
}

pub async fn archive(
    ty: ObjectType,
    shared: Arc<Shared>,
    name: String,
    headers: HeaderMap,
) -> Result<StatusCode, HsError> {
    authorize(&shared, &headers, ty.schema_write_scope())?;
    remove(&shared, ty, &name)?;
    let barrier = shared.store().barrier();
    durable(barrier).await;
    Ok(StatusCode::NO_CONTENT)
}
