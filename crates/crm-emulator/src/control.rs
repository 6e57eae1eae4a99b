//! The control API: its own port, so it answers while the CRM port is down.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::hubspot::model::ObjectType;
use crate::api::rest::model::{CustomField, CustomerFields};
use crate::api::zoho::admin as zoho_admin;
use crate::config::parse_rate_limit;
use crate::crm_user;
use crate::emulator::Inner;
use crate::faults::Faults;
use crate::state::Api;

type S = State<Arc<Inner>>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ControlError(String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({ "error": self.0 }))).into_response()
    }
}

/// Parses a JSON body; an empty body means "all defaults".
fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ControlError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ControlError(format!("invalid JSON body: {e}")))
}

pub fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/down", post(down))
        .route("/up", post(up))
        .route(
            "/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/reset", post(reset))
        .route("/records", get(records))
        .route("/stats", get(stats))
        .route("/requests", get(requests))
        .route("/tokens/expire", post(expire))
        .route("/tokens/revoke", post(revoke))
        .route("/tokens/restore", post(restore))
        .route("/tokens/scopes", post(scopes))
        .route("/tokens/issue", post(issue))
        .route("/rate-limit", get(get_rate_limit).post(set_rate_limit))
        .route("/search-lag", post(search_lag))
        .route("/rest/key-format", get(get_key_format).post(set_key_format))
        .route("/hubspot/properties/remove", post(remove_property))
        .route("/hubspot/properties/create", post(create_property))
        .route("/rest/fields", get(rest_fields).post(define_rest_field))
        .route("/rest/fields/remove", post(remove_rest_field))
        .route("/seed", post(seed))
        .route("/salesforce/settings", get(sf_settings))
        .route("/salesforce/duplicate-rule", post(sf_duplicate_rule))
        .route("/salesforce/instance-url", post(sf_instance_url))
        .route("/salesforce/rotation", post(sf_rotation))
        .route("/salesforce/fields", post(sf_define_field))
        .route("/salesforce/fields/remove", post(sf_remove_field))
        .route("/salesforce/fields/flags", post(sf_field_flags))
        .route(
            "/salesforce/query-locators/expire",
            post(sf_expire_locators),
        )
        .route("/dynamics/settings", get(dv_settings))
        .route(
            "/dynamics/duplicate-detection",
            post(dv_duplicate_detection),
        )
        .route("/dynamics/change-tracking", post(dv_change_tracking))
        .route("/dynamics/key", post(dv_key_status))
        .route("/dynamics/key/remove", post(dv_remove_key))
        .route("/dynamics/concurrency", post(dv_concurrency))
        .route("/dynamics/batch-counting", post(dv_batch_counting))
        .route("/dynamics/privileges", post(dv_privileges))
        .route(
            "/zoho/settings",
            get(zoho_settings).post(zoho_change_settings),
        )
        .route("/zoho/credits", post(zoho_credits))
        .route("/zoho/concurrency", post(zoho_concurrency))
        .route("/zoho/refresh-tokens", post(zoho_refresh_token))
        .route("/zoho/page-tokens/expire", post(zoho_expire_page_tokens))
        .route("/zoho/grant-codes", post(zoho_grant_code))
        .route("/zoho/fields", post(zoho_define_field))
        .route("/zoho/fields/remove", post(zoho_remove_field))
        .route("/zoho/fields/flags", post(zoho_field_flags))
        .route("/zoho/permissions", post(zoho_permissions))
        .route("/records/edit", post(edit_record))
        .route("/records/delete", post(delete_record))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "unknown control endpoint"})),
            )
        })
        .with_state(inner)
}

async fn down(State(i): S) -> Json<Value> {
    i.crm.down().await;
    Json(json!({"up": false}))
}

