//! Dataverse (Dynamics 365) Web API emulation (`/api/data/v9.x/...`): the
//! Entra ID token endpoint (`/{tenant}/oauth2/v2.0/token`), `WhoAmI`, the
//! `contacts` entity set (create, get, upsert by id or alternate key,
//! preconditions, delete), `$batch`, the strict query subset with paging and
//! change tracking, `EntityDefinitions` metadata, and the service protection
//! limits.

pub mod batch;
pub mod call;
pub mod error;
pub mod filter;
pub mod limits;
pub mod metadata;
pub mod model;
pub mod oauth;
pub mod privileges;
pub mod query;
pub mod records;
pub mod reply;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use chrono::Utc;
use serde::Serialize;
use serde_json::json;

pub use self::call::{parse_query, pct_decode, pct_encode, Call, Prefer};
use self::error::DvError;
use self::reply::Reply;
use crate::api::body::read_limited;
use crate::state::Shared;
use crate::store::Store;

/// Status of the alternate key's index, as `EntityKeyIndexStatus` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum KeyStatus {
    Active,
    Pending,
    Failed,
}

/// Dataverse switches and the key's state (memory only; `reset` restores them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynRuntime {
    /// Duplicate detection rules published (still only applied when a
    /// request sends `MSCRM.SuppressDuplicateDetection: false`).
    pub duplicate_detection: bool,
    /// The status a blocked save answers: 412 (default) or 500 (as one
    /// documentation page shows).
    pub duplicate_status: u16,
    /// Change tracking enabled on contact.
    pub change_tracking: bool,
    /// The `outpost_key` alternate key: `None` when an admin removed it.
    pub key_status: Option<KeyStatus>,
    /// Each `$batch` operation counts against the request limit (on top of
    /// the batch itself); off: the batch counts once. Either way every
    /// operation is charged execution time.
    pub batch_counts_operations: bool,
    /// The application user holds `prvCreateContact`.
    pub can_create: bool,
}

impl Default for DynRuntime {
    fn default() -> Self {
        DynRuntime {
            duplicate_detection: false,
            duplicate_status: 412,
            change_tracking: true,
            key_status: Some(KeyStatus::Active),
            batch_counts_operations: true,
            can_create: true,
        }
    }
}

/// `v9.0` to `v9.2`.
pub fn version_ok(v: &str) -> bool {
    matches!(v, "v9.0" | "v9.1" | "v9.2")
}

/// The emulator's own URL (the organization URL).
pub fn own_url(shared: &Shared) -> String {
    shared
        .crm_url
        .get()
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1".to_string())
}

/// `{org}/api/data/{version}`.
pub fn api_base(shared: &Shared, version: &str) -> String {
    format!("{}/api/data/{version}", own_url(shared))
}

/// A valid bearer token (an Entra-issued one or the static token).
pub fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), DvError> {
    shared
        .tokens()
        .check(crate::auth::bearer(headers), None, Utc::now())
        .map_err(DvError::from)
}

fn unauthorized(shared: &Shared, e: DvError) -> Response {
    let challenge = format!(
        "Bearer authorization_uri={}/common/oauth2/authorize, resource_id={}",
        own_url(shared),
        own_url(shared)
    );
    e.reply()
        .header("www-authenticate", challenge)
        .into_response()
}

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let d = "/api/data/{version}";
    let h = any(handle);
    let data = Router::new()
        .route(&format!("{d}/WhoAmI"), h.clone())
        .route(&format!("{d}/WhoAmI()"), h.clone())
        .route(&format!("{d}/contacts"), h.clone())
        .route(&format!("{d}/$batch"), h.clone())
        .route(&format!("{d}/{{record}}"), h.clone())
        .route(&format!("{d}/{{record}}/{{sub}}"), h.clone())
        .route(&format!("{d}/{{record}}/{{sub}}/{{cast}}"), h)
        .route_layer(axum::middleware::from_fn_with_state(
            shared,
            limits::protect,
        ));
    // The token endpoint does not count against the service protection limits.
    data.route(
        "/{tenant}/oauth2/v2.0/token",
        post(
            |State(s): State<Arc<Shared>>, h: axum::http::HeaderMap, b: Body| oauth::token(s, h, b),
        ),
    )
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = uri.path().strip_prefix("/api/data/").unwrap_or("");
    let (version, resource) = rest.split_once('/').unwrap_or((rest, ""));
    if !version_ok(version) {
        return DvError::no_route(method.as_str(), uri.path()).into_response();
    }
    if let Err(e) = authorize(&shared, &headers) {
        return unauthorized(&shared, e);
    }
    // A `$batch` of 1,000 operations is far larger than one record.
    let limit = if resource == "$batch" {
        shared.config.max_body_bytes.max(batch::MAX_BODY_BYTES)
    } else {
        shared.config.max_body_bytes
    };
    let body = match read_limited(body, limit).await {
        Ok(b) => b,
        Err(e) => return DvError::from(e).into_response(),
    };
    let call = Call {
        method,
        version: version.to_string(),
        resource: pct_decode(resource),
        query: parse_query(uri.query()),
        headers,
        body,
    };
    let (reply, barrier) = if call.resource == "$batch" {
        batch::run(&shared, &call)
    } else {
        let mut store = shared.store();
        let reply = dispatch(&shared, &mut store, &call);
        (reply, store.barrier())
    };
    // A write is answered once it is in the state file.
    crate::state::durable(barrier).await;
    reply.into_response()
}

/// Runs one request against the locked store.
pub fn dispatch(shared: &Shared, store: &mut Store, call: &Call) -> Reply {
    match route(shared, store, call) {
        Ok(r) => r,
        Err(e) => e.reply(),
    }
}

fn route(shared: &Shared, store: &mut Store, call: &Call) -> Result<Reply, DvError> {
    let res = call.resource.as_str();
    let m = &call.method;
    if res == "WhoAmI" || res == "WhoAmI()" {
        if *m != Method::GET {
            return Err(not_allowed(call));
        }
        return Ok(Reply::json(
            StatusCode::OK,
            json!({
                "@odata.context": format!("{}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", api_base(shared, &call.version)),
                "BusinessUnitId": model::BUSINESS_UNIT_ID,
                "UserId": model::USER_ID,
                "OrganizationId": model::ORGANIZATION_ID,
            }),
        ));
    }
    if res == "contacts" {
        return match *m {
            Method::GET => query::list(shared, store, call),
            Method::POST => records::create(shared, store, call),
            _ => Err(not_allowed(call)),
        };
    }
    if let Some(inner) = res
        .strip_prefix("contacts(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let target = records::Target::parse(shared, inner)?;
        return match *m {
            Method::GET => records::get(shared, store, call, &target),
            Method::PATCH => records::patch(shared, store, call, &target),
            Method::DELETE => records::delete(shared, store, call, &target),
            _ => Err(not_allowed(call)),
        };
    }
    if privileges::matches(res) {
        if *m != Method::GET {
            return Err(not_allowed(call));
        }
        return privileges::retrieve(shared, call);
    }
    if res.starts_with("EntityDefinitions(") {
        if *m != Method::GET {
            return Err(not_allowed(call));
        }
        return metadata::get(shared, call);
    }
    Err(DvError::no_route(
        m.as_str(),
        &format!("/api/data/{}/{res}", call.version),
    ))
}

fn not_allowed(call: &Call) -> DvError {
    DvError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        error::code::BAD_ARGUMENT,
        format!(
            "The HTTP method '{}' is not allowed on the resource '{}'.",
            call.method, call.resource
        ),
    )
}
