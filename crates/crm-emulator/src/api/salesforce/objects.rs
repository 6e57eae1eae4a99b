//! sObject rows: create, read, update (with `If-Unmodified-Since`), delete
//! (to the recycle bin), upsert by external id, sObject Collections, and the
//! deleted/updated replication resources.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::error::{parse_json, SfErr, SfError};
use super::model::{
    now, parse_datetime, sf_time, validate, FieldDef, Mode, SObject, SalesforceData, SfRecord,
    DEFAULT_OWNER, KEY_FIELD,
};
use super::{authorize, read_body};
use crate::state::{durable, Shared};
use crate::store::{Store, SALESFORCE_KIND};

/// The sObject Collections limit.
pub const MAX_COLLECTION: usize = 200;

/// Duplicate-rule state of one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx {
    pub duplicate_rule: bool,
    pub allow_save: bool,
}

fn ctx(shared: &Shared, h: &HeaderMap) -> Ctx {
    let allow_save = h
        .get("sforce-duplicate-rule-header")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("allowSave")
                        && v.trim().eq_ignore_ascii_case("true")
                })
            })
        });
    Ctx {
        duplicate_rule: shared.salesforce().duplicate_rule,
        allow_save,
    }
}

fn object(name: &str) -> Result<SObject, SfError> {
    SObject::from_name(name).ok_or_else(SfError::not_found)
}

pub fn persist(store: &Store, id: &str) {
    if let Some(r) = store.salesforce.get(id) {
        store.put(SALESFORCE_KIND, id, r);
    }
}

fn unique_conflicts(
    data: &mut SalesforceData,
    o: SObject,
    values: &std::collections::BTreeMap<String, String>,
    except: Option<&str>,
) -> Vec<SfErr> {
    let unique: Vec<FieldDef> = data
        .def(o)
        .fields
        .iter()
        .filter(|f| f.unique && !f.is_system())
        .cloned()
        .collect();
    let mut errs = Vec::new();
    for f in &unique {
        let Some(v) = values.get(&f.name) else {
            continue;
        };
        if let Some(other) = data
            .find_by(o, f, v)
            .into_iter()
            .find(|id| Some(id.as_str()) != except)
        {
            errs.push(SfErr::new(
                "DUPLICATE_VALUE",
                format!(
                    "duplicate value found: {} duplicates value on record with id: {other}",
                    f.name
                ),
            ));
        }
    }
    errs
}

fn duplicates_detected() -> SfErr {
    SfErr::new(
        "DUPLICATES_DETECTED",
        "You're creating a duplicate record. We recommend you use an existing record instead.",
    )
}

/// Creates a record; returns its id.
pub fn insert(
    data: &mut SalesforceData,
    o: SObject,
    input: &Map<String, Value>,
    ctx: Ctx,
    at: DateTime<Utc>,
) -> Result<String, Vec<SfErr>> {
    let def = data.def(o);
    let changes = validate(def, input, Mode::Insert)?;
    let mut values: std::collections::BTreeMap<String, String> = changes
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    for f in &def.fields {
        if let Some(d) = f.default_value() {
            values
                .entry(f.name.clone())
                .or_insert_with(|| d.to_string());
        }
    }
    if def.field("OwnerId").is_some() {
        values
            .entry("OwnerId".into())
            .or_insert_with(|| DEFAULT_OWNER.to_string());
    }
    let errs = unique_conflicts(data, o, &values, None);
    if !errs.is_empty() {
        return Err(errs);
    }
    if ctx.duplicate_rule && !ctx.allow_save {
        if let (Some(email), Some(f)) = (values.get("Email"), data.def(o).field("Email").cloned()) {
            if !data.find_by(o, &f, email).is_empty() {
                return Err(vec![duplicates_detected()]);
            }
        }
    }
    let id = data.new_id(o);
    data.put(SfRecord {
        id: id.clone(),
        object: o,
        values,
        created: at,
        modified: at,
        deleted: None,
    });
    Ok(id)
}

/// Updates a live record; every update moves LastModifiedDate/SystemModstamp.
pub fn update_record(
    data: &mut SalesforceData,
    id: &str,
    input: &Map<String, Value>,
    at: DateTime<Utc>,
) -> Result<(), Vec<SfErr>> {
    let r = data.get(id).expect("caller checked");
    let o = r.object;
    let changes = validate(data.def(o), input, Mode::Update)?;
    let mut values = r.values.clone();
    for (k, v) in changes {
        match v {
            Some(v) => values.insert(k, v),
            None => values.remove(&k),
        };
    }
    let errs = unique_conflicts(data, o, &values, Some(id));
    if !errs.is_empty() {
        return Err(errs);
    }
    data.modify(id, |r| {
        r.values = values;
        r.modified = at.max(r.modified);
    });
    Ok(())
}

