//! Zoho CRM v8 emulation (`/crm/v8/...`; v2, v5, v6 and v7 are the same
//! API, while `/crm/v3/` and `/crm/v4/` stay HubSpot's): the accounts
//! server's `POST /oauth/v2/token`, `users`, `org`, `settings/modules` and
//! `settings/fields` metadata, the `Contacts` and `Leads` modules (insert,
//! upsert, get, update, delete, list with `page`/`page_token` and
//! `If-Modified-Since`, `deleted`, `search` with a strict criteria parser),
//! the rolling 24 h credit budget and the per-org concurrency cap.

pub mod admin;
pub mod error;
pub mod metadata;
pub mod model;
pub mod oauth;
pub mod query;
pub mod records;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use self::error::ZError;
use self::model::Module;
use crate::api::body::read_limited;
use crate::config::Config;
use crate::state::Shared;
use crate::store::Store;

/// The rolling window of the credit budget.
pub const CREDIT_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// Access tokens one refresh token may mint per [`MINT_WINDOW`].
pub const MINTS_PER_WINDOW: usize = 10;
pub const MINT_WINDOW: Duration = Duration::from_secs(600);
/// Live access tokens per refresh token; the next one evicts the oldest.
pub const LIVE_TOKENS: usize = 30;
/// Records `page` reaches; beyond them only `page_token` goes.
pub const PAGE_LIMIT_RECORDS: u64 = 2000;
/// Lifetime of a Zoho access token (`expires_in`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Minting history of one refresh token.
#[derive(Debug, Clone, Default)]
pub struct RefreshState {
    pub data_centre: String,
    pub mints: VecDeque<Instant>,
    pub live: VecDeque<String>,
}

/// Where a `page_token` continues a listing.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub module: Module,
    pub sort_by: String,
    pub desc: bool,
    pub since: Option<DateTime<Utc>>,
    /// Sort key of the last record handed out.
    pub last: (i64, u64),
    pub page: u64,
    pub expires: DateTime<Utc>,
    pub expired: bool,
}

/// Zoho switches, budgets and token bookkeeping (memory only; `reset`
/// restores the configured values).
#[derive(Debug)]
pub struct ZohoRuntime {
    /// `com`, `eu`, `in`, `com.au`, `jp`, ...
    pub data_centre: String,
    /// Credits per rolling 24 h; 0: no budget.
    pub credits_max: u64,
    credit_log: VecDeque<(Instant, u64)>,
    /// The HTTP status of `LIMIT_EXCEEDED` when the credits are gone (400 or 429).
    pub credit_limit_status: u16,
    /// Concurrent requests per org; 0: no cap.
    pub concurrency: u32,
    pub in_flight: u32,
    /// How long each request holds its concurrency slot, counted from taking
    /// it: the emulator's own work is part of it, not added on top.
    pub request_cost: Duration,
    pub tokens_minted: u64,
    /// Lifetime of minted access tokens (`expires_in`, default 3600 s).
    pub token_lifetime: Duration,
    /// The 10-per-10-minutes minting limit is enforced.
    pub mint_limit: bool,
    /// `page` reaches only the first 2,000 records.
    pub page_limit: bool,
    pub refresh: HashMap<String, RefreshState>,
    /// Data centre of each minted access token.
    pub token_dc: HashMap<String, String>,
    pub page_tokens: HashMap<String, Cursor>,
    /// Unused grant codes (a Self Client's), each good for one exchange.
    pub grant_codes: std::collections::HashSet<String>,
}

impl ZohoRuntime {
    pub fn new(cfg: &Config) -> Self {
        ZohoRuntime {
            data_centre: cfg.zoho_data_centre.clone(),
            credits_max: cfg.zoho_credits,
            credit_log: VecDeque::new(),
            credit_limit_status: 400,
            concurrency: cfg.zoho_concurrency,
            in_flight: 0,
            request_cost: cfg.zoho_request_cost,
            tokens_minted: 0,
            token_lifetime: TOKEN_LIFETIME,
            mint_limit: true,
            page_limit: true,
            refresh: HashMap::new(),
            token_dc: HashMap::new(),
            page_tokens: HashMap::new(),
            grant_codes: std::collections::HashSet::new(),
        }
    }

    /// Credits used in the current window.
    pub fn credits_used(&mut self, now: Instant) -> u64 {
        while let Some(&(at, _)) = self.credit_log.front() {
            if now.duration_since(at) >= CREDIT_WINDOW {
                self.credit_log.pop_front();
            } else {
                break;
            }
        }
        self.credit_log.iter().map(|(_, n)| n).sum()
    }

    /// Charges `cost` credits; `false` when the budget cannot pay them.
    pub fn charge(&mut self, cost: u64, now: Instant) -> bool {
        let used = self.credits_used(now);
        if self.credits_max != 0 && used + cost > self.credits_max {
            return false;
        }
        self.credit_log.push_back((now, cost));
        true
    }

