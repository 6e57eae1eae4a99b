//! CRM object endpoints: create, read, update, archive, list and the batch
//! create/read/upsert variants, shared by contacts and companies.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::{parse_json, HsError};
use super::model::{hs_time, is_read_only, HsObject, HubSpotData, ObjectTable, ObjectType};
use super::{authorize, read_body};
use crate::api::rest::model::is_valid_email;
use crate::state::{durable, Shared};
use crate::store::Store;

/// HubSpot's documented batch size limit.
pub const MAX_BATCH: usize = 100;

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Checks input properties against the definitions; read-only ones are dropped.
pub fn validate_properties(
    table: &ObjectTable,
    props: &Map<String, Value>,
) -> Result<BTreeMap<String, String>, HsError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, value) in props {
        let Some(def) = table.properties.get(name) else {
            problems.push((
                name.clone(),
                "PROPERTY_DOESNT_EXIST",
                format!("Property \"{name}\" does not exist"),
            ));
            continue;
        };
        if is_read_only(name) {
            continue;
        }
        let Some(text) = value_to_string(value) else {
            problems.push((
                name.clone(),
                "INVALID_PROPERTY_VALUE",
                format!("{value} is not a valid value for property {name}"),
            ));
            continue;
        };
        if name == "email" && !text.is_empty() && !is_valid_email(&text) {
            problems.push((
                name.clone(),
                "INVALID_EMAIL",
                format!("Email address {text} is invalid"),
            ));
            continue;
        }
        // Since 2025-04 HubSpot rejects padded values of non-string properties.
        if def.kind != "string" && text.trim() != text {
            problems.push((
                name.clone(),
                "INVALID_PROPERTY_VALUE",
                format!(
                    "{text:?} was not a valid {} value: leading or trailing spaces",
                    def.kind
                ),
            ));
            continue;
        }
        if def.kind == "enumeration" && !def.options.is_empty() && !text.is_empty() {
            let allowed: Vec<&str> = def
                .options
                .iter()
                .filter_map(|o| o.get("value").and_then(serde_json::Value::as_str))
                .collect();
            if !allowed.contains(&text.as_str()) {
                problems.push((
                    name.clone(),
                    "INVALID_OPTION",
                    format!(
                        "{text} was not one of the allowed options: [{}]",
                        allowed.join(", ")
                    ),
                ));
                continue;
            }
        }
        out.insert(name.clone(), text);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(HsError::invalid_properties(&problems))
    }
}

/// Another object already holding one of `props`' unique values (email, or a
/// property with `hasUniqueValue`).
fn conflict(
    table: &ObjectTable,
    ty: ObjectType,
    props: &BTreeMap<String, String>,
    except: Option<u64>,
) -> Option<u64> {
    props
        .iter()
        .filter(|(k, v)| {
            !v.is_empty()
                && ((ty == ObjectType::Contacts && k.as_str() == "email")
                    || table.properties.get(*k).is_some_and(|d| d.has_unique_value))
        })
        .find_map(|(k, v)| table.find_by(k, v).filter(|id| Some(*id) != except))
}

fn conflict_error(ty: ObjectType, id: u64) -> HsError {
    let label = match ty {
        ObjectType::Contacts => "Contact",
        ObjectType::Companies => "Company",
    };
    HsError::conflict(label, id)
}

