//! Outpost's generic REST contract (docs/crm-rest-api.md).

pub mod error;
pub mod key_format;
pub mod model;
pub mod oauth;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use self::error::RestError;
use self::model::{validate_key, Customer, CustomerFields, IdempotentReply};
use crate::api::body::read_limited;
use crate::auth::bearer;
use crate::state::{durable, Api, Shared};
use crate::store::REST_KIND;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/customers/{key}",
            get(get_customer)
                .put(put_customer)
                .patch(patch_customer)
                .delete(delete_customer),
        )
        // A static segment wins over `{key}`: the key `deleted` is reserved.
        .route("/customers/deleted", get(list_deleted))
        .route("/customers", get(list_customers))
        .route("/metadata", get(metadata))
        .route_layer(axum::middleware::from_fn_with_state(
            (shared, Api::Rest),
            crate::api::limit::rate_limit,
        ))
        // Health stays outside auth and the rate limit: it is a liveness probe.
        .route("/health", get(health))
        // The token endpoint authenticates clients itself and is not rate limited.
        .route(
            "/oauth/token",
            axum::routing::post(|State(s): State<Arc<Shared>>, h: HeaderMap, b: Body| {
                oauth::token(s, h, b)
            }),
        )
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), RestError> {
    shared
        .tokens()
        .check(bearer(headers), None, Utc::now())
        .map_err(RestError::from)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn put_customer(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, RestError> {
    authorize(&shared, &headers)?;
    let body = read_limited(body, shared.config.max_body_bytes).await?;
    validate_key(&key)?;
    if let Some(shop) = shared.rest_key_shop() {
        key_format::check(&key, shop)?;
    }
    let custom = shared.store().rest.custom_fields.clone();
    let fields = CustomerFields::parse(&body, &custom)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fingerprint = format!(
        "PUT {key} {}",
        serde_json::to_string(&fields).expect("fields serialize")
    );

    let (status, reply, barrier) = {
        let mut store = shared.store();
        if let Some(ik) = &idempotency_key {
            if let Some(prev) = store.rest.idempotency.get(ik) {
                if prev.fingerprint != fingerprint {
                    return Err(RestError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used with a different request",
                    ));
                }
                let status = StatusCode::from_u16(prev.status).unwrap_or(StatusCode::OK);
                return Ok(json_bytes(status, prev.body.clone()));
            }
        }
        let now = model::now();
        let rest = &mut store.rest;
        let (status, customer, changed) = match rest.customers.get_mut(&key) {
            Some(c) if c.fields == fields => (StatusCode::OK, c.clone(), false),
            Some(c) => {
                c.fields = fields;
                c.updated_at = now;
                c.version += 1;
                (StatusCode::OK, c.clone(), true)
            }
            None => {
                let c = Customer {
                    id: Customer::format_id(rest.next_id),
                    key: key.clone(),
                    fields,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                };
                rest.next_id += 1;
                rest.customers.insert(key.clone(), c.clone());
                (StatusCode::CREATED, c, true)
            }
        };
        let reply = serde_json::to_vec(&customer).expect("customer serializes");
        if let Some(ik) = idempotency_key {
            store.rest.idempotency.insert(
                ik,
                IdempotentReply {
                    fingerprint,
                    status: status.as_u16(),
                    body: reply.clone(),
                },
            );
        }
        if changed {
            store.put(REST_KIND, &key, &customer);
        }
        if status == StatusCode::CREATED {
            store.forget_rest_tombstone(&key);
        }
        (status, reply, store.barrier())
    };
    durable(barrier).await;
    Ok(json_bytes(status, reply))
}

/// The record's version in `If-Match` (`"7"`, `W/"7"` or `7`), or `*`.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, RestError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Err(RestError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "PATCH needs If-Match with the record's version (or *)",
        ));
    };
    let text = raw.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse().map(Some).map_err(|_| {
        RestError::bad_request("invalid_if_match", "If-Match must be a record version or *")
    })
}

/// A conditional partial update: only the fields in the body change, and
/// only while the record is still at the version `If-Match` names; else
/// 412 with the current record, so the client can merge and try again.
async fn patch_customer(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, RestError> {
    authorize(&shared, &headers)?;
    let body = read_limited(body, shared.config.max_body_bytes).await?;
    let expected = if_match(&headers)?;
    let patch: serde_json::Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(RestError::bad_request(
                "invalid_json",
                "request body must be a JSON object of the fields to change",
            ))
        }
    };
    let (reply, barrier) = {
        let mut store = shared.store();
        let custom = store.rest.custom_fields.clone();
        let Some(current) = store.rest.customers.get(&key).cloned() else {
            return Err(RestError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no customer with key {key:?}"),
            ));
        };
        if expected.is_some_and(|v| v != current.version) {
            let body = serde_json::to_vec(&current).expect("customer serializes");
            return Ok((
                StatusCode::PRECONDITION_FAILED,
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::ETAG, current.etag()),
                ],
                body,
            )
                .into_response());
        }
        // The record as it would be, validated as a whole like a PUT.
        let mut merged = match serde_json::to_value(&current.fields) {
            Ok(Value::Object(m)) => m,
            _ => unreachable!("fields serialize to an object"),
        };
        merged.extend(patch);
        let merged = serde_json::to_vec(&Value::Object(merged)).expect("json serializes");
        let fields = CustomerFields::parse(&merged, &custom)?;
        let c = store
            .rest
            .customers
            .get_mut(&key)
            .expect("looked up above under the same lock");
        if c.fields != fields {
            c.fields = fields;
            c.updated_at = model::now();
            c.version += 1;
        }
        let customer = c.clone();
        store.put(REST_KIND, &key, &customer);
        (customer, store.barrier())
    };
    durable(barrier).await;
    let etag = reply.etag();
    let body = serde_json::to_vec(&reply).expect("customer serializes");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response())
}

