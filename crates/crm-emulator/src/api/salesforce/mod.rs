//! Salesforce REST API emulation (`/services/data/vNN.0/...`): sObjects
//! `Contact` and `Lead`, external-id upsert, sObject Collections, describe,
//! SOQL query/queryAll with cursors, parameterizedSearch, limits, and the
//! OAuth token endpoint (`/services/oauth2/token`).

pub mod describe;
pub mod error;
pub mod limits;
pub mod model;
pub mod oauth;
pub mod objects;
pub mod query;
pub mod search;
pub mod soql;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde_json::Value;

use self::error::SfError;
use crate::api::body::read_limited;
use crate::state::Shared;

type S = State<Arc<Shared>>;
type Params = Query<Vec<(String, String)>>;
type P2 = Path<(String, String)>;
type P3 = Path<(String, String, String)>;
type P4 = Path<(String, String, String, String)>;

/// A query cursor (`nextRecordsUrl`): the rendered records of one query.
#[derive(Debug)]
pub struct Locator {
    pub records: Vec<Value>,
    pub created: Instant,
    pub batch: usize,
    pub all: bool,
}

/// Salesforce switches and cursors (memory only; `reset` restores them).
#[derive(Debug, Default)]
pub struct SfRuntime {
    /// Standard duplicate rules on: a Contact/Lead with an existing Email is refused.
    pub duplicate_rule: bool,
    /// The `instance_url` the token endpoint names (`None`: the emulator's own URL).
    pub instance_url: Option<String>,
    /// Each refresh answer carries a new refresh token; the old one stops working.
    pub rotation: bool,
    pub locators: HashMap<String, Locator>,
    pub next_locator: u64,
}

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let d = "/services/data/{version}";
    let so = format!("{d}/sobjects/{{object}}");
    let create =
        post(|State(s): S, Path(p): P2, h: HeaderMap, b: Body| objects::create(s, p, h, b));
    let describe = get(|State(s): S, Path(p): P2, h: HeaderMap| describe::describe(s, p, h));
    let deleted = get(|State(s): S, Path(p): P2, Query(q): Params, h: HeaderMap| {
        objects::deleted(s, p, q, h)
    });
    let updated = get(|State(s): S, Path(p): P2, Query(q): Params, h: HeaderMap| {
        objects::updated(s, p, q, h)
    });
    let resources =
        get(|State(s): S, Path(v): Path<String>, h: HeaderMap| describe::resources(s, v, h));
    let list = get(|State(s): S, Path(v): Path<String>, h: HeaderMap| describe::sobjects(s, v, h));
    let query = |all: bool| {
        get(
            move |State(s): S, Path(v): Path<String>, Query(q): Params, h: HeaderMap| {
                query::query(s, v, q, h, all)
            },
        )
    };
    let search = get(
        |State(s): S, Path(v): Path<String>, Query(q): Params, h: HeaderMap| {
            search::search_get(s, v, q, h)
        },
    )
    .post(
        |State(s): S, Path(v): Path<String>, h: HeaderMap, b: Body| search::search_post(s, v, h, b),
    );
    let limits = get(|State(s): S, Path(_v): Path<String>, h: HeaderMap| limits::limits(s, h));
    let data = Router::new()
        .route(d, resources.clone())
        .route(&format!("{d}/"), resources)
        .route(&format!("{d}/sobjects"), list.clone())
        .route(&format!("{d}/sobjects/"), list)
        .route(&so, create.clone())
        .route(&format!("{so}/"), create)
        .route(&format!("{so}/describe"), describe.clone())
        .route(&format!("{so}/describe/"), describe)
        .route(&format!("{so}/deleted"), deleted.clone())
        .route(&format!("{so}/deleted/"), deleted)
        .route(&format!("{so}/updated"), updated.clone())
        .route(&format!("{so}/updated/"), updated)
        .route(
            &format!("{so}/{{id}}"),
            get(|State(s): S, Path(p): P3, Query(q): Params, h: HeaderMap| {
                objects::get_one(s, p, q, h)
            })
            .patch(|State(s): S, Path(p): P3, h: HeaderMap, b: Body| objects::update(s, p, h, b))
            .delete(|State(s): S, Path(p): P3, h: HeaderMap| objects::delete(s, p, h)),
        )
        .route(
            &format!("{so}/{{field}}/{{value}}"),
            get(|State(s): S, Path(p): P4, Query(q): Params, h: HeaderMap| {
                objects::get_by_external(s, p, q, h)
            })
            .patch(|State(s): S, Path(p): P4, h: HeaderMap, b: Body| objects::upsert(s, p, h, b)),
        )
        .route(
            &format!("{d}/composite/sobjects"),
            post(
                |State(s): S, Path(v): Path<String>, h: HeaderMap, b: Body| {
                    objects::collection_create(s, v, h, b)
                },
            ),
        )
        .route(
            &format!("{d}/composite/sobjects/{{object}}"),
            get(|State(s): S, Path(p): P2, Query(q): Params, h: HeaderMap| {
                objects::collection_get(s, p, q, h)
            })
            // jsforce's retrieve([ids]) sends the ids and fields as a body.
            .post(|State(s): S, Path(p): P2, h: HeaderMap, b: Body| {
                objects::collection_post(s, p, h, b)
            }),
        )
        .route(
            &format!("{d}/composite/sobjects/{{object}}/{{field}}"),
            axum::routing::patch(|State(s): S, Path(p): P3, h: HeaderMap, b: Body| {
                objects::collection_upsert(s, p, h, b)
            }),
        )
        // Salesforce also answers with a slash before the query string
        // (simple-salesforce always sends one).
        .route(&format!("{d}/query"), query(false))
        .route(&format!("{d}/query/"), query(false))
        .route(&format!("{d}/queryAll"), query(true))
        .route(&format!("{d}/queryAll/"), query(true))
        .route(
            &format!("{d}/query/{{locator}}"),
            get(|State(s): S, Path(p): P2, h: HeaderMap| query::more(s, p, h)),
        )
        .route(
            &format!("{d}/queryAll/{{locator}}"),
            get(|State(s): S, Path(p): P2, h: HeaderMap| query::more(s, p, h)),
        )
        .route(&format!("{d}/parameterizedSearch"), search.clone())
        .route(&format!("{d}/parameterizedSearch/"), search)
        .route(&format!("{d}/limits"), limits.clone())
        .route(&format!("{d}/limits/"), limits)
        .route_layer(axum::middleware::from_fn_with_state(shared, limits::budget));
    // The token endpoint and the version list do not count against the budget.
    data.route("/services/data", get(describe::versions))
        .route("/services/data/", get(describe::versions))
        .route(
            "/services/oauth2/token",
            post(|State(s): S, b: Body| oauth::token(s, b)),
        )
}

/// The session id of `Authorization: Bearer <token>` (or `OAuth <token>`).
pub fn session(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A valid session: the static token or an unexpired, unrevoked OAuth token.
pub fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), SfError> {
    shared
        .tokens()
        .check(session(headers), None, Utc::now())
        .map_err(SfError::from)
}

pub async fn read_body(shared: &Shared, body: Body) -> Result<Bytes, SfError> {
    Ok(read_limited(body, shared.config.max_body_bytes).await?)
}

/// `v20.0` to `v99.0`.
pub fn version_ok(v: &str) -> bool {
    v.strip_prefix('v')
        .and_then(|r| r.strip_suffix(".0"))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (20..=99).contains(&n))
}

/// The emulator's own URL, as the token endpoint names it by default.
pub fn own_url(shared: &Shared) -> String {
    shared
        .crm_url
        .get()
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1".to_string())
}
