//! Record writes and reads: insert (`POST /{Module}`), upsert
//! (`POST /{Module}/upsert`), update (`PUT /{Module}/{id}`, bulk
//! `PUT /{Module}`), delete (`DELETE /{Module}/{id}`, `?ids=`) and get
//! (`GET /{Module}/{id}`, 204 when unknown). Each record of a batch
//! succeeds or fails on its own; the HTTP status sums them up: insert 201 /
//! 207 / 400, the others 200 / 207 / 400.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::error::ZError;
use super::model::{self, Deleted, FieldDef, Module, RecordError, ZRecord};
use super::{no_content, ok, Answer, Call};
use crate::state::Shared;
use crate::store::{Store, ZOHO_DELETED_KIND, ZOHO_KIND};

/// Records per write call.
pub const MAX_RECORDS: usize = 100;

/// Mirrors a record (or its absence) into the state file.
pub fn persist(store: &Store, id: u64) {
    let key = id.to_string();
    match store.zoho.record(id) {
        Some(r) => store.put(ZOHO_KIND, &key, r),
        None => store.delete(ZOHO_KIND, &key),
    }
    match store.zoho.deleted.get(&id) {
        Some(d) => store.put(ZOHO_DELETED_KIND, &key, d),
        None => store.delete(ZOHO_DELETED_KIND, &key),
    }
}

fn success_details(r: &ZRecord) -> Value {
    let by = json!({"id": model::USER_ID, "name": model::USER_NAME});
    json!({
        "Modified_Time": model::fmt_time(r.modified),
        "Modified_By": by,
        "Created_Time": model::fmt_time(r.created),
        "id": r.id.to_string(),
        "Created_By": by,
    })
}

/// The `data` array of a write body (1 to 100 entries).
fn data_of(call: &Call) -> Result<(Map<String, Value>, Vec<Value>), ZError> {
    let body = call.json()?;
    let Some(Value::Array(data)) = body.get("data") else {
        return Err(
            ZError::bad("MANDATORY_NOT_FOUND", "required field not found")
                .details(json!({"api_name": "data", "json_path": "$.data"})),
        );
    };
    if data.is_empty() {
        return Err(ZError::bad("INVALID_DATA", "invalid data")
            .details(json!({"api_name": "data", "json_path": "$.data"})));
    }
    if data.len() > MAX_RECORDS {
        return Err(ZError::bad("LIMIT_EXCEEDED", "limit exceeded")
            .details(json!({"api_name": "data", "json_path": "$.data", "limit": MAX_RECORDS})));
    }
    let data = data.clone();
    Ok((body, data))
}

fn check_permission(store: &Store, m: Module) -> Result<(), ZError> {
    if store.zoho.modules[&m].creatable {
        Ok(())
    } else {
        Err(ZError::no_permission())
    }
}

fn text_of(values: &BTreeMap<String, Value>, k: &str) -> Option<String> {
    values
        .get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Validates and saves one record: a new one (`target` `None`) or changes
/// to an existing one. Mandatory fields and unique fields are checked
/// against the record as it would be saved.
pub fn write_one(
    store: &mut Store,
    m: Module,
    index: usize,
    input: &Map<String, Value>,
    target: Option<u64>,
) -> Result<u64, RecordError> {
    let defs: Vec<FieldDef> = store.zoho.fields(m).to_vec();
    let changes = model::check_values(&defs, input, index)?;
    let mut values = match target {
        Some(id) => store
            .zoho
            .record(id)
            .expect("the record exists")
            .values
            .clone(),
        None => BTreeMap::new(),
    };
    model::apply(&mut values, changes);
    for d in defs.iter().filter(|d| d.system_mandatory) {
        if text_of(&values, &d.api_name).is_none() {
            return Err(RecordError::mandatory(
                &d.api_name,
                &format!("$.data[{index}].{}", d.api_name),
            ));
        }
    }
    for d in defs.iter().filter(|d| d.unique) {
        let Some(v) = text_of(&values, &d.api_name) else {
            continue;
        };
        let clash = store
            .zoho
            .find_by(m, &d.api_name, &v)
            .into_iter()
            .find(|id| Some(*id) != target);
        if let Some(other) = clash {
            return Err(RecordError {
                code: "DUPLICATE_DATA",
                message: "duplicate data",
                details: json!({
                    "api_name": d.api_name,
                    "json_path": format!("$.data[{index}].{}", d.api_name),
                    "duplicate_record": {
                        "id": other.to_string(),
                        "module": {"api_name": m.name(), "id": m.id()},
                        "Owner": model::user_ref(),
                    },
                }),
            });
        }
    }
    let now = model::now();
    let id = match target {
        Some(id) => {
            store
                .zoho
                .modify(id, |r| {
                    r.values = values;
                    r.modified = now;
                })
                .expect("target exists");
            id
        }
        None => {
            let id = store.zoho.next_id();
            store.zoho.put(ZRecord {
                id,
                module: m,
                values,
                created: now,
                modified: now,
            });
            id
        }
    };
    persist(store, id);
    Ok(id)
}

/// 201/200 all succeeded, 207 mixed, 400 all failed.
fn overall(results: &[Value], all_ok: StatusCode) -> StatusCode {
    let failed = results.iter().filter(|r| r["status"] == "error").count();
    if failed == 0 {
        all_ok
    } else if failed == results.len() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    }
}

