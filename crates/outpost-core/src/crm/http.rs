//! The HTTP client every connector shares: TLS by rustls, bounded timeouts,
//! gzip, and the endpoint's throttle in front of every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response};

use crate::crm::error::{parse_retry_after, ConnectorError};
use crate::crm::throttle::Throttle;

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

impl Http {
    pub fn new(throttle: Arc<Throttle>) -> Self {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
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
    /// `Unreachable`; a 429's `Retry-After` pauses every later request.
    pub async fn send(&self, request: RequestBuilder) -> Result<Timed, ConnectorError> {
        self.throttle.acquire().await;
        let start = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| ConnectorError::from_transport(&e))?;
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
