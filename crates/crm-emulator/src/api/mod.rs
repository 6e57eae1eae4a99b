//! The CRM-facing HTTP surface: both APIs on one port, plus the middleware that
//! counts requests and injects faults.

pub mod body;
pub mod dynamics;
pub mod hubspot;
pub mod limit;
pub mod rest;
pub mod salesforce;
pub mod zoho;

use std::future::Future;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use self::dynamics::error::{code as dv_code, DvError};
use self::hubspot::error::HsError;
use self::rest::error::RestError;
use self::salesforce::error::SfError;
use self::zoho::error::ZError;
use crate::faults::{ErrorKind, Portal};
use crate::server::ConnKill;
use crate::state::{Api, Shared};

/// Label used by the stats for requests that matched no route.
pub const UNMATCHED: &str = "<unmatched>";

pub fn crm_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(rest::router(shared.clone()))
        .merge(hubspot::router(shared.clone()))
        .merge(salesforce::router(shared.clone()))
        .merge(dynamics::router(shared.clone()))
        .merge(zoho::router(shared.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            observe,
        ))
        .with_state(shared)
}

/// Which API's error shape a path gets.
pub fn api_of(path: &str) -> Api {
    if zoho::is_zoho_path(path) {
        Api::Zoho
    } else if path.starts_with("/crm/") || path.starts_with("/oauth/v1/") {
        Api::Hubspot
    } else if path.starts_with("/services/") {
        Api::Salesforce
    } else if path.starts_with("/api/data/") || is_entra_path(path) {
        Api::Dynamics
    } else {
        Api::Rest
    }
}

/// `/{tenant}/oauth2/...`: Entra ID's endpoints.
fn is_entra_path(path: &str) -> bool {
    let mut segs = path.trim_start_matches('/').split('/');
    segs.next().is_some_and(|t| !t.is_empty()) && segs.next() == Some("oauth2")
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_string();
    match api_of(&path) {
        Api::Hubspot => HsError::not_found(format!("resource not found: {path}")).into_response(),
        Api::Salesforce => SfError::not_found().into_response(),
        Api::Dynamics => DvError::no_route(req.method().as_str(), &path).into_response(),
        Api::Zoho => ZError::url_pattern().into_response(),
        Api::Rest => RestError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route for {} {path}", req.method()),
        )
        .into_response(),
    }
}

async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path().to_string();
    let message = format!("method {} is not allowed on {path}", req.method());
    match api_of(&path) {
        Api::Hubspot => HsError::new(StatusCode::METHOD_NOT_ALLOWED, "VALIDATION_ERROR", message)
            .into_response(),
        Api::Salesforce => SfError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            message,
        )
        .into_response(),
        Api::Dynamics => DvError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            dv_code::BAD_ARGUMENT,
            message,
        )
        .into_response(),
        Api::Zoho => ZError::method_not_allowed().into_response(),
        Api::Rest => RestError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        )
        .into_response(),
    }
}

pub(crate) fn injected(api: Api, kind: ErrorKind) -> Response {
    let (status, text) = match kind {
        // Salesforce throttles with 403 REQUEST_LIMIT_EXCEEDED, never 429;
        // Zoho sends no Retry-After.
        ErrorKind::TooManyRequests if matches!(api, Api::Salesforce | Api::Zoho) => {
            return limit::too_many(api);
        }
        ErrorKind::TooManyRequests => {
            let mut r = limit::too_many(api);
            r.headers_mut().insert("retry-after", 1.into());
            return r;
        }
        ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    };
    match api {
        Api::Hubspot => {
            let category = if status == StatusCode::SERVICE_UNAVAILABLE {
                "SERVICE_UNAVAILABLE"
            } else {
                "INTERNAL_ERROR"
            };
            HsError::new(status, category, text).into_response()
        }
        Api::Salesforce => {
            let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
                (
                    "SERVER_UNAVAILABLE",
                    "Server temporarily unavailable (injected)",
                )
            } else {
                (
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred (injected)",
                )
            };
            SfError::new(status, code, message).into_response()
        }
        Api::Dynamics => {
            let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
                (
                    dv_code::UNAVAILABLE,
                    "The service is temporarily unavailable (injected).",
                )
            } else {
                (
                    dv_code::INTERNAL,
                    "An unexpected error occurred (injected).",
                )
            };
            DvError::new(status, code, message).into_response()
        }
        Api::Zoho => {
            if status == StatusCode::SERVICE_UNAVAILABLE {
                ZError::new(
                    status,
                    "INTERNAL_ERROR",
                    "Service temporarily unavailable (injected)",
                )
                .into_response()
            } else {
                ZError::internal().into_response()
            }
        }
        Api::Rest => {
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "unavailable"
            } else {
                "internal"
            };
            RestError::new(status, code, format!("{text} (injected)")).into_response()
        }
    }
}