/// Deletes a customer; its tombstone is listed by `GET /customers/deleted`.
async fn delete_customer(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, RestError> {
    authorize(&shared, &headers)?;
    let barrier = {
        let mut store = shared.store();
        if !store.delete_rest_customer(&key) {
            return Err(RestError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no customer with key {key:?}"),
            ));
        }
        store.barrier()
    };
    durable(barrier).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_customer(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Customer>, RestError> {
    authorize(&shared, &headers)?;
    let found = shared.store().rest.customers.get(&key).cloned();
    let found = found.ok_or_else(|| {
        RestError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no customer with key {key:?}"),
        )
    })?;
    // The race fault: a person changes the record once it has been read.
    if let Some(race) = shared.faults().take_race() {
        let fields = serde_json::Map::from_iter([(
            race.field.clone(),
            race.value.clone().map_or(Value::Null, Value::String),
        )]);
        if let Err(e) = crate::crm_user::edit_rest(&mut shared.store(), &key, &fields) {
            tracing::warn!("race fault not applied: {e}");
        }
    }
    Ok(Json(found))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    q: Option<String>,
    modified_since: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    /// Only customers whose `country` equals this (case-insensitive).
    country: Option<String>,
}

/// Position after which a page continues. Listing by `modified_since` orders by
/// `(updated_at, id)`; other listings order by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Position {
    Modified { micros: i64, seq: u64 },
    Id { seq: u64 },
}

impl Position {
    fn of(c: &Customer, by_modified: bool) -> Self {
        if by_modified {
            Position::Modified {
                micros: c.updated_at.timestamp_micros(),
                seq: c.seq(),
            }
        } else {
            Position::Id { seq: c.seq() }
        }
    }

    /// Opaque to clients: hex of a small text form.
    fn encode(self) -> String {
        let text = match self {
            Position::Modified { micros, seq } => format!("m{micros}:{seq}"),
            Position::Id { seq } => format!("i{seq}"),
        };
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn decode(cursor: &str) -> Option<Self> {
        if !cursor.len().is_multiple_of(2) || cursor.len() > 128 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
            .collect();
        let text = String::from_utf8(bytes?).ok()?;
        if let Some(rest) = text.strip_prefix('m') {
            let (micros, seq) = rest.split_once(':')?;
            Some(Position::Modified {
                micros: micros.parse().ok()?,
                seq: seq.parse().ok()?,
            })
        } else {
            Some(Position::Id {
                seq: text.strip_prefix('i')?.parse().ok()?,
            })
        }
    }
}

async fn list_customers(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, RestError> {
    authorize(&shared, &headers)?;
    let Query(params) =
        params.map_err(|e| RestError::bad_request("invalid_query", e.body_text()))?;
    let limit = parse_limit(params.limit.as_deref())?;
    let since = params
        .modified_since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    RestError::bad_request(
                        "invalid_modified_since",
                        "modified_since must be an RFC 3339 timestamp",
                    )
                    .with_field("modified_since")
                })
        })
        .transpose()?;
    let by_modified = since.is_some();
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            Position::decode(c)
                .filter(|p| matches!(p, Position::Modified { .. }) == by_modified)
                .ok_or_else(|| {
                    RestError::bad_request("invalid_cursor", "cursor is not valid for this query")
                        .with_field("cursor")
                })
        })
        .transpose()?;
    let needle = params.q.as_deref().map(str::to_lowercase);

    let store = shared.store();
    let mut hits: Vec<(Position, &Customer)> = store
        .rest
        .customers
        .values()
        .filter(|c| since.is_none_or(|t| c.updated_at >= t))
        .filter(|c| {
            params.country.as_deref().is_none_or(|want| {
                c.fields
                    .country
                    .as_deref()
                    .is_some_and(|have| have.eq_ignore_ascii_case(want))
            })
        })
        .filter(|c| {
            needle.as_deref().is_none_or(|n| {
                c.fields
                    .searchable()
                    .iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(n))
            })
        })
        .map(|c| (Position::of(c, by_modified), c))
        .filter(|(p, _)| after.is_none_or(|a| *p > a))
        .collect();
    hits.sort_by_key(|(p, _)| *p);
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next_cursor = more.then(|| hits.last().map(|(p, _)| p.encode())).flatten();
    let items: Vec<&Customer> = hits.into_iter().map(|(_, c)| c).collect();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })))
}