fn success(store: &Store, id: u64, message: &str) -> Value {
    json!({
        "code": "SUCCESS",
        "details": success_details(store.zoho.record(id).expect("the record exists")),
        "message": message,
        "status": "success",
    })
}

pub fn insert(store: &mut Store, call: &Call, m: Module) -> Answer {
    check_permission(store, m)?;
    let (_, data) = data_of(call)?;
    let mut results = Vec::with_capacity(data.len());
    for (i, entry) in data.iter().enumerate() {
        let r = match entry.as_object() {
            None => Err(RecordError {
                code: "INVALID_DATA",
                message: "invalid data",
                details: json!({"json_path": format!("$.data[{i}]")}),
            }),
            Some(input) => write_one(store, m, i, input, None),
        };
        results.push(match r {
            Ok(id) => success(store, id, "record added"),
            Err(e) => e.body(),
        });
    }
    let status = overall(&results, StatusCode::CREATED);
    ok(status, json!({"data": results}))
}

/// The fields an upsert matches on: the request's `duplicate_check_fields`,
/// else the module's system duplicate check field (`Email`) and then its
/// user-defined unique fields.
fn check_fields(
    store: &Store,
    body: &Map<String, Value>,
    m: Module,
) -> Result<Vec<String>, ZError> {
    let defs = store.zoho.fields(m);
    match body.get("duplicate_check_fields") {
        None | Some(Value::Null) => {
            let mut out = vec!["Email".to_string()];
            out.extend(
                defs.iter()
                    .filter(|d| d.unique && d.custom)
                    .map(|d| d.api_name.clone()),
            );
            Ok(out)
        }
        Some(Value::Array(names)) => names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let bad = || {
                    ZError::bad("INVALID_DATA", "invalid data").details(json!({
                        "api_name": "duplicate_check_fields",
                        "json_path": format!("$.duplicate_check_fields[{i}]"),
                    }))
                };
                let name = n.as_str().ok_or_else(bad)?;
                let d = defs
                    .iter()
                    .find(|d| d.api_name == name)
                    .filter(|d| d.is_text() || d.api_name == "id")
                    .ok_or_else(bad)?;
                Ok(d.api_name.clone())
            })
            .collect(),
        Some(_) => Err(ZError::bad("INVALID_DATA", "invalid data").details(json!({
            "api_name": "duplicate_check_fields",
            "json_path": "$.duplicate_check_fields",
        }))),
    }
}

pub fn upsert(store: &mut Store, call: &Call, m: Module) -> Answer {
    check_permission(store, m)?;
    let (body, data) = data_of(call)?;
    let fields = check_fields(store, &body, m)?;
    let mut results = Vec::with_capacity(data.len());
    for (i, entry) in data.iter().enumerate() {
        let Some(input) = entry.as_object() else {
            results.push(
                RecordError {
                    code: "INVALID_DATA",
                    message: "invalid data",
                    details: json!({"json_path": format!("$.data[{i}]")}),
                }
                .body(),
            );
            continue;
        };
        let mut matched = None;
        for f in &fields {
            let value = match input.get(f) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => continue,
            };
            if let Some(id) = store.zoho.find_by(m, f, &value).into_iter().next() {
                matched = Some((id, f.clone()));
                break;
            }
        }
        let r = write_one(store, m, i, input, matched.as_ref().map(|(id, _)| *id));
        results.push(match r {
            Ok(id) => {
                let mut s = success(
                    store,
                    id,
                    if matched.is_some() {
                        "record updated"
                    } else {
                        "record added"
                    },
                );
                s["action"] = json!(if matched.is_some() {
                    "update"
                } else {
                    "insert"
                });
                s["duplicate_field"] = matched.map_or(Value::Null, |(_, f)| json!(f));
                s
            }
            Err(e) => e.body(),
        });
    }
    let status = overall(&results, StatusCode::OK);
    ok(status, json!({"data": results}))
}