    /// Sets the budget; `used` replaces the window's history with that many credits.
    pub fn set_credits(&mut self, max: u64, used: Option<u64>) {
        self.credits_max = max;
        if let Some(u) = used {
            self.credit_log.clear();
            if u > 0 {
                self.credit_log.push_back((Instant::now(), u));
            }
        }
    }

    pub fn settings(&mut self) -> Value {
        let used = self.credits_used(Instant::now());
        json!({
            "data_centre": self.data_centre,
            "credits": {
                "max": self.credits_max,
                "used": used,
                "remaining": if self.credits_max == 0 { Value::Null } else { json!(self.credits_max.saturating_sub(used)) },
            },
            "credit_limit_status": self.credit_limit_status,
            "concurrency": self.concurrency,
            "in_flight": self.in_flight,
            "request_cost_ms": self.request_cost.as_millis() as u64,
            "tokens_minted": self.tokens_minted,
            "token_lifetime_s": self.token_lifetime.as_secs(),
            "mint_limit": self.mint_limit,
            "page_limit": self.page_limit,
            "page_tokens": self.page_tokens.len(),
        })
    }
}

/// `v2`, `v5` to `v8` (`v3` and `v4` are HubSpot's paths).
pub fn version_ok(v: &str) -> bool {
    matches!(v, "v2" | "v5" | "v6" | "v7" | "v8")
}

/// `/crm/v{2,5,6,7,8}/...` and the accounts server's token endpoint.
pub fn is_zoho_path(path: &str) -> bool {
    if path == "/oauth/v2/token" {
        return true;
    }
    path.strip_prefix("/crm/")
        .map(|r| r.split('/').next().unwrap_or(""))
        .is_some_and(version_ok)
}

pub fn own_url(shared: &Shared) -> String {
    crate::api::dynamics::own_url(shared)
}

/// An answer of a handler run under the store lock: status and JSON body (none: 204).
pub type Answer = Result<(StatusCode, Option<Value>), ZError>;

pub fn ok(status: StatusCode, body: Value) -> Answer {
    Ok((status, Some(body)))
}

pub fn no_content() -> Answer {
    Ok((StatusCode::NO_CONTENT, None))
}

pub fn router(_shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let v = "/crm/{version}";
    let h = any(handle);
    Router::new()
        .route(&format!("{v}/users"), h.clone())
        .route(&format!("{v}/org"), h.clone())
        .route(&format!("{v}/settings/modules"), h.clone())
        .route(&format!("{v}/settings/modules/{{api_name}}"), h.clone())
        .route(&format!("{v}/settings/fields"), h.clone())
        .route(&format!("{v}/{{module}}"), h.clone())
        .route(&format!("{v}/{{module}}/upsert"), h.clone())
        .route(&format!("{v}/{{module}}/search"), h.clone())
        .route(&format!("{v}/{{module}}/deleted"), h.clone())
        .route(&format!("{v}/{{module}}/{{id}}"), h)
        .route(
            "/oauth/v2/token",
            post(|State(s): State<Arc<Shared>>, uri: Uri, b: Body| oauth::token(s, uri, b)),
        )
}

/// Checks `Authorization: Zoho-oauthtoken <t>`.
pub fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), ZError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(ZError::auth_failure());
    };
    let value = value.to_str().map_err(|_| ZError::invalid_token())?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("zoho-oauthtoken") {
        return Err(ZError::invalid_token());
    }
    let token = token.trim();
    shared
        .tokens()
        .check(Some(token), None, Utc::now())
        .map_err(|_| ZError::invalid_token())?;
    // A token of another data centre is unknown here.
    let rt = shared.zoho();
    if let Some(dc) = rt.token_dc.get(token) {
        if *dc != rt.data_centre {
            return Err(ZError::invalid_token());
        }
    }
    Ok(())
}

/// Frees the concurrency slot.
struct Slot<'a>(&'a Shared);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut rt = self.0.zoho();
        rt.in_flight = rt.in_flight.saturating_sub(1);
    }
}

/// The parsed request, for the handlers.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    /// Path segments after the version.
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: axum::body::Bytes,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body as an object.
    pub fn json(&self) -> Result<serde_json::Map<String, Value>, ZError> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(ZError::bad(
                "INVALID_DATA",
                "body is not a valid JSON object",
            )),
        }
    }
}

/// Query pairs in order: `+` is a space (as in a form), then `%XX` is decoded,
/// so `%2B` stays a plus (an e-mail like `a+b@example.com`).
fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| crate::api::dynamics::pct_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect()
}