pub enum Upserted {
    Done { id: String, created: bool },
    Multiple(Vec<String>),
    Failed(Vec<SfErr>),
}

/// Upserts by `field` (an external id, or `Id`) = `value`.
pub fn upsert_record(
    data: &mut SalesforceData,
    o: SObject,
    field: &FieldDef,
    value: &str,
    input: &Map<String, Value>,
    ctx: Ctx,
    at: DateTime<Utc>,
) -> Upserted {
    let matches = if field.name == "Id" {
        data.live(o, value)
            .map(|r| r.id.clone())
            .into_iter()
            .collect()
    } else {
        data.find_by(o, field, value)
    };
    match matches.len() {
        0 if field.name == "Id" => Upserted::Failed(vec![SfErr::new(
            "NOT_FOUND",
            "The requested resource does not exist",
        )]),
        0 => {
            let mut m = input.clone();
            m.insert(field.name.clone(), json!(value));
            match insert(data, o, &m, ctx, at) {
                Ok(id) => Upserted::Done { id, created: true },
                Err(e) => Upserted::Failed(e),
            }
        }
        1 => {
            let id = matches.into_iter().next().expect("one");
            let mut m = input.clone();
            m.remove(&field.name);
            match update_record(data, &id, &m, at) {
                Ok(()) => Upserted::Done { id, created: false },
                Err(e) => Upserted::Failed(e),
            }
        }
        _ => Upserted::Multiple(matches),
    }
}

fn body_object(v: Value) -> Result<Map<String, Value>, SfError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(SfError::json_parse(
            "Can not deserialize SObject out of non-object token",
        )),
    }
}