fn invalid_id(path: &str) -> RecordError {
    RecordError {
        code: "INVALID_DATA",
        message: "the id given seems to be invalid",
        details: json!({"api_name": "id", "json_path": path, "expected_data_type": "bigint"}),
    }
}

pub fn update(store: &mut Store, call: &Call, m: Module, path_id: Option<&str>) -> Answer {
    check_permission(store, m)?;
    let (_, data) = data_of(call)?;
    let mut results = Vec::with_capacity(data.len());
    for (i, entry) in data.iter().enumerate() {
        let r = (|| {
            let input = entry.as_object().ok_or_else(|| RecordError {
                code: "INVALID_DATA",
                message: "invalid data",
                details: json!({"json_path": format!("$.data[{i}]")}),
            })?;
            let path = format!("$.data[{i}].id");
            let id_text = match (path_id, input.get("id")) {
                (Some(id), _) => id.to_string(),
                (None, Some(Value::String(s))) => s.clone(),
                (None, Some(Value::Number(n))) => n.to_string(),
                (None, _) => return Err(RecordError::mandatory("id", &path)),
            };
            let id = id_text
                .parse::<u64>()
                .ok()
                .filter(|id| store.zoho.live(m, *id).is_some())
                .ok_or_else(|| invalid_id(&path))?;
            write_one(store, m, i, input, Some(id))
        })();
        results.push(match r {
            Ok(id) => success(store, id, "record updated"),
            Err(e) => e.body(),
        });
        if path_id.is_some() {
            break;
        }
    }
    let status = overall(&results, StatusCode::OK);
    ok(status, json!({"data": results}))
}

/// Moves a live record to the recycle bin. `false`: no such record.
pub fn remove(store: &mut Store, m: Module, id: u64) -> bool {
    let Some(r) = store.zoho.live(m, id).cloned() else {
        return false;
    };
    store.zoho.remove(id);
    store.zoho.deleted.insert(
        id,
        Deleted {
            id,
            module: m,
            display_name: r.display_name(),
            deleted_time: model::now(),
            created_by: true,
        },
    );
    persist(store, id);
    true
}

pub fn delete(store: &mut Store, call: &Call, m: Module, path_id: Option<&str>) -> Answer {
    check_permission(store, m)?;
    let ids: Vec<String> = match path_id {
        Some(id) => vec![id.to_string()],
        None => call
            .param("ids")
            .ok_or_else(|| ZError::missing_param("ids"))?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    };
    if ids.len() > MAX_RECORDS {
        return Err(ZError::bad("LIMIT_EXCEEDED", "limit exceeded")
            .details(json!({"param": "ids", "limit": MAX_RECORDS})));
    }
    let mut results = Vec::new();
    for text in ids {
        let done = text.parse::<u64>().is_ok_and(|id| remove(store, m, id));
        results.push(if done {
            json!({"code": "SUCCESS", "details": {"id": text}, "message": "record deleted", "status": "success"})
        } else {
            json!({"code": "INVALID_DATA", "details": {"id": text}, "message": "record not deleted", "status": "error"})
        });
    }
    let status = overall(&results, StatusCode::OK);
    ok(status, json!({"data": results}))
}

/// `fields=A,B`: the names asked for (`None`: all).
pub fn fields_param(call: &Call) -> Option<Vec<String>> {
    call.param("fields").map(|f| {
        f.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

pub fn get(shared: &Shared, store: &mut Store, call: &Call, m: Module, id: &str) -> Answer {
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| store.zoho.live(m, *id).is_some())
    else {
        return no_content();
    };
    let fields = fields_param(call);
    let body = store
        .zoho
        .record(id)
        .expect("the record exists")
        .render(store.zoho.fields(m), fields.as_deref());
    race_after_read(shared, store, m, id);
    ok(StatusCode::OK, json!({"data": [body]}))
}

/// The race fault: a person changes a field of the record just read
/// (crate::faults::Race).
fn race_after_read(shared: &Shared, store: &mut Store, m: Module, id: u64) {
    let Some(race) = shared.faults().take_race() else {
        return;
    };
    let value = race.value.map_or(Value::Null, Value::String);
    let fields = Map::from_iter([(race.field.clone(), value)]);
    if let Err(e) = crate::crm_user::edit_zoho(store, m, id, &fields) {
        tracing::warn!("race fault not applied: {e}");
    }
}
