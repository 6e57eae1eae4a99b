//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod vendor;

use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};
use serde_json::Value;

pub async fn start() -> Emulator {
    start_with(Config::unlimited()).await
}

pub async fn start_with(config: Config) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// An authorized request builder against the CRM port.
pub fn req(
    c: &reqwest::Client,
    emu: &Emulator,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    c.request(method, format!("{}{path}", emu.crm_url()))
        .bearer_auth(emu.token())
}

pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// Polls `check` until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