/// Credits a call costs: writes 1 per 10 records, everything else 1.
fn cost(call: &Call) -> u64 {
    let writes = matches!(call.method, Method::POST | Method::PUT);
    if !writes {
        if call.method == Method::DELETE {
            if let Some(ids) = call.param("ids") {
                let n = ids.split(',').filter(|s| !s.is_empty()).count() as u64;
                return n.div_ceil(10).max(1);
            }
        }
        return 1;
    }
    let n = serde_json::from_slice::<Value>(&call.body)
        .ok()
        .and_then(|v| v.get("data").and_then(Value::as_array).map(Vec::len))
        .unwrap_or(1) as u64;
    n.div_ceil(10).max(1)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = uri.path().strip_prefix("/crm/").unwrap_or("");
    let (version, resource) = rest.split_once('/').unwrap_or((rest, ""));
    if !version_ok(version) {
        // `/crm/v3/...` and `/crm/v4/...` that no HubSpot route took.
        return crate::api::hubspot::error::HsError::not_found(format!(
            "resource not found: {}",
            uri.path()
        ))
        .into_response();
    }
    if let Err(e) = authorize(&shared, &headers) {
        return e.into_response();
    }
    {
        let mut rt = shared.zoho();
        if rt.concurrency != 0 && rt.in_flight >= rt.concurrency {
            let cap = rt.concurrency;
            drop(rt);
            return ZError::too_many_requests(format!(
                "concurrency limit of {cap} requests exceeded; retry after the running requests finish"
            ))
            .into_response();
        }
        rt.in_flight += 1;
    }
    let slot = Slot(&shared);
    // The cost is the request's whole time in its slot, the emulator's own
    // work included, as a real server's answer time would be.
    let held_until = Instant::now() + shared.zoho().request_cost;
    let body = match read_limited(body, shared.config.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return ZError::from(e).into_response(),
    };
    let call = Call {
        method,
        segs: resource
            .split('/')
            .filter(|s| !s.is_empty())
            .map(crate::api::dynamics::pct_decode)
            .collect(),
        query: parse_query(uri.query()),
        headers,
        body,
    };
    let (charged, remaining) = {
        let mut rt = shared.zoho();
        let now = Instant::now();
        let c = cost(&call);
        let charged = rt.charge(c, now);
        let used = rt.credits_used(now);
        let max = rt.credits_max;
        let remaining = (max != 0 && used * 2 >= max).then(|| max.saturating_sub(used));
        let charged = if charged {
            Ok(())
        } else {
            Err(rt.credit_limit_status)
        };
        (charged, remaining)
    };
    let answer = match charged {
        Err(status) => Err(ZError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            "LIMIT_EXCEEDED",
            "API credits exceeded for the day; retry once the rolling 24 hour window frees credits",
        )),
        Ok(()) => {
            let (a, barrier) = {
                let mut store = shared.store();
                let a = route(&shared, &mut store, &call);
                (a, store.barrier())
            };
            crate::state::durable(barrier).await;
            a
        }
    };
    let mut resp = match answer {
        Ok((status, Some(b))) => (status, Json(b)).into_response(),
        Ok((status, None)) => status.into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(r) = remaining {
        resp.headers_mut()
            .insert("x-api-credits-remaining", HeaderValue::from(r));
    }
    tokio::time::sleep_until(held_until.into()).await;
    drop(slot);
    resp
}

fn module_of(name: &str) -> Result<Module, ZError> {
    Module::from_name(name).ok_or_else(ZError::invalid_module)
}

fn route(shared: &Shared, store: &mut Store, call: &Call) -> Answer {
    let segs: Vec<&str> = call.segs.iter().map(String::as_str).collect();
    let m = &call.method;
    let get_only = |a: fn(&Store, &Call) -> Answer, store: &mut Store| {
        if *m == Method::GET {
            a(store, call)
        } else {
            Err(ZError::method_not_allowed())
        }
    };
    match segs.as_slice() {
        ["users"] => get_only(metadata::users, store),
        ["org"] => get_only(metadata::org, store),
        ["settings", "modules"] => get_only(metadata::modules, store),
        ["settings", "modules", _] => get_only(metadata::module, store),
        ["settings", "fields"] => get_only(metadata::fields, store),
        [module] => {
            let module = module_of(module)?;
            match *m {
                Method::GET => query::list(shared, store, call, module),
                Method::POST => records::insert(store, call, module),
                Method::PUT => records::update(store, call, module, None),
                Method::DELETE => records::delete(store, call, module, None),
                _ => Err(ZError::method_not_allowed()),
            }
        }
        [module, "upsert"] => {
            let module = module_of(module)?;
            match *m {
                Method::POST => records::upsert(store, call, module),
                _ => Err(ZError::method_not_allowed()),
            }
        }
        [module, "search"] => {
            let module = module_of(module)?;
            match *m {
                Method::GET => query::search(store, call, module),
                _ => Err(ZError::method_not_allowed()),
            }
        }
        [module, "deleted"] => {
            let module = module_of(module)?;
            match *m {
                Method::GET => query::deleted(store, call, module),
                _ => Err(ZError::method_not_allowed()),
            }
        }
        [module, id] => {
            let module = module_of(module)?;
            match *m {
                Method::GET => records::get(shared, store, call, module, id),
                Method::PUT => records::update(store, call, module, Some(id)),
                Method::DELETE => records::delete(store, call, module, Some(id)),
                _ => Err(ZError::method_not_allowed()),
            }
        }
        _ => Err(ZError::url_pattern()),
    }
}