async fn up(State(i): S) -> Response {
    match i.crm.up().await {
        Ok(()) => Json(json!({"up": true})).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn get_faults(State(i): S) -> Json<Faults> {
    Json(i.shared.faults().plan().clone())
}

async fn set_faults(State(i): S, b: Bytes) -> Result<Json<Faults>, ControlError> {
    let faults: Faults = body(&b)?;
    for (name, rate) in [
        ("error_rate", faults.error_rate),
        ("drop_after_commit_rate", faults.drop_after_commit_rate),
        ("truncate_body_rate", faults.truncate_body_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(ControlError(format!("{name} must be between 0 and 1")));
        }
    }
    i.set_faults(faults.clone());
    Ok(Json(faults))
}

async fn clear_faults(State(i): S) -> Json<Faults> {
    i.shared.faults().clear();
    Json(Faults::default())
}

async fn reset(State(i): S) -> Json<Value> {
    i.reset().await;
    Json(json!({"reset": true}))
}

async fn records(State(i): S) -> Json<Value> {
    Json(json!({ "records": i.shared.store().records() }))
}

async fn stats(State(i): S) -> Json<crate::stats::StatsSnapshot> {
    Json(i.shared.stats.snapshot())
}

async fn requests(State(i): S) -> Json<Value> {
    Json(json!({ "requests": i.shared.stats.log() }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TokenSel {
    token: Option<String>,
}

async fn expire(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let sel: TokenSel = body(&b)?;
    let n = i.shared.tokens().expire(sel.token.as_deref(), Utc::now());
    Ok(Json(json!({"expired": n})))
}

async fn revoke(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let sel: TokenSel = body(&b)?;
    let n = i.shared.tokens().revoke(sel.token.as_deref());
    Ok(Json(json!({"revoked": n})))
}

async fn restore(State(i): S) -> Json<Value> {
    i.restore_tokens();
    Json(json!({"restored": true}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScopesReq {
    token: Option<String>,
    /// Granted scopes; `null` grants all.
    scopes: Option<Vec<String>>,
}

async fn scopes(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ScopesReq = body(&b)?;
    let n = i
        .shared
        .tokens()
        .set_scopes(req.token.as_deref(), req.scopes);
    Ok(Json(json!({"updated": n})))
}

async fn issue(State(i): S) -> Json<Value> {
    let mut tokens = i.shared.tokens();
    let token = tokens.issue(Utc::now());
    Json(json!({"access_token": token, "expires_in": tokens.lifetime().as_secs()}))
}

fn limits_json(i: &Inner) -> Value {
    let show = |api| {
        i.shared
            .limiter(api)
            .limit()
            .map_or_else(|| "off".to_string(), |l| l.to_string())
    };
    json!({
        "hubspot": show(Api::Hubspot),
        "rest": show(Api::Rest),
        "salesforce": show(Api::Salesforce),
        "dynamics": show(Api::Dynamics),
        "retry_after": i.shared.retry_after.load(Ordering::Relaxed),
    })
}

async fn get_rate_limit(State(i): S) -> Json<Value> {
    Json(limits_json(&i))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RateLimitReq {
    /// `"100/10s"` or `"off"`.
    hubspot: Option<String>,
    rest: Option<String>,
    /// `"100000/1440m"` or `"off"`.
    salesforce: Option<String>,
    /// `"6000/300s"` or `"off"`.
    dynamics: Option<String>,
    retry_after: Option<bool>,
}

async fn set_rate_limit(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: RateLimitReq = body(&b)?;
    let parse = |s: &Option<String>| {
        s.as_deref()
            .map(parse_rate_limit)
            .transpose()
            .map_err(|e| ControlError(e.to_string()))
    };
    let (hubspot, rest) = (parse(&req.hubspot)?, parse(&req.rest)?);
    if let Some(l) = parse(&req.salesforce)? {
        i.shared.limiter(Api::Salesforce).set_limit(l);
    }
    if let Some(l) = parse(&req.dynamics)? {
        i.shared.set_dynamics_limit(l);
    }
    if let Some(l) = hubspot {
        i.shared.limiter(Api::Hubspot).set_limit(l);
    }
    if let Some(l) = rest {
        i.shared.limiter(Api::Rest).set_limit(l);
    }
    if let Some(on) = req.retry_after {
        i.shared.retry_after.store(on, Ordering::Relaxed);
    }
    Ok(Json(limits_json(&i)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LagReq {
    ms: u64,
}

async fn search_lag(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: LagReq = body(&b)?;
    i.shared.set_search_lag(Duration::from_millis(req.ms));
    Ok(Json(json!({"search_lag_ms": req.ms})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct KeyFormatReq {
    /// The shop whose keys the REST API asks for; `null`: any key.
    shop: Option<u32>,
}

async fn get_key_format(State(i): S) -> Json<Value> {
    Json(json!({"shop": i.shared.rest_key_shop()}))
}

async fn set_key_format(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: KeyFormatReq = body(&b)?;
    let max = crate::api::rest::key_format::MAX_SHOP;
    if req.shop.is_some_and(|s| !(1..=max).contains(&s)) {
        return Err(ControlError(format!("shop must be 1 to {max}, or null")));
    }
    i.shared.set_rest_key_shop(req.shop);
    Ok(Json(json!({"shop": req.shop})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RemovePropertyReq {
    object: String,
    name: String,
}

async fn remove_property(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: RemovePropertyReq = body(&b)?;
    let ty = ObjectType::from_path(&req.object)
        .ok_or_else(|| ControlError(format!("unknown object type {:?}", req.object)))?;
    crate::api::hubspot::properties::remove(&i.shared, ty, &req.name)
        .map_err(|e| ControlError(e.message))?;
    Ok(Json(json!({"removed": req.name})))
}

/// `{"object": "contacts", ...HubSpot's property create body}`.
async fn create_property(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let mut req: serde_json::Map<String, Value> = body(&b)?;
    let object = match req.remove("object") {
        None => "contacts".to_owned(),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ControlError(format!(
                "object must be a string, not {other}"
            )))
        }
    };
    let name = req.get("name").cloned().unwrap_or(Value::Null);
    i.create_hubspot_property(&object, Value::Object(req))
        .map_err(ControlError)?;
    Ok(Json(json!({ "created": name })))
}

async fn rest_fields(State(i): S) -> Json<Value> {
    let fields: Vec<CustomField> = i
        .shared
        .store()
        .rest
        .custom_fields
        .values()
        .cloned()
        .collect();
    Json(json!({ "fields": fields }))
}

async fn define_rest_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let field: CustomField = serde_json::from_slice(&b)
        .map_err(|e| ControlError(format!("invalid field definition: {e}")))?;
    i.define_rest_field(field.clone()).map_err(ControlError)?;
    Ok(Json(json!({ "field": field })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RemoveFieldReq {
    name: String,
}

async fn remove_rest_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: RemoveFieldReq = body(&b)?;
    if !i.remove_rest_field(&req.name) {
        return Err(ControlError(format!("no custom field {:?}", req.name)));
    }
    Ok(Json(json!({ "removed": req.name })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SeedReq {
    /// `hubspot` (default) or `rest`.
    api: Option<Api>,
    /// `contacts` (default) or `companies`; ignored for `rest`.
    object: Option<String>,
    /// Synthetic records to generate.
    count: usize,
    /// Explicit records: HubSpot properties, or REST fields plus `key`.
    records: Vec<BTreeMap<String, String>>,
}

const MAX_SEED: usize = 100_000;

async fn seed(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: SeedReq = body(&b)?;
    if req.count + req.records.len() > MAX_SEED {
        return Err(ControlError(format!("at most {MAX_SEED} records per call")));
    }
    let ids = match req.api.unwrap_or(Api::Hubspot) {
        Api::Hubspot => {
            let object = req.object.unwrap_or_else(|| "contacts".into());
            if ObjectType::from_path(&object).is_none() {
                return Err(ControlError(format!("unknown object type {object:?}")));
            }
            let mut records = req.records;
            records.extend((0..req.count).map(|n| {
                BTreeMap::from([
                    ("email".to_string(), format!("seed{n}@example.com")),
                    ("firstname".to_string(), "Seed".to_string()),
                    ("lastname".to_string(), format!("Contact {n}")),
                    ("name".to_string(), format!("Seed Company {n}")),
                ])
            }));
            i.seed_hubspot(&object, records)
        }
        Api::Salesforce => {
            let object = req.object.unwrap_or_else(|| "Contact".into());
            if crate::api::salesforce::model::SObject::from_name(&object).is_none() {
                return Err(ControlError(format!(
                    "unknown Salesforce object {object:?}"
                )));
            }
            let mut records = req.records;
            records.extend((0..req.count).map(|n| {
                BTreeMap::from([
                    ("Email".to_string(), format!("seed{n}@example.com")),
                    ("FirstName".to_string(), "Seed".to_string()),
                    ("LastName".to_string(), format!("Contact {n}")),
                    ("Company".to_string(), format!("Seed Company {n}")),
                ])
            }));
            i.seed_salesforce(&object, records)
        }
        Api::Dynamics => {
            let mut records = req.records;
            records.extend((0..req.count).map(|n| {
                BTreeMap::from([
                    ("emailaddress1".to_string(), format!("seed{n}@example.com")),
                    ("firstname".to_string(), "Seed".to_string()),
                    ("lastname".to_string(), format!("Contact {n}")),
                    ("company".to_string(), format!("Seed Company {n}")),
                ])
            }));
            i.seed_dynamics(records)
        }
        Api::Zoho => {
            let object = req.object.unwrap_or_else(|| "Contacts".into());
            let leads = object.eq_ignore_ascii_case("Leads");
            let mut records = req.records;
            records.extend((0..req.count).map(|n| {
                let mut r = BTreeMap::from([
                    ("Email".to_string(), format!("seed{n}@example.com")),
                    ("First_Name".to_string(), "Seed".to_string()),
                    ("Last_Name".to_string(), format!("Contact {n}")),
                ]);
                if leads {
                    r.insert("Company".to_string(), format!("Seed Company {n}"));
                }
                r
            }));
            zoho_admin::seed(&i.shared, &object, records).map_err(ControlError)?
        }
        Api::Rest => {
            let mut records = Vec::new();
            for mut r in req.records {
                let key = r
                    .remove("key")
                    .ok_or_else(|| ControlError("each REST record needs a key".into()))?;
                let fields: CustomerFields = serde_json::from_value(json!(r))
                    .map_err(|e| ControlError(format!("invalid REST record: {e}")))?;
                records.push((key, fields));
            }
            records.extend((0..req.count).map(|n| {
                let fields = CustomerFields {
                    first_name: Some("Seed".into()),
                    last_name: Some(format!("Customer {n}")),
                    email: Some(format!("seed{n}@example.com")),
                    ..CustomerFields::default()
                };
                (format!("seed-{n}"), fields)
            }));
            i.seed_rest(records)
        }
    };
    Ok(Json(json!({ "ids": ids })))
}

#[derive(Debug, Deserialize)]
struct EditReq {
    #[serde(flatten)]
    target: crm_user::Target,
    fields: serde_json::Map<String, Value>,
}

/// A person edits a record in the CRM (not through Outpost).
async fn edit_record(State(i): S, b: Bytes) -> Result<Response, ControlError> {
    let req: EditReq =
        serde_json::from_slice(&b).map_err(|e| ControlError(format!("invalid JSON body: {e}")))?;
    let found = i
        .edit_as_crm_user(&req.target, &req.fields)
        .map_err(ControlError)?;
    Ok(found_or_404(found))
}

/// A person deletes a record in the CRM.
async fn delete_record(State(i): S, b: Bytes) -> Result<Response, ControlError> {
    let target: crm_user::Target =
        serde_json::from_slice(&b).map_err(|e| ControlError(format!("invalid JSON body: {e}")))?;
    let found = i.delete_as_crm_user(&target).map_err(ControlError)?;
    Ok(found_or_404(found))
}

fn found_or_404(found: bool) -> Response {
    if found {
        Json(json!({"changed": true})).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such record"})),
        )
            .into_response()
    }
}

fn sf_settings_json(i: &Inner) -> Value {
    let rt = i.shared.salesforce();
    json!({
        "duplicate_rule": rt.duplicate_rule,
        "instance_url": rt.instance_url,
        "rotation": rt.rotation,
    })
}

async fn sf_settings(State(i): S) -> Json<Value> {
    Json(sf_settings_json(&i))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct OnReq {
    on: bool,
}

async fn sf_duplicate_rule(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: OnReq = body(&b)?;
    i.shared.salesforce().duplicate_rule = req.on;
    Ok(Json(sf_settings_json(&i)))
}

async fn sf_rotation(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: OnReq = body(&b)?;
    i.shared.salesforce().rotation = req.on;
    Ok(Json(sf_settings_json(&i)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct UrlReq {
    /// `null`: the emulator's own URL.
    url: Option<String>,
}

async fn sf_instance_url(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: UrlReq = body(&b)?;
    if let Some(u) = &req.url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(ControlError(format!("not an http(s) URL: {u:?}")));
        }
    }
    i.shared.salesforce().instance_url = req.url.map(|u| u.trim_end_matches('/').to_string());
    Ok(Json(sf_settings_json(&i)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SfFieldReq {
    object: Option<String>,
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    length: Option<u32>,
}

async fn sf_define_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: SfFieldReq = body(&b)?;
    let object = req.object.unwrap_or_else(|| "Contact".into());
    let kind = req.kind.unwrap_or_else(|| "string".into());
    i.define_salesforce_field(&object, &req.name, &kind, req.length.unwrap_or(255))
        .map_err(ControlError)?;
    Ok(Json(json!({"created": req.name, "object": object})))
}

async fn sf_remove_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: SfFieldReq = body(&b)?;
    let object = req.object.unwrap_or_else(|| "Contact".into());
    if !i.remove_salesforce_field(&object, &req.name) {
        return Err(ControlError(format!(
            "{object} has no custom field {:?}",
            req.name
        )));
    }
    Ok(Json(json!({"removed": req.name, "object": object})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SfFlagsReq {
    object: Option<String>,
    name: String,
    #[serde(rename = "externalId")]
    external_id: Option<bool>,
    unique: Option<bool>,
}

async fn sf_field_flags(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: SfFlagsReq = body(&b)?;
    let object = req.object.unwrap_or_else(|| "Contact".into());
    let current = {
        let o = crate::api::salesforce::model::SObject::from_name(&object)
            .ok_or_else(|| ControlError(format!("unknown Salesforce object {object:?}")))?;
        let store = i.shared.store();
        store
            .salesforce
            .def(o)
            .field(&req.name)
            .filter(|f| f.custom)
            .map(|f| (f.external_id, f.unique))
    };
    let Some((ext, uniq)) = current else {
        return Err(ControlError(format!(
            "{object} has no custom field {:?}",
            req.name
        )));
    };
    let (ext, uniq) = (req.external_id.unwrap_or(ext), req.unique.unwrap_or(uniq));
    i.set_salesforce_field_flags(&object, &req.name, ext, uniq);
    Ok(Json(
        json!({"object": object, "name": req.name, "externalId": ext, "unique": uniq}),
    ))
}

async fn sf_expire_locators(State(i): S) -> Json<Value> {
    let n = crate::api::salesforce::query::expire_locators(&i.shared);
    Json(json!({"expired": n}))
}

fn dv_settings_json(i: &Inner) -> Value {
    let rt = i.shared.dynamics().clone();
    json!({
        "duplicate_detection": rt.duplicate_detection,
        "duplicate_status": rt.duplicate_status,
        "change_tracking": rt.change_tracking,
        "key_status": rt.key_status,
        "concurrency": i.shared.dynamics_concurrency.load(Ordering::SeqCst),
        "batch_counts_operations": rt.batch_counts_operations,
        "create_contact": rt.can_create,
        "in_flight": i.shared.dynamics_in_flight.load(Ordering::SeqCst),
    })
}

async fn dv_settings(State(i): S) -> Json<Value> {
    Json(dv_settings_json(&i))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DuplicateReq {
    on: bool,
    /// 412 (default) or 500.
    status: Option<u16>,
}

async fn dv_duplicate_detection(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: DuplicateReq = body(&b)?;
    if req.status.is_some_and(|s| s != 412 && s != 500) {
        return Err(ControlError("status must be 412 or 500".into()));
    }
    {
        let mut rt = i.shared.dynamics();
        rt.duplicate_detection = req.on;
        if let Some(s) = req.status {
            rt.duplicate_status = s;
        }
    }
    Ok(Json(dv_settings_json(&i)))
}

async fn dv_change_tracking(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: OnReq = body(&b)?;
    i.shared.dynamics().change_tracking = req.on;
    Ok(Json(dv_settings_json(&i)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyReq {
    /// `Active`, `Pending` or `Failed`.
    status: crate::api::dynamics::KeyStatus,
}

async fn dv_key_status(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: KeyReq =
        serde_json::from_slice(&b).map_err(|e| ControlError(format!("invalid JSON body: {e}")))?;
    i.shared.dynamics().key_status = Some(req.status);
    Ok(Json(dv_settings_json(&i)))
}

async fn dv_remove_key(State(i): S) -> Json<Value> {
    i.shared.dynamics().key_status = None;
    Json(dv_settings_json(&i))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConcurrencyReq {
    /// Concurrent request cap; 0 turns it off.
    max: u32,
}

async fn dv_concurrency(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ConcurrencyReq = body(&b)?;
    i.shared
        .dynamics_concurrency
        .store(req.max, Ordering::SeqCst);
    Ok(Json(dv_settings_json(&i)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BatchCountingReq {
    /// `true` (default): each `$batch` operation counts as a request too;
    /// `false`: a batch counts once against the request limit (its
    /// operations still use execution time).
    operations: bool,
}

async fn dv_batch_counting(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: BatchCountingReq = body(&b)?;
    i.shared.dynamics().batch_counts_operations = req.operations;
    Ok(Json(dv_settings_json(&i)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivilegesReq {
    /// The application user holds `prvCreateContact`.
    create_contact: bool,
}

async fn dv_privileges(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: PrivilegesReq =
        serde_json::from_slice(&b).map_err(|e| ControlError(format!("invalid JSON body: {e}")))?;
    i.shared.dynamics().can_create = req.create_contact;
    Ok(Json(dv_settings_json(&i)))
}

async fn zoho_settings(State(i): S) -> Json<Value> {
    Json(zoho_admin::settings(&i.shared))
}

async fn zoho_change_settings(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: zoho_admin::SettingsChange = body(&b)?;
    zoho_admin::change_settings(&i.shared, req).map_err(ControlError)?;
    Ok(Json(zoho_admin::settings(&i.shared)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CreditsReq {
    /// Credits per rolling 24 h; 0 turns the budget off.
    max: u64,
    /// Credits already used in the window (replaces its history).
    used: Option<u64>,
}

async fn zoho_credits(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: CreditsReq = body(&b)?;
    zoho_admin::set_credits(&i.shared, req.max, req.used);
    Ok(Json(zoho_admin::settings(&i.shared)))
}

async fn zoho_concurrency(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ConcurrencyReq = body(&b)?;
    zoho_admin::set_concurrency(&i.shared, req.max);
    Ok(Json(zoho_admin::settings(&i.shared)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RefreshTokenReq {
    /// Default: the emulator's data centre.
    data_centre: Option<String>,
}

async fn zoho_refresh_token(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: RefreshTokenReq = body(&b)?;
    let dc = req
        .data_centre
        .unwrap_or_else(|| i.shared.zoho().data_centre.clone());
    let token = zoho_admin::issue_refresh_token(&i.shared, Some(&dc));
    Ok(Json(json!({"refresh_token": token, "data_centre": dc})))
}

async fn zoho_expire_page_tokens(State(i): S) -> Json<Value> {
    Json(json!({"expired": zoho_admin::expire_page_tokens(&i.shared)}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ZohoFieldReq {
    /// `Contacts` (default) or `Leads`.
    module: Option<String>,
    api_name: String,
    data_type: Option<String>,
    length: Option<u32>,
    unique: Option<bool>,
    restricted: Option<bool>,
}

async fn zoho_define_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ZohoFieldReq = body(&b)?;
    let module = req.module.unwrap_or_else(|| "Contacts".into());
    zoho_admin::define_field(
        &i.shared,
        &module,
        &req.api_name,
        req.data_type.as_deref().unwrap_or("text"),
        req.length.unwrap_or(255),
        req.unique.unwrap_or(false),
    )
    .map_err(ControlError)?;
    Ok(Json(json!({"created": req.api_name, "module": module})))
}

async fn zoho_remove_field(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ZohoFieldReq = body(&b)?;
    let module = req.module.unwrap_or_else(|| "Contacts".into());
    if !zoho_admin::remove_field(&i.shared, &module, &req.api_name).map_err(ControlError)? {
        return Err(ControlError(format!(
            "{module} has no custom field {:?}",
            req.api_name
        )));
    }
    Ok(Json(json!({"removed": req.api_name, "module": module})))
}

async fn zoho_field_flags(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ZohoFieldReq = body(&b)?;
    let module = req.module.unwrap_or_else(|| "Contacts".into());
    let v = zoho_admin::set_field_flags(
        &i.shared,
        &module,
        &req.api_name,
        req.unique,
        req.restricted,
    )
    .map_err(ControlError)?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZohoPermissionsReq {
    #[serde(default)]
    module: Option<String>,
    /// The profile may create, edit and delete the module's records.
    creatable: bool,
}

async fn zoho_permissions(State(i): S, b: Bytes) -> Result<Json<Value>, ControlError> {
    let req: ZohoPermissionsReq =
        serde_json::from_slice(&b).map_err(|e| ControlError(format!("invalid JSON body: {e}")))?;
    let module = req.module.unwrap_or_else(|| "Contacts".into());
    zoho_admin::set_creatable(&i.shared, &module, req.creatable).map_err(ControlError)?;
    Ok(Json(zoho_admin::settings(&i.shared)))
}

async fn zoho_grant_code(State(i): S) -> Json<Value> {
    Json(json!({"code": zoho_admin::issue_grant_code(&i.shared)}))
}