/// Inserts without validation (seeding from the Rust API or control port).
pub fn insert_seed(
    data: &mut HubSpotData,
    ty: ObjectType,
    props: BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> u64 {
    insert_new(data, ty, props, at)
}

/// Two inputs of one batch claiming the same email.
fn duplicate_email(email: &str) -> HsError {
    HsError::new(
        StatusCode::CONFLICT,
        "CONFLICT",
        format!("Duplicate email in batch input: {email}"),
    )
}

fn insert_new(
    data: &mut HubSpotData,
    ty: ObjectType,
    mut props: BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> u64 {
    let id = data.next_id;
    data.next_id += 1;
    props.insert("hs_object_id".into(), id.to_string());
    props.insert("createdate".into(), hs_time(at));
    props.insert(ty.modified_property().into(), hs_time(at));
    let obj = HsObject {
        id,
        properties: props,
        created_at: at,
        updated_at: at,
        archived_at: None,
    };
    data.table_mut(ty).insert(obj);
    id
}

/// Merges `props` into an object; bumps the modification stamp only on change.
pub(crate) fn apply_update(
    obj: &mut HsObject,
    ty: ObjectType,
    props: BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> bool {
    let mut changed = false;
    for (k, v) in props {
        if obj.properties.get(&k) != Some(&v) {
            obj.properties.insert(k, v);
            changed = true;
        }
    }
    if changed {
        obj.updated_at = at;
        obj.properties
            .insert(ty.modified_property().into(), hs_time(at));
    }
    changed
}

/// Moves a live object to the archived ones (kept, and persisted, with
/// `archivedAt`). `false`: no such live object.
pub(crate) fn archive_object(store: &mut Store, ty: ObjectType, id: u64) -> bool {
    let Some(obj) = store.hubspot.table_mut(ty).archive(id, now()).cloned() else {
        return false;
    };
    store.put(ty.object_kind(), &id.to_string(), &obj);
    true
}

pub(crate) fn persist(store: &Store, ty: ObjectType, id: u64) {
    if let Some(o) = store.hubspot.table(ty).objects.get(&id) {
        store.put(ty.object_kind(), &id.to_string(), o);
    }
}

/// Properties to return after a write: the defaults plus those written.
fn written_names<'a>(ty: ObjectType, names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut set: BTreeSet<String> = ty
        .default_returned()
        .iter()
        .map(|s| s.to_string())
        .collect();
    set.extend(names.cloned());
    set.into_iter().collect()
}

fn status_envelope(results: Vec<Value>, started: DateTime<Utc>) -> Value {
    json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": hs_time(started),
        "completedAt": hs_time(now()),
    })
}

fn check_batch_size(n: usize) -> Result<(), HsError> {
    if n > MAX_BATCH {
        return Err(HsError::validation(format!(
            "Batch input size {n} exceeds the maximum of {MAX_BATCH} inputs"
        ))
        .with("context", json!({"maxInputs": [MAX_BATCH.to_string()]})));
    }
    Ok(())
}

/// Validates the property an upsert or read identifies objects by.
fn check_id_property(table: &ObjectTable, ty: ObjectType, prop: &str) -> Result<(), HsError> {
    if prop == "hs_object_id" {
        return Ok(());
    }
    let Some(def) = table.properties.get(prop) else {
        return Err(HsError::validation(format!(
            "Property \"{prop}\" does not exist on {}",
            ty.path()
        ))
        .with(
            "errors",
            json!([{
                "message": format!("Property \"{prop}\" does not exist"),
                "code": "PROPERTY_DOESNT_EXIST",
                "context": {"propertyName": [prop]}
            }]),
        ));
    };
    let unique = def.has_unique_value || (ty == ObjectType::Contacts && prop == "email");
    if !unique {
        return Err(HsError::validation(format!(
            "Property \"{prop}\" is not a unique identifier property and cannot be used as idProperty"
        ))
        .with(
            "errors",
            json!([{
                "message": format!("{prop} is not a unique property"),
                "code": "INVALID_ID_PROPERTY",
                "context": {"propertyName": [prop]}
            }]),
        ));
    }
    Ok(())
}

fn lookup(table: &ObjectTable, id_property: Option<&str>, id: &str) -> Option<u64> {
    table.find_by(id_property.unwrap_or("hs_object_id"), id)
}

#[derive(Debug, Deserialize)]
struct CreateInput {
    #[serde(default)]
    properties: Map<String, Value>,
    /// Accepted and ignored: associations are not emulated yet.
    #[serde(default)]
    #[allow(dead_code)]
    associations: Vec<Value>,
}

