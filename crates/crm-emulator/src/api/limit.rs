//! Rate-limit middleware for both APIs, with each API's 429 body and headers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::api::hubspot::error::correlation_id;
use crate::ratelimit::Verdict;
use crate::state::{Api, Shared};

pub async fn rate_limit(
    State((shared, api)): State<(Arc<Shared>, Api)>,
    req: Request,
    next: Next,
) -> Response {
    let verdict = shared.limiter(api).check(Instant::now());
    let Some(v) = verdict else {
        return next.run(req).await;
    };
    let mut resp = if v.allowed {
        next.run(req).await
    } else {
        let mut r = too_many(api);
        if shared.retry_after.load(Ordering::Relaxed) {
            let secs = v.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        r
    };
    add_headers(&mut resp, api, &v);
    resp
}

/// The 429 body of each API (also used for injected 429 faults).
pub fn too_many(api: Api) -> Response {
    let body = match api {
        Api::Hubspot => json!({
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": "TEN_SECONDLY_ROLLING",
        }),
        Api::Salesforce => {
            return crate::api::salesforce::limits::limit_exceeded().into_response();
        }
        Api::Dynamics => {
            return crate::api::dynamics::limits::too_many_requests(None).into_response();
        }
        Api::Zoho => {
            return crate::api::zoho::error::ZError::too_many_requests(
                "You have made too many requests (injected)",
            )
            .into_response();
        }
        Api::Rest => json!({
            "code": "rate_limited",
            "message": "too many requests; retry later",
        }),
    };
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}

fn add_headers(resp: &mut Response, api: Api, v: &Verdict) {
    let names: [&'static str; 3] = match api {
        Api::Hubspot => [
            "x-hubspot-ratelimit-interval-milliseconds",
            "x-hubspot-ratelimit-max",
            "x-hubspot-ratelimit-remaining",
        ],
        Api::Rest | Api::Salesforce | Api::Dynamics | Api::Zoho => [
            "x-ratelimit-interval-milliseconds",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
        ],
    };
    let values = [
        v.limit.window.as_millis() as u64,
        u64::from(v.limit.max),
        u64::from(v.remaining),
    ];
    for (name, value) in names.into_iter().zip(values) {
        resp.headers_mut()
            .insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}
