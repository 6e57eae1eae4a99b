//! Sync figures against the CRM emulator over loopback, each with its baseline
//! measured in the same run:
//! - flush throughput under a HubSpot-like limit (100 requests / 10 s, 100
//!   records per batch) as a fraction of that ceiling, and against a client
//!   that sends one request per record;
//! - reconnect latency: CRM back up → first successful delivery, 20 trials.
//!
//!     cargo bench -p outpost-core --bench sync [-- RECORDS]   (default 30000; about 2 minutes)

use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator, RateLimit};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{NewCustomer, Sensitive, Store, SyncState};
use serde_json::json;

const LIMIT: RateLimit = RateLimit {
    max: 100,
    window: Duration::from_secs(10),
};

async fn setup(
    emu: &Emulator,
    kind: EndpointKind,
) -> (tempfile::TempDir, Store, Arc<dyn SecretStore>) {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path().join("bench.db")).await.unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    secrets
        .set(
            "crm",
            SecretKind::Token,
            &Sensitive::new(emu.token().to_owned()),
        )
        .await
        .unwrap();
    store
        .save_endpoint(&EndpointConfig {
            name: "crm".into(),
            kind,
            base_url: emu.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                batch_size: Some(100),
                rate_limit: Some(LIMIT.max),
                rate_window_secs: Some(LIMIT.window.as_secs() as u32),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    (dir, store, secrets)
}

fn customers(n: usize, tag: &str) -> Vec<NewCustomer> {
    (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("{tag}{i}")),
                last_name: Some("Bench".into()),
                email: Some(format!("{tag}.{i}@example.com").to_lowercase()),
                phone: Some(format!("+49 30 {:07}", i)),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect()
}

/// The long-run ceiling: a full batch in every request the limit allows.
fn ceiling_records_per_sec() -> f64 {
    LIMIT.max as f64 * 100.0 / LIMIT.window.as_secs_f64()
}

async fn flush_throughput(n: usize) -> (f64, f64) {
    let mut config = Config::unlimited();
    config.hubspot_rate_limit = Some(LIMIT);
    let emu = Emulator::start(config).await.unwrap();
    let (_dir, store, secrets) = setup(&emu, EndpointKind::Hubspot).await;
    for chunk in customers(n, "Flush").chunks(5000) {
        store.create_customers(chunk).await.unwrap();
    }
    let start = Instant::now();
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = start.elapsed().as_secs_f64();
    engine.stop(Duration::from_secs(5)).await;
    let rate = n as f64 / took;
    let fraction = rate / ceiling_records_per_sec();
    eprintln!(
        "outpost: {n} records in {took:.1} s = {rate:.0} records/s ({:.0} % of the {:.0} records/s ceiling); 429s: {}",
        fraction * 100.0,
        ceiling_records_per_sec(),
        emu.stats().endpoints.values().filter_map(|m| m.get("429")).sum::<u64>()
    );
    emu.shutdown().await;
    (rate, fraction)
}

/// A naive client: one POST per record, sequential, same rate limit, retrying
/// after Retry-After on 429 (it is at least polite).
async fn one_request_per_record(n: usize) -> f64 {
    let mut config = Config::unlimited();
    config.hubspot_rate_limit = Some(LIMIT);
    let emu = Emulator::start(config).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/crm/v3/objects/contacts", emu.crm_url());
    let start = Instant::now();
    for c in customers(n, "Naive") {
        loop {
            let r = client
                .post(&url)
                .bearer_auth(emu.token())
                .json(&json!({"properties": {"firstname": c.fields.first_name, "lastname": c.fields.last_name, "email": c.fields.email}}))
                .send()
                .await
                .unwrap();
            if r.status().as_u16() == 429 {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            assert!(r.status().is_success(), "{}", r.status());
            break;
        }
    }
    let took = start.elapsed().as_secs_f64();
    emu.shutdown().await;
    let rate = n as f64 / took;
    eprintln!("baseline: {n} records one request each in {took:.1} s = {rate:.1} records/s");
    rate
}

async fn reconnect_latency(trials: usize) -> Vec<Duration> {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (_dir, store, secrets) = setup(&emu, EndpointKind::GenericRest).await;
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    let mut out = Vec::new();
    for t in 0..trials {
        emu.down().await;
        let id = store
            .create_customer(&customers(1, &format!("Trial{t}x"))[0])
            .await
            .unwrap()
            .id;
        // Outages of 1 to 5 s, so the probe backoff is at different points.
        tokio::time::sleep(Duration::from_millis(1000 + (t as u64 * 211) % 4000)).await;
        emu.up().await.unwrap();
        let back = Instant::now();
        while store.customer(id).await.unwrap().unwrap().sync_state != SyncState::Synced {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        out.push(back.elapsed());
    }
    engine.stop(Duration::from_secs(5)).await;
    emu.shutdown().await;
    out.sort();
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30_000);
    let (rate, fraction) = flush_throughput(n).await;
    let (rate_10k, fraction_10k) = flush_throughput(10_000).await;
    let baseline = one_request_per_record(300).await;
    let latencies = reconnect_latency(20).await;
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!("| measurement | value | baseline | ratio |");
    println!("|---|---:|---:|---:|");
    let ceiling = ceiling_records_per_sec();
    println!(
        "| flush {n} records, HubSpot limit 100 req/10 s, batches of 100 | {rate:.0} records/s | ceiling {ceiling:.0} records/s | {:.0} % |",
        fraction * 100.0
    );
    println!(
        "| flush 10000 records, same limit | {rate_10k:.0} records/s | ceiling {ceiling:.0} records/s | {:.0} % |",
        fraction_10k * 100.0
    );
    println!("| vs one request per record (same limit) | {rate:.0} records/s | {baseline:.1} records/s | {:.0}x |", rate / baseline);
    println!(
        "| reconnect: CRM back up → first delivery, 20 trials | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms | - | - |",
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.95).as_secs_f64() * 1000.0,
        pct(1.0).as_secs_f64() * 1000.0
    );
}