fn parse_limit(raw: Option<&str>) -> Result<usize, RestError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                RestError::bad_request(
                    "invalid_limit",
                    format!("limit must be an integer from 1 to {MAX_LIMIT}"),
                )
                .with_field("limit")
            }),
    }
}

#[derive(Debug, Deserialize)]
struct DeletedParams {
    since: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Where a page of the deletions listing continues: after this
/// `(deleted_at, key)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DeletedPosition {
    micros: i64,
    key: String,
}

impl DeletedPosition {
    fn encode(&self) -> String {
        format!("d{}:{}", self.micros, self.key)
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn decode(cursor: &str) -> Option<Self> {
        if !cursor.len().is_multiple_of(2) || cursor.len() > 512 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
            .collect();
        let text = String::from_utf8(bytes?).ok()?;
        let (micros, key) = text.strip_prefix('d')?.split_once(':')?;
        Some(DeletedPosition {
            micros: micros.parse().ok()?,
            key: key.to_string(),
        })
    }
}

/// Tombstones of deleted customers with `deleted_at >= since`, by
/// `(deleted_at, key)`, paged like `GET /customers`.
async fn list_deleted(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    params: Result<Query<DeletedParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, RestError> {
    authorize(&shared, &headers)?;
    let Query(params) =
        params.map_err(|e| RestError::bad_request("invalid_query", e.body_text()))?;
    let limit = parse_limit(params.limit.as_deref())?;
    let since = params
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    RestError::bad_request("invalid_since", "since must be an RFC 3339 timestamp")
                        .with_field("since")
                })
        })
        .transpose()?;
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            DeletedPosition::decode(c).ok_or_else(|| {
                RestError::bad_request("invalid_cursor", "cursor is not valid for this query")
                    .with_field("cursor")
            })
        })
        .transpose()?;
    let store = shared.store();
    let mut hits: Vec<(DeletedPosition, &model::Tombstone)> = store
        .rest
        .tombstones
        .values()
        .filter(|t| since.is_none_or(|s| t.deleted_at >= s))
        .map(|t| {
            let p = DeletedPosition {
                micros: t.deleted_at.timestamp_micros(),
                key: t.key.clone(),
            };
            (p, t)
        })
        .filter(|(p, _)| after.as_ref().is_none_or(|a| p > a))
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0));
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next_cursor = more.then(|| hits.last().map(|(p, _)| p.encode())).flatten();
    let items: Vec<&model::Tombstone> = hits.into_iter().map(|(_, t)| t).collect();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })))
}

/// Form metadata for the customer editor (issue: dynamic forms).
async fn metadata(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, RestError> {
    authorize(&shared, &headers)?;
    let custom = shared.store().rest.custom_fields.clone();
    let mut fields: Vec<Value> = model::FIELDS
        .iter()
        .map(|f| {
            let kind = match *f {
                "email" => "email",
                "phone" => "phone",
                "country" | "lead_source" => "picklist",
                "notes" => "text",
                _ => "string",
            };
            json!({ "name": f, "type": kind, "max_length": model::MAX_FIELD_CHARS, "writable": true })
        })
        .collect();
    fields.extend(custom.values().map(|f| {
        let mut v = json!({
            "name": f.name,
            "type": f.kind,
            "max_length": model::MAX_FIELD_CHARS,
            "writable": f.writable,
        });
        if let Some(label) = &f.label {
            v["label"] = json!(label);
        }
        v
    }));
    let mut picklists = json!({
            "country": [
                {"value": "AT", "label": "Austria"},
                {"value": "BE", "label": "Belgium"},
                {"value": "CH", "label": "Switzerland"},
                {"value": "DE", "label": "Germany"},
                {"value": "ES", "label": "Spain"},
                {"value": "FR", "label": "France"},
                {"value": "GB", "label": "United Kingdom"},
                {"value": "IT", "label": "Italy"},
                {"value": "NL", "label": "Netherlands"},
                {"value": "US", "label": "United States"}
            ],
            "lead_source": model::LEAD_SOURCES
                .iter()
                .map(|(value, label)| json!({"value": value, "label": label}))
                .collect::<Vec<_>>()
    });
    for f in custom.values().filter(|f| f.kind == "picklist") {
        picklists[&f.name] = json!(f.options);
    }
    let mut answer = json!({
        "version": 1,
        "required_one_of": ["first_name", "last_name", "company"],
        "fields": fields,
        "picklists": picklists,
    });
    if let Some(shop) = shared.rest_key_shop() {
        answer["key_format"] = key_format::metadata(shop);
    }
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn cursor_round_trip() {
        for p in [
            Position::Modified {
                micros: 1_700_000_000_123_456,
                seq: 42,
            },
            Position::Id { seq: 7 },
        ] {
            assert_eq!(Position::decode(&p.encode()), Some(p));
        }
        let d = super::DeletedPosition {
            micros: 1_700_000_000_123_456,
            key: "a:b-c".into(),
        };
        assert_eq!(super::DeletedPosition::decode(&d.encode()), Some(d));
        assert_eq!(Position::decode("zz"), None);
        assert_eq!(Position::decode("abc"), None);
    }
}
