//! `contacts` rows: create (`POST`), read, upsert (`PATCH` by id or by the
//! alternate key, with `If-Match` / `If-None-Match`), delete, and the
//! duplicate-detection and key-uniqueness checks every write makes.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::error::{code, DvError};
use super::model::{self, Contact, KEY_COLUMN};
use super::reply::Reply;
use super::{api_base, Call, KeyStatus};
use crate::state::Shared;
use crate::store::{Store, DYNAMICS_KIND, DYNAMICS_VERSION_KIND};

/// Characters a key value in a URL cannot carry on Dataverse.
pub const KEY_URL_UNSAFE: &str = "<>*%&:/\\";

/// The row a `contacts(...)` segment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Id(String),
    Key(String),
}

impl Target {
    /// `contacts(<guid>)` or `contacts(outpost_key='v')` (`''` escapes `'`).
    pub fn parse(shared: &Shared, inner: &str) -> Result<Target, DvError> {
        if let Some(id) = model::parse_guid(inner) {
            return Ok(Target::Id(id));
        }
        let Some((name, literal)) = inner.split_once('=') else {
            return Err(DvError::bad_request(
                code::BAD_ARGUMENT,
                format!(
                    "Bad Request - Error in query syntax: '{inner}' is neither a GUID nor a key."
                ),
            ));
        };
        let name = name.trim();
        let value = string_literal(literal.trim()).ok_or_else(|| {
            DvError::bad_request(
                code::BAD_ARGUMENT,
                format!("Bad Request - Error in query syntax: {literal} is not a string literal."),
            )
        })?;
        if name == "contactid" {
            return model::parse_guid(&value).map(Target::Id).ok_or_else(|| {
                DvError::bad_request(code::BAD_ARGUMENT, "contactid is not a GUID.")
            });
        }
        // Dataverse cannot route these in a key value (a known limitation of
        // alternate keys in URLs); the connector must avoid them.
        if let Some(c) = value.chars().find(|c| KEY_URL_UNSAFE.contains(*c)) {
            return Err(DvError::bad_request(
                code::BAD_ARGUMENT,
                format!("Bad Request - Error in query syntax: the key value contains '{c}', which an alternate key in a URL cannot carry."),
            ));
        }
        let status = shared.dynamics().key_status;
        match status {
            _ if name != KEY_COLUMN => Err(invalid_key(name)),
            None => Err(invalid_key(name)),
            Some(KeyStatus::Active) => Ok(Target::Key(value)),
            Some(s) => Err(DvError::bad_request(
                code::BAD_ARGUMENT,
                format!("The entity key '{KEY_COLUMN}' of entity 'contact' is not active (its index status is {s:?}); it cannot be used yet."),
            )),
        }
    }
}

fn invalid_key(name: &str) -> DvError {
    DvError::bad_request(
        code::BAD_ARGUMENT,
        format!("The key attribute '{name}' is not a valid key for entity 'contact': no alternate key with that attribute exists."),
    )
}

/// `'it''s'` → `it's`; `None` unless a whole quoted literal.
pub fn string_literal(s: &str) -> Option<String> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

fn find<'a>(store: &'a Store, t: &Target) -> Option<&'a Contact> {
    match t {
        Target::Id(id) => store.dynamics.contacts.get(id),
        Target::Key(k) => store.dynamics.by_key(k),
    }
}

fn missing(t: &Target) -> DvError {
    match t {
        Target::Id(id) => DvError::not_found(format!("contact With Id = {id} Does Not Exist")),
        Target::Key(k) => DvError::not_found(format!(
            "A record with the specified key values does not exist in contact entity ({KEY_COLUMN}='{k}')."
        )),
    }
}

pub fn entity_id(shared: &Shared, version: &str, id: &str) -> String {
    format!("{}/contacts({id})", api_base(shared, version))
}

fn parse_json(call: &Call) -> Result<Map<String, Value>, DvError> {
    match serde_json::from_slice::<Value>(&call.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DvError::bad_request(
            code::BAD_ARGUMENT,
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(DvError::bad_request(
            code::BAD_ARGUMENT,
            format!("Invalid JSON. An unexpected token was found: {e}"),
        )),
    }
}

/// `$select=a,b` as column names, each one checked.
pub fn select(call: &Call) -> Result<Option<Vec<String>>, DvError> {
    let Some(s) = call.param("$select") else {
        return Ok(None);
    };
    let mut cols = Vec::new();
    for c in s.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        model::column(c).ok_or_else(|| DvError::unknown_property(c))?;
        cols.push(c.to_string());
    }
    Ok(Some(cols))
}