pub async fn create(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let input: CreateInput = parse_json(&read_body(&shared, body).await?)?;
    let (reply, barrier) = {
        let mut store = shared.store();
        let props = validate_properties(store.hubspot.table(ty), &input.properties)?;
        if let Some(existing) = conflict(store.hubspot.table(ty), ty, &props, None) {
            return Err(conflict_error(ty, existing));
        }
        let names = written_names(ty, props.keys());
        let id = insert_new(&mut store.hubspot, ty, props, now());
        persist(&store, ty, id);
        let reply = store.hubspot.table(ty).objects[&id].render(ty, Some(&names));
        (reply, store.barrier())
    };
    durable(barrier).await;
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// `properties=a,b` and `properties=a&properties=b` both work, as in HubSpot.
fn query_list(params: &[(String, String)], name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn query_one<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn get_one(
    ty: ObjectType,
    shared: Arc<Shared>,
    id: String,
    params: Vec<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.read_scope())?;
    let wanted = query_list(&params, "properties");
    let id_property = query_one(&params, "idProperty");
    let store = shared.store();
    let table = store.hubspot.table(ty);
    if let Some(p) = id_property {
        check_id_property(table, ty, p)?;
    }
    let found =
        lookup(table, id_property, &id).ok_or_else(|| HsError::not_found("resource not found"))?;
    let reply = table.objects[&found].render(ty, Some(&wanted));
    drop(store);
    race_after_read(&shared, ty, &[found]);
    Ok(Json(reply))
}

/// The race fault: a person changes a field of the records just read,
/// before the reader can write (crate::faults::Race).
fn race_after_read(shared: &Shared, ty: ObjectType, ids: &[u64]) {
    if ids.is_empty() {
        return;
    }
    let Some(race) = shared.faults().take_race() else {
        return;
    };
    let mut store = shared.store();
    for &id in ids {
        let props = BTreeMap::from([(race.field.clone(), race.value.clone().unwrap_or_default())]);
        crate::crm_user::edit_hubspot(&mut store, ty, id, props);
    }
}

pub async fn list(
    ty: ObjectType,
    shared: Arc<Shared>,
    params: Vec<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.read_scope())?;
    let wanted = query_list(&params, "properties");
    let limit: usize = match query_one(&params, "limit") {
        None => 10,
        Some(s) => s
            .parse()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| HsError::validation("limit must be between 1 and 100"))?,
    };
    let after: u64 = query_one(&params, "after")
        .map(|s| {
            s.parse()
                .map_err(|_| HsError::validation("after must be an object id"))
        })
        .transpose()?
        .unwrap_or(0);
    // Any case, as HubSpot's Java back end parses booleans (Python's client sends `True`).
    let archived = match query_one(&params, "archived").map(str::to_ascii_lowercase) {
        None => false,
        Some(v) if v == "false" => false,
        Some(v) if v == "true" => true,
        Some(_) => return Err(HsError::validation("archived must be true or false")),
    };
    let store = shared.store();
    let table = store.hubspot.table(ty);
    let objects = if archived {
        &table.archived
    } else {
        &table.objects
    };
    let mut page: Vec<&HsObject> = objects
        .range(after..)
        .map(|(_, o)| o)
        .take(limit + 1)
        .collect();
    let next = (page.len() > limit).then(|| page[limit].id);
    page.truncate(limit);
    let results: Vec<Value> = page.iter().map(|o| o.render(ty, Some(&wanted))).collect();
    let mut body = json!({ "results": results });
    if let Some(next) = next {
        body["paging"] = json!({"next": {"after": next.to_string()}});
    }
    Ok(Json(body))
}

#[derive(Debug, Deserialize)]
struct UpdateInput {
    #[serde(default)]
    properties: Map<String, Value>,
}

pub async fn update(
    ty: ObjectType,
    shared: Arc<Shared>,
    id: String,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let input: UpdateInput = parse_json(&read_body(&shared, body).await?)?;
    if input.properties.is_empty() {
        return Err(HsError::validation(
            "No properties found to update, please provide at least one.",
        ));
    }
    let id_property = query_one(&params, "idProperty");
    let (reply, barrier) = {
        let mut store = shared.store();
        let table = store.hubspot.table(ty);
        if let Some(p) = id_property {
            check_id_property(table, ty, p)?;
        }
        let found = lookup(table, id_property, &id)
            .ok_or_else(|| HsError::not_found("resource not found"))?;
        let props = validate_properties(table, &input.properties)?;
        if let Some(existing) = conflict(table, ty, &props, Some(found)) {
            return Err(conflict_error(ty, existing));
        }
        let names = written_names(ty, props.keys());
        let at = now();
        let changed = store
            .hubspot
            .table_mut(ty)
            .update(found, |obj| apply_update(obj, ty, props, at))
            .expect("found above");
        if changed {
            persist(&store, ty, found);
        }
        let reply = store.hubspot.table(ty).objects[&found].render(ty, Some(&names));
        (reply, store.barrier())
    };
    durable(barrier).await;
    Ok(Json(reply))
}