/// Where the redirecting portal sends every request: a loopback address
/// nothing listens on, so a client that follows it is refused, never sent
/// off this machine.
pub const PORTAL_LOGIN: &str = "http://127.0.0.2/portal/login";

const SIGN_IN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Shop Wi-Fi</title></head><body>\n\
<h1>Welcome to Shop Wi-Fi</h1>\n<form method=\"post\" action=\"/portal/login\">\n\
<label>Voucher <input name=\"voucher\"></label>\n\
<label><input type=\"checkbox\" name=\"accept\"> I accept the terms of use</label>\n\
<button>Sign in</button>\n</form></body></html>\n";

const PROXY_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body>\n\
<h1>Access denied</h1>\n<p>The proxy does not allow access to this site.</p></body></html>\n";

/// What a captive portal or a proxy answers in the CRM's place.
pub(crate) fn portal(kind: Portal, path_and_query: &str) -> Response {
    let html = [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")];
    match kind {
        Portal::SignInPage => (StatusCode::OK, html, SIGN_IN_PAGE).into_response(),
        Portal::Redirect => {
            let back: String = form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
            let location = format!("{PORTAL_LOGIN}?continue={back}");
            (
                StatusCode::FOUND,
                html,
                [(axum::http::header::LOCATION, location)],
                SIGN_IN_PAGE,
            )
                .into_response()
        }
        Portal::Proxy => (
            StatusCode::FORBIDDEN,
            html,
            [
                ("via", "1.1 proxy.shop.example (squid/6.10)"),
                ("x-squid-error", "ERR_ACCESS_DENIED 0"),
            ],
            PROXY_PAGE,
        )
            .into_response(),
    }
}

/// Resets the connection and never answers; without a connection handle (a
/// request not served by our server) it degrades to a 500.
pub(crate) async fn reset(kill: Option<ConnKill>) -> Response {
    match kill {
        Some(k) => {
            k.fire();
            std::future::pending().await
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The same status and headers, the declared length, half the body, then
/// the connection ends: the client has its status but cannot read the answer.
pub(crate) async fn truncated(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts
        .headers
        .insert(axum::http::header::CONTENT_LENGTH, bytes.len().into());
    let half = bytes.slice(..bytes.len() / 2);
    Response::from_parts(parts, Body::new(CutShort::new(half)))
}

/// A body that yields its bytes, waits a moment (hyper writes out the
/// headers and those bytes while the body is pending), then fails, which
/// makes the server close the connection short of the declared length.
struct CutShort {
    bytes: Option<Bytes>,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl CutShort {
    fn new(bytes: Bytes) -> Self {
        CutShort {
            bytes: Some(bytes),
            pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(20))),
        }
    }
}

impl hyper::body::Body for CutShort {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        if let Some(b) = self.bytes.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(b))));
        }
        match self.pause.as_mut().poll(cx) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Some(Err(std::io::Error::other(
                "answer cut short (injected)",
            )))),
        }
    }
}

fn path_and_query(req: &Request) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// Counts every request by endpoint template and outcome, and applies the
/// fault plan: latency, then an injected error, or the real handler followed by
/// an optional drop-after-commit.
async fn observe(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |m| m.as_str())
        .to_string();
    let path = req.uri().path().to_string();
    let api = api_of(&path);
    // Zoho's `/crm/{version}/...` routes also catch the `/crm/v3/...` and
    // `/crm/v4/...` paths no HubSpot route took: those stay unmatched.
    let template = if template.starts_with("/crm/{version}") && api != Api::Zoho {
        UNMATCHED.to_string()
    } else {
        template
    };
    let endpoint = format!("{} {template}", req.method());
    let kill = req.extensions().get::<ConnKill>().cloned();
    let decision = shared.faults().decide();
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some(kind) = decision.portal {
        shared.stats.record(&endpoint, &path, "captive_portal");
        return portal(kind, &path_and_query(&req));
    }
    match decision.error {
        Some(ErrorKind::Reset) => {
            shared.stats.record(&endpoint, &path, "reset");
            return reset(kill).await;
        }
        Some(ErrorKind::Timeout) => {
            shared.stats.record(&endpoint, &path, "timeout");
            tokio::time::sleep(shared.config.timeout_hold).await;
            return reset(kill).await;
        }
        Some(kind) => {
            let resp = injected(api, kind);
            shared
                .stats
                .record(&endpoint, &path, resp.status().as_str());
            return resp;
        }
        None => {}
    }
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let resp = next.run(req).await;
    if decision.drop_after_commit && writes && resp.status().is_success() {
        shared
            .stats
            .record(&endpoint, &path, "dropped_after_commit");
        return reset(kill).await;
    }
    if decision.truncate_body && writes && resp.status().is_success() {
        shared.stats.record(&endpoint, &path, "truncated_body");
        return truncated(resp).await;
    }
    shared
        .stats
        .record(&endpoint, &path, resp.status().as_str());
    resp
}