fn context(shared: &Shared, call: &Call, select: Option<&[String]>) -> String {
    let cols = select
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    format!(
        "{}/$metadata#contacts{cols}/$entity",
        api_base(shared, &call.version)
    )
}

fn representation(shared: &Shared, call: &Call, c: &Contact, select: Option<&[String]>) -> Value {
    let mut v = c.render(select);
    v["@odata.context"] = json!(context(shared, call, select));
    v
}

/// Writes a row to the state file.
pub fn persist(store: &Store, id: &str) {
    match store.dynamics.contacts.get(id) {
        Some(c) => store.put(DYNAMICS_KIND, id, c),
        None => {
            store.delete(DYNAMICS_KIND, id);
            // A deleted row may have held the highest version: keep the
            // counter so versions (and delta tokens) never go back.
            store.put(DYNAMICS_VERSION_KIND, "version", &store.dynamics.version);
        }
    }
}

/// Key uniqueness and duplicate detection for a row about to be saved.
fn check_conflicts(
    shared: &Shared,
    store: &Store,
    call: &Call,
    row: &Contact,
) -> Result<(), DvError> {
    let key_defined = shared.dynamics().key_status.is_some();
    if let (true, Some(k)) = (key_defined, row.key()) {
        if store
            .dynamics
            .by_key
            .get(k)
            .is_some_and(|other| *other != row.id)
        {
            return Err(DvError::precondition(
                code::DUPLICATE_ENTITY_KEY,
                format!("A record that has the attribute values {k} already exists. The entity key {KEY_COLUMN} requires that this set of attributes contains unique values. Select unique values and try again."),
            ));
        }
    }
    let (on, status) = {
        let rt = shared.dynamics();
        (rt.duplicate_detection, rt.duplicate_status)
    };
    let asked = call
        .header("mscrm.suppressduplicatedetection")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
    if on && asked {
        let email = row.values.get("emailaddress1").and_then(Value::as_str);
        if email.is_some_and(|e| store.dynamics.email_taken(e, &row.id)) {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::PRECONDITION_FAILED);
            return Err(DvError::new(
                status,
                code::DUPLICATE_DETECTED,
                "A record was not created or updated because a duplicate of the current record already exists.",
            ));
        }
    }
    Ok(())
}

/// Validates and stores a new row; `id` from the URL or the body, else new.
fn insert(
    shared: &Shared,
    store: &mut Store,
    call: &Call,
    id: Option<String>,
    values: std::collections::BTreeMap<String, Value>,
) -> Result<String, DvError> {
    super::privileges::check_create(shared)?;
    let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    if store.dynamics.contacts.contains_key(&id) {
        return Err(DvError::precondition(
            code::DUPLICATE_KEY,
            "A record with matching key values already exists.",
        ));
    }
    let mut row_values = std::collections::BTreeMap::new();
    model::apply(&mut row_values, values);
    model::check_required(&row_values)?;
    let at = model::now();
    let version = store.dynamics.version + 1;
    let row = Contact {
        id: id.clone(),
        values: row_values,
        created: at,
        modified: at,
        version,
    };
    check_conflicts(shared, store, call, &row)?;
    store.dynamics.next_version();
    store.dynamics.put(row);
    persist(store, &id);
    Ok(id)
}

/// `POST /contacts`: 204 + `OData-EntityId`, or 201 + the row with
/// `Prefer: return=representation` (then no `OData-EntityId`).
pub fn create(shared: &Shared, store: &mut Store, call: &Call) -> Result<Reply, DvError> {
    let body = parse_json(call)?;
    let (values, id) = model::parse_body(&body)?;
    let sel = select(call)?;
    let id = insert(shared, store, call, id, values)?;
    written(
        shared,
        store,
        call,
        &id,
        StatusCode::CREATED,
        sel.as_deref(),
    )
}

fn written(
    shared: &Shared,
    store: &Store,
    call: &Call,
    id: &str,
    status_with_body: StatusCode,
    sel: Option<&[String]>,
) -> Result<Reply, DvError> {
    let row = &store.dynamics.contacts[id];
    if call.prefer().representation {
        return Ok(
            Reply::json(status_with_body, representation(shared, call, row, sel))
                .header("preference-applied", "return=representation")
                .header("etag", row.etag()),
        );
    }
    Ok(Reply::empty(StatusCode::NO_CONTENT)
        .header("odata-entityid", entity_id(shared, &call.version, id))
        .header("etag", row.etag()))
}

