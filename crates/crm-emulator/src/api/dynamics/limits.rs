//! Service protection limits (api-limits.md), per emulator (one user):
//! requests in a sliding window (default 6,000 per 300 s, `0x80072322`) and
//! concurrent requests (default 52, `0x80072326`), both answered 429 with
//! `Retry-After` in seconds. Execution time is charged at a fixed cost per
//! request (`Config::dynamics_request_cost`), so its budget (1,200,000 ms per
//! window) is what `x-ms-ratelimit-time-remaining-xrm-requests` counts down.
//! Inside a `$batch` every operation counts as one more request (see `batch`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{code, DvError};
use crate::config::RateLimit;
use crate::state::{Api, Shared};

/// Combined execution time allowed per window (20 minutes per 5 minutes).
pub const EXECUTION_BUDGET_MS: u64 = 1_200_000;

pub fn too_many_requests(limit: Option<RateLimit>) -> DvError {
    let (max, secs) = limit.map_or((6000, 300), |l| (l.max, l.window.as_secs().max(1)));
    DvError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::LIMIT_REQUESTS,
        format!(
            "Number of requests exceeded the limit of {max} over time window of {secs} seconds."
        ),
    )
}

fn too_many_concurrent(max: u32) -> DvError {
    DvError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::LIMIT_CONCURRENCY,
        format!("Number of concurrent requests exceeded the limit of {max}."),
    )
}

/// Counts one request in flight; the guard releases it.
struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dynamics_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The two headers every answer carries, from the window's current use.
pub fn add_headers(shared: &Shared, resp: &mut Response) {
    let usage = shared.limiter(Api::Dynamics).usage(Instant::now());
    let (remaining, used) = match usage {
        Some((used, max)) => (max.saturating_sub(used), used),
        None => (u32::MAX, 0),
    };
    let cost = u64::from(shared.config.dynamics_request_cost.as_millis() as u32);
    let time_left = EXECUTION_BUDGET_MS.saturating_sub(cost * u64::from(used));
    let h = resp.headers_mut();
    h.insert(
        "x-ms-ratelimit-burst-remaining-xrm-requests",
        HeaderValue::from(remaining),
    );
    h.insert(
        "x-ms-ratelimit-time-remaining-xrm-requests",
        HeaderValue::from(time_left),
    );
}

pub fn with_retry_after(shared: &Shared, e: DvError, secs: u64) -> Response {
    let mut r = e.into_response();
    if shared.retry_after.load(Ordering::Relaxed) {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(secs.max(1)));
    }
    r
}

pub async fn protect(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let cap = shared.dynamics_concurrency.load(Ordering::SeqCst);
    let now_in = shared.dynamics_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let guard = InFlight(&shared);
    let mut resp = if cap != 0 && now_in > cap {
        with_retry_after(&shared, too_many_concurrent(cap), 1)
    } else {
        let verdict = shared.limiter(Api::Dynamics).check(Instant::now());
        match verdict {
            Some(v) if !v.allowed => {
                let secs = v.retry_after.as_secs_f64().ceil() as u64;
                with_retry_after(&shared, too_many_requests(Some(v.limit)), secs)
            }
            _ => next.run(req).await,
        }
    };
    drop(guard);
    add_headers(&shared, &mut resp);
    resp
}