fn field_list<'a>(
    data: &'a SalesforceData,
    o: SObject,
    params: &[(String, String)],
) -> Result<Option<Vec<&'a FieldDef>>, SfError> {
    let Some((_, list)) = params.iter().find(|(k, _)| k == "fields") else {
        return Ok(None);
    };
    let def = data.def(o);
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|n| {
            def.field(n).ok_or_else(|| {
                SfError::bad_request(
                    "INVALID_FIELD",
                    format!("No such column '{n}' on entity '{}'.", o.name()),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub async fn create(
    shared: Arc<Shared>,
    (v, object_name): (String, String),
    h: HeaderMap,
    body: Body,
) -> Response {
    let _ = v;
    let run = async {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let bytes = read_body(&shared, body).await?;
        let input = body_object(parse_json(&bytes)?)?;
        let c = ctx(&shared, &h);
        let (id, barrier) = {
            let mut store = shared.store();
            let id = insert(&mut store.salesforce, o, &input, c, now())
                .map_err(|e| SfError::of(StatusCode::BAD_REQUEST, e))?;
            persist(&store, &id);
            (id, store.barrier())
        };
        durable(barrier).await;
        Ok::<_, SfError>((
            StatusCode::CREATED,
            Json(json!({"id": id, "success": true, "errors": []})),
        ))
    };
    run.await.into_response()
}

pub async fn get_one(
    shared: Arc<Shared>,
    (v, object_name, id): (String, String, String),
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let run = || {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let store = shared.store();
        let data = &store.salesforce;
        let fields = field_list(data, o, &params)?;
        let r = data.live(o, &id).ok_or_else(SfError::not_found)?;
        Ok::<_, SfError>(Json(r.render(data.def(o), fields.as_deref(), &v)))
    };
    run().into_response()
}

fn external_field(data: &SalesforceData, o: SObject, name: &str) -> Result<FieldDef, SfError> {
    data.def(o)
        .field(name)
        .filter(|f| f.external_id || f.name == "Id")
        .cloned()
        .ok_or_else(|| {
            SfError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("Provided external ID field does not exist or is not accessible: {name}"),
            )
        })
}

pub async fn get_by_external(
    shared: Arc<Shared>,
    (v, object_name, field, value): (String, String, String, String),
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let run = || {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let mut store = shared.store();
        let data = &mut store.salesforce;
        let f = external_field(data, o, &field)?;
        let ids = data.find_by(o, &f, &value);
        let fields = field_list(data, o, &params)?;
        match ids.as_slice() {
            [] => Err(SfError::not_found()),
            [one] => Ok(Json(data.get(one).expect("found").render(
                data.def(o),
                fields.as_deref(),
                &v,
            ))
            .into_response()),
            many => Ok(multiple(data, many, &v)),
        }
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// 300 Multiple Choices: the matching records' URLs.
fn multiple(data: &SalesforceData, ids: &[String], v: &str) -> Response {
    let urls: Vec<String> = ids
        .iter()
        .filter_map(|id| data.get(id))
        .map(|r| r.url(v))
        .collect();
    (StatusCode::MULTIPLE_CHOICES, Json(json!(urls))).into_response()
}

fn if_unmodified_since(h: &HeaderMap) -> Option<DateTime<Utc>> {
    let v = h.get("if-unmodified-since")?.to_str().ok()?;
    DateTime::parse_from_rfc2822(v.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn update(
    shared: Arc<Shared>,
    (_v, object_name, id): (String, String, String),
    h: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let bytes = read_body(&shared, body).await?;
        let input = body_object(parse_json(&bytes)?)?;
        let barrier = {
            let mut store = shared.store();
            let full = store
                .salesforce
                .live(o, &id)
                .map(|r| (r.id.clone(), r.modified))
                .ok_or_else(SfError::not_found)?;
            if let Some(since) = if_unmodified_since(&h) {
                if full.1 > since {
                    return Err(SfError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "PRECONDITION_FAILED",
                        format!(
                            "The requested resource has been modified since {}: LastModifiedDate is {}",
                            since.format("%a, %d %b %Y %H:%M:%S GMT"),
                            sf_time(full.1)
                        ),
                    ));
                }
            }
            update_record(&mut store.salesforce, &full.0, &input, now())
                .map_err(|e| SfError::of(StatusCode::BAD_REQUEST, e))?;
            persist(&store, &full.0);
            store.barrier()
        };
        durable(barrier).await;
        Ok::<_, SfError>(StatusCode::NO_CONTENT)
    };
    run.await.into_response()
}

/// Moves a record to the recycle bin. `false`: no such live record.
pub fn delete_record(store: &mut Store, o: SObject, id: &str, at: DateTime<Utc>) -> bool {
    let Some(full) = store.salesforce.live(o, id).map(|r| r.id.clone()) else {
        return false;
    };
    store.salesforce.modify(&full, |r| {
        r.deleted = Some(at);
        r.modified = at.max(r.modified);
    });
    persist(store, &full);
    true
}

pub async fn delete(
    shared: Arc<Shared>,
    (_v, object_name, id): (String, String, String),
    h: HeaderMap,
) -> Response {
    let run = async {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let barrier = {
            let mut store = shared.store();
            if !delete_record(&mut store, o, &id, now()) {
                if store.salesforce.find_any(o, &id).is_some() {
                    return Err(SfError::new(
                        StatusCode::NOT_FOUND,
                        "ENTITY_IS_DELETED",
                        "entity is deleted",
                    ));
                }
                return Err(SfError::not_found());
            }
            store.barrier()
        };
        durable(barrier).await;
        Ok::<_, SfError>(StatusCode::NO_CONTENT)
    };
    run.await.into_response()
}

pub async fn upsert(
    shared: Arc<Shared>,
    (v, object_name, field, value): (String, String, String, String),
    h: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let bytes = read_body(&shared, body).await?;
        let mut input = body_object(parse_json(&bytes)?)?;
        let c = ctx(&shared, &h);
        let (resp, barrier) = {
            let mut store = shared.store();
            let f = external_field(&store.salesforce, o, &field)?;
            if let Some((k, given)) = input
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&f.name))
                .map(|(k, v)| (k.clone(), v.clone()))
            {
                if given
                    .as_str()
                    .is_some_and(|g| g.eq_ignore_ascii_case(&value))
                {
                    input.remove(&k);
                } else {
                    return Err(SfError::bad_request(
                        "INVALID_FIELD",
                        format!("The value of the {} field in the body does not match the value in the URL", f.name),
                    ));
                }
            }
            let resp = match upsert_record(&mut store.salesforce, o, &f, &value, &input, c, now()) {
                Upserted::Done { id, created } => {
                    persist(&store, &id);
                    let status = if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    (
                        status,
                        Json(json!({"id": id, "success": true, "errors": [], "created": created})),
                    )
                        .into_response()
                }
                Upserted::Multiple(ids) => multiple(&store.salesforce, &ids, &v),
                Upserted::Failed(e) => return Err(SfError::of(StatusCode::BAD_REQUEST, e)),
            };
            (resp, store.barrier())
        };
        durable(barrier).await;
        Ok::<_, SfError>(resp)
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectionBody {
    #[serde(default)]
    all_or_none: bool,
    records: Vec<Value>,
}

fn failed(errors: &[SfErr]) -> Value {
    let e: Vec<Value> = errors.iter().map(SfErr::result_view).collect();
    json!({"id": null, "success": false, "errors": e, "created": false})
}

fn rolled_back() -> Value {
    failed(&[SfErr::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )])
}

fn record_type(r: &Map<String, Value>) -> Option<&str> {
    r.get("attributes")?.get("type")?.as_str()
}

/// Runs one collection: `op` per record, then commits or (allOrNone) rolls back.
async fn collection(
    shared: &Shared,
    h: &HeaderMap,
    body: Body,
    mut op: impl FnMut(
        &mut SalesforceData,
        Map<String, Value>,
        Ctx,
        DateTime<Utc>,
    ) -> Result<(String, bool), Vec<SfErr>>,
) -> Result<Response, SfError> {
    authorize(shared, h)?;
    let bytes = read_body(shared, body).await?;
    let req: CollectionBody = parse_json(&bytes)?;
    if req.records.len() > MAX_COLLECTION {
        return Err(SfError::bad_request(
            "EXCEEDED_ID_LIMIT",
            format!("record limit reached. cannot submit more than {MAX_COLLECTION} records into this call"),
        ));
    }
    let c = ctx(shared, h);
    let at = now();
    let (out, barrier) = {
        let mut store = shared.store();
        let snapshot = req.all_or_none.then(|| store.salesforce.clone());
        let mut results: Vec<Result<(String, bool), Vec<SfErr>>> = Vec::new();
        for r in req.records {
            let res = match r {
                Value::Object(m) => op(&mut store.salesforce, m, c, at),
                _ => Err(vec![SfErr::new(
                    "JSON_PARSER_ERROR",
                    "each record must be an object",
                )]),
            };
            results.push(res);
        }
        let any_failed = results.iter().any(Result::is_err);
        if let (true, Some(snap)) = (any_failed, snapshot) {
            store.salesforce = snap;
            let out: Vec<Value> = results
                .iter()
                .map(|r| match r {
                    Ok(_) => rolled_back(),
                    Err(e) => failed(e),
                })
                .collect();
            (out, None)
        } else {
            let touched: BTreeSet<&String> = results
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|(id, _)| id)
                .collect();
            for id in touched {
                persist(&store, id);
            }
            let out: Vec<Value> = results
                .iter()
                .map(|r| match r {
                    Ok((id, created)) => {
                        json!({"id": id, "success": true, "errors": [], "created": created})
                    }
                    Err(e) => failed(e),
                })
                .collect();
            (out, store.barrier())
        }
    };
    durable(barrier).await;
    Ok(Json(Value::Array(out)).into_response())
}

pub async fn collection_create(
    shared: Arc<Shared>,
    _v: String,
    h: HeaderMap,
    body: Body,
) -> Response {
    collection(&shared, &h, body, |data, m, c, at| {
        let o = record_type(&m)
            .and_then(SObject::from_name)
            .ok_or_else(|| {
                vec![SfErr::new(
                    "INVALID_TYPE",
                    "Must specify a valid sObject type in attributes",
                )]
            })?;
        insert(data, o, &m, c, at).map(|id| (id, true))
    })
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

pub async fn collection_upsert(
    shared: Arc<Shared>,
    (_v, object_name, field): (String, String, String),
    h: HeaderMap,
    body: Body,
) -> Response {
    let run = async {
        let o = object(&object_name)?;
        authorize(&shared, &h)?;
        let f = external_field(&shared.store().salesforce, o, &field)?;
        collection(&shared, &h, body, |data, mut m, c, at| {
            if record_type(&m).is_some_and(|t| SObject::from_name(t) != Some(o)) {
                return Err(vec![SfErr::new(
                    "INVALID_TYPE",
                    format!("Records must all be of type {}", o.name()),
                )]);
            }
            let key = m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&f.name))
                .map(|(k, v)| (k.clone(), v.clone()));
            let value = match key {
                Some((k, Value::String(s))) if !s.is_empty() => {
                    m.remove(&k);
                    s
                }
                _ => {
                    return Err(vec![SfErr::new(
                        "MISSING_ARGUMENT",
                        format!("{} not specified", f.name),
                    )
                    .on(f.name.clone())])
                }
            };
            match upsert_record(data, o, &f, &value, &m, c, at) {
                Upserted::Done { id, created } => Ok((id, created)),
                Upserted::Failed(e) => Err(e),
                Upserted::Multiple(ids) => Err(vec![SfErr::new(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{}: more than one record found for external id field: [{}]",
                        f.name,
                        ids.join(", ")
                    ),
                )
                .on(f.name.clone())]),
            }
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /composite/sobjects/{object}` with `{"ids": [...], "fields": [...]}`:
/// the same answer as the GET form, for id lists too long for a URL.
pub async fn collection_post(
    shared: Arc<Shared>,
    path: (String, String),
    h: HeaderMap,
    body: Body,
) -> Response {
    #[derive(serde::Deserialize)]
    struct Ids {
        ids: Vec<String>,
        #[serde(default)]
        fields: Vec<String>,
    }
    let bytes = match read_body(&shared, body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let ids: Ids = match parse_json(&bytes) {
        Ok(ids) => ids,
        Err(e) => return e.into_response(),
    };
    let mut params = vec![("ids".to_owned(), ids.ids.join(","))];
    if !ids.fields.is_empty() {
        params.push(("fields".to_owned(), ids.fields.join(",")));
    }
    collection_get(shared, path, params, h).await
}

pub async fn collection_get(
    shared: Arc<Shared>,
    (v, object_name): (String, String),
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let run = || {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let store = shared.store();
        let data = &store.salesforce;
        let fields = field_list(data, o, &params)?;
        let ids: Vec<&str> = params
            .iter()
            .find(|(k, _)| k == "ids")
            .map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(SfError::bad_request(
                "MISSING_ARGUMENT",
                "ids not specified",
            ));
        }
        if ids.len() > 2000 {
            return Err(SfError::bad_request(
                "EXCEEDED_ID_LIMIT",
                "too many ids: at most 2000",
            ));
        }
        let out: Vec<Value> = ids
            .iter()
            .map(|id| {
                data.live(o, id).map_or(Value::Null, |r| {
                    r.render(data.def(o), fields.as_deref(), &v)
                })
            })
            .collect();
        Ok::<_, SfError>(Json(Value::Array(out)))
    };
    run().into_response()
}

fn window(params: &[(String, String)]) -> Result<(DateTime<Utc>, DateTime<Utc>), SfError> {
    let get = |k: &str| {
        let v = params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                SfError::bad_request("MISSING_ARGUMENT", format!("{k} not specified"))
            })?;
        parse_datetime(v).ok_or_else(|| {
            SfError::bad_request(
                "INVALID_DATE_FORMAT",
                format!("{k}: invalid date format: {v}"),
            )
        })
    };
    let (start, end) = (get("start")?, get("end")?);
    if end < start {
        return Err(SfError::bad_request(
            "INVALID_REPLICATION_DATE",
            "end date is before start date",
        ));
    }
    Ok((start, end))
}

fn covered(end: DateTime<Utc>) -> String {
    let latest = end.min(Utc::now());
    let minute = latest.timestamp() - latest.timestamp().rem_euclid(60);
    sf_time(DateTime::from_timestamp(minute, 0).unwrap_or(latest))
}

/// `GET /sobjects/{Object}/deleted/?start&end`.
pub async fn deleted(
    shared: Arc<Shared>,
    (_v, object_name): (String, String),
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let run = || {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let (start, end) = window(&params)?;
        let store = shared.store();
        let mut all: Vec<(&String, DateTime<Utc>)> = store
            .salesforce
            .records()
            .filter(|r| r.object == o)
            .filter_map(|r| r.deleted.map(|d| (&r.id, d)))
            .collect();
        all.sort_by_key(|(id, d)| (*d, (*id).clone()));
        let earliest = all.first().map_or(start, |(_, d)| *d);
        let list: Vec<Value> = all
            .iter()
            .filter(|(_, d)| *d >= start && *d <= end)
            .map(|(id, d)| json!({"id": id, "deletedDate": sf_time(*d)}))
            .collect();
        Ok::<_, SfError>(Json(json!({
            "deletedRecords": list,
            "earliestDateAvailable": sf_time(earliest),
            "latestDateCovered": covered(end),
        })))
    };
    run().into_response()
}

/// `GET /sobjects/{Object}/updated/?start&end` (by SystemModstamp).
pub async fn updated(
    shared: Arc<Shared>,
    (_v, object_name): (String, String),
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let run = || {
        authorize(&shared, &h)?;
        let o = object(&object_name)?;
        let (start, end) = window(&params)?;
        let store = shared.store();
        let ids: Vec<&String> = store
            .salesforce
            .records()
            .filter(|r| {
                r.object == o && r.deleted.is_none() && r.modified >= start && r.modified <= end
            })
            .map(|r| &r.id)
            .collect();
        Ok::<_, SfError>(Json(json!({"ids": ids, "latestDateCovered": covered(end)})))
    };
    run().into_response()
}

/// A key field's value of a record, if the object still has that field.
pub fn key_of(r: &SfRecord) -> Option<String> {
    r.values.get(KEY_FIELD).cloned()
}
