//! Service protection limits (api-limits.md), per emulator (one user):
//! requests in a sliding window (default 6,000 per 300 s, `0x80072322`),
//! combined execution time (1,200,000 ms per window, `0x80072321`) and
//! concurrent requests (default 52, `0x80072326`), all answered 429 with
//! `Retry-After` in seconds. Execution time is charged at a fixed cost per
//! request (`Config::dynamics_request_cost`); what is left is
//! `x-ms-ratelimit-time-remaining-xrm-requests`. Inside a `$batch` every
//! operation is charged time and, by default, counts as a request (see `batch`).

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

pub fn too_much_time(window: std::time::Duration) -> DvError {
    DvError::new(
        StatusCode::TOO_MANY_REQUESTS,
        code::LIMIT_TIME,
        format!(
            "Combined execution time of incoming requests exceeded limit of {EXECUTION_BUDGET_MS} milliseconds over time window of {} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
            window.as_secs().max(1)
        ),
    )
}

/// The execution-time window: the budget in units of the fixed cost per
/// request, over the request window; `None` with limits off or no cost.
pub fn time_limit(requests: Option<RateLimit>, cost: std::time::Duration) -> Option<RateLimit> {
    let window = requests?.window;
    let cost = cost.as_millis() as u64;
    (cost > 0).then(|| RateLimit {
        max: (EXECUTION_BUDGET_MS / cost).clamp(1, u64::from(u32::MAX)) as u32,
        window,
    })
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
    let now = Instant::now();
    let remaining = match shared.limiter(Api::Dynamics).usage(now) {
        Some((used, max)) => max.saturating_sub(used),
        None => u32::MAX,
    };
    let cost = shared.config.dynamics_request_cost.as_millis() as u64;
    let time_left = match shared.dynamics_time().usage(now) {
        Some((used, _)) => EXECUTION_BUDGET_MS.saturating_sub(cost * u64::from(used)),
        None => EXECUTION_BUDGET_MS,
    };
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
            _ => {
                let time = shared.dynamics_time().check(Instant::now());
                match time {
                    Some(t) if !t.allowed => {
                        let secs = t.retry_after.as_secs_f64().ceil() as u64;
                        with_retry_after(&shared, too_much_time(t.limit.window), secs)
                    }
                    _ => next.run(req).await,
                }
            }
        }
    };
    drop(guard);
    add_headers(&shared, &mut resp);
    resp
}