pub async fn archive(
    ty: ObjectType,
    shared: Arc<Shared>,
    id: String,
    headers: HeaderMap,
) -> Result<StatusCode, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let barrier = {
        let mut store = shared.store();
        // HubSpot answers 204 for unknown ids too.
        if let Ok(n) = id.parse::<u64>() {
            archive_object(&mut store, ty, n);
        }
        store.barrier()
    };
    durable(barrier).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct Inputs<T> {
    inputs: Vec<T>,
}

pub async fn batch_create(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let input: Inputs<CreateInput> = parse_json(&read_body(&shared, body).await?)?;
    check_batch_size(input.inputs.len())?;
    let started = now();
    let (reply, barrier) = {
        let mut store = shared.store();
        let table = store.hubspot.table(ty);
        let mut all = Vec::with_capacity(input.inputs.len());
        for i in &input.inputs {
            let props = validate_properties(table, &i.properties)?;
            if let Some(existing) = conflict(table, ty, &props, None) {
                return Err(conflict_error(ty, existing));
            }
            all.push(props);
        }
        // Duplicates inside the batch conflict with each other as well.
        let mut seen = HashSet::new();
        for props in &all {
            if let Some(email) = props.get("email").filter(|e| !e.is_empty()) {
                if !seen.insert(email.to_lowercase()) {
                    return Err(duplicate_email(email));
                }
            }
        }
        let at = now();
        let mut results = Vec::with_capacity(all.len());
        for props in all {
            let names = written_names(ty, props.keys());
            let id = insert_new(&mut store.hubspot, ty, props, at);
            persist(&store, ty, id);
            results.push(store.hubspot.table(ty).objects[&id].render(ty, Some(&names)));
        }
        (status_envelope(results, started), store.barrier())
    };
    durable(barrier).await;
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadRequest {
    id_property: Option<String>,
    inputs: Vec<IdInput>,
    #[serde(default)]
    properties: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct IdInput {
    id: Value,
}

fn id_text(v: &Value) -> Result<String, HsError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(HsError::validation("id must be a string")),
    }
}

