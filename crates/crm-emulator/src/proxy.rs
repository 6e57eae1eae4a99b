//! A fault proxy: the emulator's fault plan, down/up and request counters in
//! front of a real CRM server, for connectors whose CRM is not emulated
//! (BottleCRM). Requests are forwarded unchanged; faults are decided and
//! applied exactly as on the emulator's own CRM port.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::api::{injected, portal, reset, truncated};
use crate::error::Error;
use crate::faults::{ErrorKind, FaultState, Faults};
use crate::server::{ConnKill, HttpServer};
use crate::state::Api;
use crate::stats::{Stats, StatsSnapshot};

/// Largest body forwarded either way.
const MAX_BODY: usize = 32 * 1024 * 1024;

#[derive(Debug)]
struct Inner {
    upstream: String,
    client: reqwest::Client,
    faults: Mutex<FaultState>,
    stats: Stats,
    timeout_hold: Duration,
}

/// A running proxy on `127.0.0.1`; dropping it stops it.
#[derive(Debug)]
pub struct FaultProxy {
    inner: Arc<Inner>,
    server: HttpServer,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (e.g. `http://127.0.0.1:58000`).
    pub async fn start(upstream: &str) -> Result<FaultProxy, Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a plain HTTP client builds");
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            faults: Mutex::new(FaultState::new(0)),
            stats: Stats::default(),
            timeout_hold: Duration::from_secs(60),
        });
        let router = Router::new().fallback(forward).with_state(inner.clone());
        let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);
        let server = HttpServer::start(addr, router).await?;
        Ok(FaultProxy { inner, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Replaces the fault plan (same meaning as [`crate::Emulator::set_faults`]).
    pub fn set_faults(&self, faults: Faults) {
        self.inner.faults.lock().expect("faults lock").set(faults);
    }

    pub fn clear_faults(&self) {
        self.inner.faults.lock().expect("faults lock").clear();
    }

    /// Refuses connections, as a server that went away.
    pub async fn down(&self) {
        self.server.down().await;
    }

    pub async fn up(&self) -> Result<(), Error> {
        self.server.up().await
    }

    /// Counters by `"<METHOD> <path>"` and outcome (a status or a fault).
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }
}

fn hop_by_hop(name: &HeaderName) -> bool {
    [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::HOST,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ]
    .contains(name)
        || name.as_str().eq_ignore_ascii_case("keep-alive")
}

async fn forward(State(p): State<Arc<Inner>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let endpoint = format!("{} {path}", req.method());
    let kill = req.extensions().get::<ConnKill>().cloned();
    let decision = p.faults.lock().expect("faults lock").decide();
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some(kind) = decision.portal {
        p.stats.record(&endpoint, &path, "captive_portal");
        let target = req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        return portal(kind, &target);
    }
    match decision.error {
        Some(ErrorKind::Reset) => {
            p.stats.record(&endpoint, &path, "reset");
            return reset(kill).await;
        }
        Some(ErrorKind::Timeout) => {
            p.stats.record(&endpoint, &path, "timeout");
            tokio::time::sleep(p.timeout_hold).await;
            return reset(kill).await;
        }
        Some(kind) => {
            let resp = injected(Api::Rest, kind);
            p.stats.record(&endpoint, &path, resp.status().as_str());
            return resp;
        }
        None => {}
    }
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let resp = relay(&p, req).await;
    if decision.drop_after_commit && writes && resp.status().is_success() {
        p.stats.record(&endpoint, &path, "dropped_after_commit");
        return reset(kill).await;
    }
    if decision.truncate_body && writes && resp.status().is_success() {
        p.stats.record(&endpoint, &path, "truncated_body");
        return truncated(resp).await;
    }
    p.stats.record(&endpoint, &path, resp.status().as_str());
    resp
}

/// The upstream's answer, or 502 when it cannot be reached.
async fn relay(p: &Inner, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let sent = p
        .client
        .request(parts.method, format!("{}{target}", p.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "upstream unreachable");
            return (
                StatusCode::BAD_GATEWAY,
                format!("upstream unreachable: {e}"),
            )
                .into_response();
        }
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !hop_by_hop(name) {
            out_headers.append(name, value.clone());
        }
    }
    let Ok(bytes) = upstream.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "upstream answer cut short").into_response();
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = out_headers;
    resp
}