/// `GET contacts(<id>)` / `contacts(outpost_key='k')` with `$select`;
/// `If-None-Match: W/"n"` of the current version → 304.
pub fn get(shared: &Shared, store: &mut Store, call: &Call, t: &Target) -> Result<Reply, DvError> {
    let sel = select(call)?;
    let row = find(store, t).ok_or_else(|| missing(t))?;
    if call
        .header("if-none-match")
        .is_some_and(|v| v.trim() == row.etag())
    {
        return Ok(Reply::empty(StatusCode::NOT_MODIFIED).header("etag", row.etag()));
    }
    let reply = Reply::json(
        StatusCode::OK,
        representation(shared, call, row, sel.as_deref()),
    )
    .header("etag", row.etag());
    let id = row.id.clone();
    race_after_read(shared, store, &id);
    Ok(reply)
}

/// The race fault: a person changes a column of the row just read, so the
/// reader's `@odata.etag` is stale when it writes (crate::faults::Race).
fn race_after_read(shared: &Shared, store: &mut Store, id: &str) {
    let Some(race) = shared.faults().take_race() else {
        return;
    };
    let picklist = model::column(&race.field).is_some_and(|c| c.kind == model::Kind::Picklist);
    let value = match race.value {
        None => Value::Null,
        Some(v) if picklist => v.parse::<i64>().map_or(Value::String(v), |n| json!(n)),
        Some(v) => Value::String(v),
    };
    let fields = Map::from_iter([(race.field.clone(), value)]);
    if let Err(e) = crate::crm_user::edit_dynamics(store, id, &fields) {
        tracing::warn!("race fault not applied: {e}");
    }
}

/// `PATCH`: upsert. No precondition creates or updates; `If-Match: *`
/// updates only (404); `If-None-Match: *` creates only (412);
/// `If-Match: W/"n"` updates only that version (412 when stale).
pub fn patch(
    shared: &Shared,
    store: &mut Store,
    call: &Call,
    t: &Target,
) -> Result<Reply, DvError> {
    let body = parse_json(call)?;
    let (mut values, body_id) = model::parse_body(&body)?;
    let sel = select(call)?;
    let if_match = call.header("if-match").map(str::trim);
    let if_none = call.header("if-none-match").map(str::trim);
    let existing = find(store, t).cloned();
    let Some(mut row) = existing else {
        if if_match.is_some() {
            return Err(missing(t));
        }
        let id = match t {
            Target::Id(id) => Some(id.clone()),
            Target::Key(k) => {
                values.insert(KEY_COLUMN.into(), json!(k));
                body_id
            }
        };
        let id = insert(shared, store, call, id, values)?;
        return written(
            shared,
            store,
            call,
            &id,
            StatusCode::CREATED,
            sel.as_deref(),
        );
    };
    if if_none == Some("*") {
        return Err(DvError::precondition(
            code::DUPLICATE_KEY,
            "A record with matching key values already exists.",
        ));
    }
    if let Some(tag) = if_match.filter(|m| *m != "*") {
        if tag != row.etag() {
            return Err(DvError::precondition(
                code::VERSION_MISMATCH,
                "The version of the existing record doesn't match the RowVersion property provided.",
            ));
        }
    }
    if let Target::Key(k) = t {
        // The URL's key value wins over one in the body.
        values.insert(KEY_COLUMN.into(), json!(k));
    }
    let before = row.values.clone();
    model::apply(&mut row.values, values);
    model::check_required(&row.values)?;
    if row.values != before {
        check_conflicts(shared, store, call, &row)?;
        row.version = store.dynamics.next_version();
        row.modified = model::now().max(row.modified);
        let id = row.id.clone();
        store.dynamics.put(row);
        persist(store, &id);
    }
    let id = find(store, t).map(|r| r.id.clone()).expect("row present");
    written(shared, store, call, &id, StatusCode::OK, sel.as_deref())
}

/// `DELETE`: 204, or 404; `If-Match: W/"n"` must match.
pub fn delete(
    _shared: &Shared,
    store: &mut Store,
    call: &Call,
    t: &Target,
) -> Result<Reply, DvError> {
    let row = find(store, t).ok_or_else(|| missing(t))?;
    if let Some(tag) = call.header("if-match").map(str::trim).filter(|m| *m != "*") {
        if tag != row.etag() {
            return Err(DvError::precondition(
                code::VERSION_MISMATCH,
                "The version of the existing record doesn't match the RowVersion property provided.",
            ));
        }
    }
    let id = row.id.clone();
    store.dynamics.remove(&id);
    persist(store, &id);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