pub async fn batch_read(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HsError> {
    authorize(&shared, &headers, ty.read_scope())?;
    let req: ReadRequest = parse_json(&read_body(&shared, body).await?)?;
    check_batch_size(req.inputs.len())?;
    let started = now();
    let store = shared.store();
    let table = store.hubspot.table(ty);
    if let Some(p) = &req.id_property {
        check_id_property(table, ty, p)?;
    }
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut read = Vec::new();
    for input in &req.inputs {
        let id = id_text(&input.id)?;
        match lookup(table, req.id_property.as_deref(), &id) {
            Some(found) => {
                read.push(found);
                results.push(table.objects[&found].render(ty, Some(&req.properties)))
            }
            None => missing.push(id),
        }
    }
    drop(store);
    race_after_read(&shared, ty, &read);
    let mut reply = status_envelope(results, started);
    if missing.is_empty() {
        return Ok(Json(reply).into_response());
    }
    // One StandardError for all missing ids. HubSpot's spec requires every
    // member of it, `errors` and `links` included (hubspot-api-client's
    // strict mode refuses the answer without them).
    reply["numErrors"] = json!(1);
    reply["errors"] = json!([{
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": format!(
            "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
            ty.upper()
        ),
        "context": {"ids": missing},
        "errors": [],
        "links": {},
    }]);
    Ok((StatusCode::MULTI_STATUS, Json(reply)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchUpdateInput {
    /// A unique property the `id` is a value of; the record id without it.
    id_property: Option<String>,
    id: Value,
    #[serde(default)]
    properties: Map<String, Value>,
}

/// `POST /crm/v3/objects/{type}/batch/update`: every input names an
/// existing object (by id, or by a unique `idProperty`); the batch is
/// validated as a whole, so one bad input changes nothing.
pub async fn batch_update(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let input: Inputs<BatchUpdateInput> = parse_json(&read_body(&shared, body).await?)?;
    check_batch_size(input.inputs.len())?;
    let started = now();
    let (reply, barrier) = {
        let mut store = shared.store();
        let mut plan = Vec::with_capacity(input.inputs.len());
        let mut seen = HashSet::new();
        {
            let table = store.hubspot.table(ty);
            for i in &input.inputs {
                if let Some(p) = &i.id_property {
                    check_id_property(table, ty, p)?;
                }
                let id = id_text(&i.id)?;
                let found = lookup(table, i.id_property.as_deref(), &id).ok_or_else(|| {
                    HsError::not_found(format!(
                        "Object with {} {id} does not exist",
                        i.id_property.as_deref().unwrap_or("hs_object_id")
                    ))
                })?;
                if !seen.insert(found) {
                    return Err(HsError::validation(format!(
                        "Duplicate IDs found in batch input: [{id}]. IDs must be unique"
                    )));
                }
                if i.properties.is_empty() {
                    return Err(HsError::validation(
                        "No properties found to update, please provide at least one.",
                    ));
                }
                let props = validate_properties(table, &i.properties)?;
                if let Some(other) = conflict(table, ty, &props, Some(found)) {
                    return Err(conflict_error(ty, other));
                }
                plan.push((found, props));
            }
        }
        let at = now();
        let mut results = Vec::with_capacity(plan.len());
        for (id, props) in plan {
            let names = written_names(ty, props.keys());
            let changed = store
                .hubspot
                .table_mut(ty)
                .update(id, |obj| apply_update(obj, ty, props, at))
                .expect("looked up");
            if changed {
                persist(&store, ty, id);
            }
            results.push(store.hubspot.table(ty).objects[&id].render(ty, Some(&names)));
        }
        (status_envelope(results, started), store.barrier())
    };
    durable(barrier).await;
    Ok(Json(reply))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertInput {
    id_property: Option<String>,
    id: Value,
    #[serde(default)]
    properties: Map<String, Value>,
}

pub async fn batch_upsert(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.write_scope())?;
    let input: Inputs<UpsertInput> = parse_json(&read_body(&shared, body).await?)?;
    check_batch_size(input.inputs.len())?;
    let started = now();
    let (reply, barrier) = {
        let mut store = shared.store();
        // Validate everything first so a bad input leaves nothing half-applied.
        let mut plan = Vec::with_capacity(input.inputs.len());
        let mut seen = HashSet::new();
        let mut emails = HashSet::new();
        {
            let table = store.hubspot.table(ty);
            for i in &input.inputs {
                let prop = i.id_property.clone().ok_or_else(|| {
                    HsError::validation("idProperty is required for every upsert input")
                })?;
                check_id_property(table, ty, &prop)?;
                let id = id_text(&i.id)?;
                if !seen.insert((prop.clone(), id.clone())) {
                    return Err(HsError::validation(format!(
                        "Duplicate IDs found in batch input: [{id}]. IDs must be unique"
                    )));
                }
                let mut props = validate_properties(table, &i.properties)?;
                let existing = lookup(table, Some(&prop), &id);
                if existing.is_none() {
                    if prop == "hs_object_id" {
                        return Err(HsError::not_found(format!(
                            "Object with hs_object_id {id} does not exist"
                        )));
                    }
                    props.insert(prop.clone(), id.clone());
                }
                if let Some(other) = conflict(table, ty, &props, existing) {
                    return Err(conflict_error(ty, other));
                }
                if let Some(email) = props.get("email").filter(|e| !e.is_empty()) {
                    if !emails.insert(email.to_lowercase()) {
                        return Err(duplicate_email(email));
                    }
                }
                plan.push((existing, props));
            }
        }
        let at = now();
        let mut results = Vec::with_capacity(plan.len());
        for (existing, props) in plan {
            let names = written_names(ty, props.keys());
            let (id, new) = match existing {
                Some(id) => {
                    let changed = store
                        .hubspot
                        .table_mut(ty)
                        .update(id, |obj| apply_update(obj, ty, props, at))
                        .expect("looked up");
                    if changed {
                        persist(&store, ty, id);
                    }
                    (id, false)
                }
                None => {
                    let id = insert_new(&mut store.hubspot, ty, props, at);
                    persist(&store, ty, id);
                    (id, true)
                }
            };
            let mut r = store.hubspot.table(ty).objects[&id].render(ty, Some(&names));
            r["new"] = json!(new);
            results.push(r);
        }
        (status_envelope(results, started), store.barrier())
    };
    durable(barrier).await;
    Ok(Json(reply))
}
