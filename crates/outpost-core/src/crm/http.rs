//! The HTTP client every connector shares: TLS by rustls, bounded timeouts,
//! gzip, the endpoint's throttle in front of every request, and the check
//! that an answer is the CRM's and not a captive portal's or a proxy's
//! (`interception.rs`) behind every one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;

use super::connector::CallInfo;
use super::error::{parse_retry_after, ConnectorError};
use super::interception;
use super::throttle::Throttle;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// `path` under `base`, keeping any path prefix the base URL has
/// (`https://crm.example.com/api` + `customers/1` → `.../api/customers/1`).
pub fn join(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        url.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    throttle: Arc<Throttle>,
}

/// A response with how long it took, for the audit log.
#[derive(Debug)]
pub struct Timed {
    pub response: Response,
    pub elapsed: Duration,
}

impl Timed {
    /// The call as the audit log records it; the CRM's request id is the
    /// first of `id_headers` the response carries.
    pub fn call_info(&self, id_headers: &[&str]) -> CallInfo {
        let headers = self.response.headers();
        CallInfo {
            status: Some(self.response.status().as_u16()),
            duration: self.elapsed,
            request_id: id_headers
                .iter()
                .find_map(|h| headers.get(*h)?.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// The body as `T`; one that does not parse is a protocol error naming
    /// what was expected (`what`: "HubSpot response", "contact list"...).
    pub async fn json<T: DeserializeOwned>(self, what: &str) -> Result<T, ConnectorError> {
        read_json(self.response, what).await
    }
}

/// The body as `T`; a body cut short or one that does not parse is a
/// protocol error naming what was expected.
pub async fn read_json<T: DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, ConnectorError> {
    let body = response
        .bytes()
        .await
        .map_err(|e| ConnectorError::Protocol(format!("unreadable {what}: {e}")))?;
    parse_json(&body, what)
}

/// [`read_json`] once the body is read: the connectors' response parsers
/// are pure functions of the bytes (and fuzzed as such, `crate::fuzzing`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ConnectorError> {
    serde_json::from_slice(body)
        .map_err(|e| ConnectorError::Protocol(format!("unreadable {what}: {e}")))
}

/// The whole body, or nothing when it cannot be read: for error answers,
/// whose body only adds detail.
pub async fn body_or_empty(response: Response) -> Vec<u8> {
    response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// `f` over every item, at most `in_flight` at once, the results in the
/// items' order (connectors that send one request per record, or one per
/// concurrency slot). A slot is refilled as soon as its request ends: one
/// slow answer holds only its own slot, not the next `in_flight` items.
pub async fn concurrently<'a, I, T, F, Fut>(items: &'a [I], in_flight: usize, f: F) -> Vec<T>
where
    F: Fn(&'a I) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut waiting = items.iter().enumerate();
    let mut running = FuturesUnordered::new();
    for (i, item) in waiting.by_ref().take(in_flight.max(1)) {
        running.push(numbered(i, f(item)));
    }
    let mut out: Vec<Option<T>> = items.iter().map(|_| None).collect();
    while let Some((i, t)) = running.next().await {
        out[i] = Some(t);
        if let Some((j, item)) = waiting.next() {
            running.push(numbered(j, f(item)));
        }
    }
    out.into_iter()
        .map(|t| t.expect("every item ran"))
        .collect()
}

async fn numbered<Fut: std::future::Future>(i: usize, fut: Fut) -> (usize, Fut::Output) {
    (i, fut.await)
}

impl Http {
    pub fn new(throttle: Arc<Throttle>) -> Self {
        Self::with_client(reqwest::Client::builder(), throttle)
    }

    /// Also trusts `root`: the tests' loopback TLS servers.
    #[cfg(test)]
    pub(crate) fn trusting(root: reqwest::Certificate, throttle: Arc<Throttle>) -> Self {
        Self::with_client(
            reqwest::Client::builder().add_root_certificate(root),
            throttle,
        )
    }

    fn with_client(builder: reqwest::ClientBuilder, throttle: Arc<Throttle>) -> Self {
        let client = builder
            .use_rustls_tls()
            .redirect(interception::redirect_policy())
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .gzip(true)
            .user_agent(concat!("Outpost/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS client can always be built");
        Http { client, throttle }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Sends after the throttle allows it. Transport failures come back as
    /// `Unreachable`, an answer that is not the CRM's as `Intercepted`; a
    /// 429's `Retry-After` pauses every later request.
    pub async fn send(&self, request: RequestBuilder) -> Result<Timed, ConnectorError> {
        let slot = self.throttle.acquire().await;
        let sent = self.send_uncounted(request).await;
        // Only an answer proves the CRM counted the request by now.
        if sent.is_ok() {
            self.throttle.answered(slot);
        }
        sent
    }

    /// Sends without taking a slot of the throttle: only for a request the
    /// CRM does not count against its limit (Salesforce's token endpoint
    /// and version list), which would otherwise cost an upload its slot.
    pub async fn send_uncounted(&self, request: RequestBuilder) -> Result<Timed, ConnectorError> {
        let start = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::from_transport(&e))?;
        interception::check(&response)?;
        if response.status().as_u16() == 429 {
            if let Some(after) =
                parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER))
            {
                self.throttle.pause_for(after).await;
            }
        }
        Ok(Timed {
            response,
            elapsed: start.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::concurrently;

    /// One slow item holds one slot: the others flow through the rest, at
    /// most `in_flight` at once, and the results keep the items' order.
    #[tokio::test(start_paused = true)]
    async fn a_slow_item_holds_only_its_own_slot() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let items: Vec<u64> = vec![1000, 10, 10, 10, 10, 10];
        let out = concurrently(&items, 2, |ms| {
            let (running, most) = (&running, &most);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                (*ms, started.elapsed())
            }
        })
        .await;
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more than two at once"
        );
        assert_eq!(
            out.iter().map(|(ms, _)| *ms).collect::<Vec<_>>(),
            items,
            "results in the items' order"
        );
        let last_fast = out[1..].iter().map(|(_, at)| *at).max().unwrap();
        assert!(
            last_fast <= Duration::from_millis(60),
            "the five fast items went one after another beside the slow one: {last_fast:?}"
        );
    }
}
