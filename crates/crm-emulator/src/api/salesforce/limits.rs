//! The rolling API request budget (default 100,000 per 24 h): every
//! `/services/data/vNN.0/...` answer carries `Sforce-Limit-Info:
//! api-usage=USED/MAX`; over the budget → 403 `REQUEST_LIMIT_EXCEEDED`
//! (Salesforce sends no 429 and no Retry-After). Also checks the version segment.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::SfError;
use super::{authorize, version_ok};
use crate::state::{Api, Shared};

pub fn limit_exceeded() -> SfError {
    SfError::new(
        StatusCode::FORBIDDEN,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
    )
}

pub async fn budget(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let version = req
        .uri()
        .path()
        .strip_prefix("/services/data/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    if !version_ok(version) {
        return SfError::not_found().into_response();
    }
    let verdict = shared.limiter(Api::Salesforce).check(Instant::now());
    let Some(v) = verdict else {
        return next.run(req).await;
    };
    let mut resp = if v.allowed {
        next.run(req).await
    } else {
        limit_exceeded().into_response()
    };
    let used = v.limit.max - v.remaining;
    let info = format!("api-usage={used}/{}", v.limit.max);
    if let Ok(h) = HeaderValue::from_str(&info) {
        resp.headers_mut().insert("sforce-limit-info", h);
    }
    resp
}

/// `GET /limits`: `DailyApiRequests` from the budget, the rest nominal.
pub async fn limits(shared: Arc<Shared>, h: HeaderMap) -> Response {
    if let Err(e) = authorize(&shared, &h) {
        return e.into_response();
    }
    let (max, remaining) = match shared.limiter(Api::Salesforce).usage(Instant::now()) {
        Some((used, max)) => (max, max.saturating_sub(used)),
        None => (u32::MAX, u32::MAX),
    };
    let nominal = |n: u32| json!({"Max": n, "Remaining": n});
    Json(json!({
        "DailyApiRequests": {"Max": max, "Remaining": remaining},
        "ConcurrentAsyncGetReportInstances": nominal(200),
        "DailyBulkApiBatches": nominal(15000),
        "DailyBulkV2QueryJobs": nominal(10000),
        "DataStorageMB": nominal(1024),
        "FileStorageMB": nominal(1024),
        "HourlyODataCallout": nominal(10000),
    }))
    .into_response()
}
