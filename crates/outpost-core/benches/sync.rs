//! Sync figures against the CRM emulator over loopback, each with its baseline
//! measured in the same run:
//! - flush throughput under a HubSpot-like limit (100 requests / 10 s, 100
//!   records per batch) as a fraction of that ceiling, and against a client
//!   that sends one request per record;
//! - flush of 10,000 queued edits of customers already in HubSpot (issue 14:
//!   a batch read and a batch update per 100) under the same limit, as a
//!   fraction of the create ceiling and of the edit ceiling;
//! - reconnect latency: CRM back up → first successful delivery, 20 trials.
//!
//!     cargo bench -p outpost-core --bench sync [-- RECORDS]   (default 30000; about 3 minutes)

use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Api, Config, Emulator, RateLimit};
use outpost_core::customer::{CustomerEdit, CustomerFields, Field};
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{NewCustomer, Sensitive, Store, SyncState};
use serde_json::json;

const LIMIT: RateLimit = RateLimit {
    max: 100,
    window: Duration::from_secs(10),
};

fn endpoint(emu: &Emulator, kind: EndpointKind, settings: EndpointSettings) -> EndpointConfig {
    EndpointConfig {
        name: "crm".into(),
        kind,
        base_url: emu.crm_url(),
        connectivity: Connectivity::OnlineOffline,
        priority: 1,
        settings,
    }
}

fn limited() -> EndpointSettings {
    EndpointSettings {
        batch_size: Some(100),
        rate_limit: Some(LIMIT.max),
        rate_window_secs: Some(LIMIT.window.as_secs() as u32),
        ..Default::default()
    }
}

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
        .save_endpoint(&endpoint(emu, kind, limited()))
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

/// Requests per emulator endpoint, for differences between two moments.
fn requests_by_endpoint(emu: &Emulator) -> std::collections::BTreeMap<String, u64> {
    emu.stats()
        .endpoints
        .iter()
        .map(|(e, outcomes)| (e.clone(), outcomes.values().sum()))
        .collect()
}

fn count_429(emu: &Emulator) -> u64 {
    emu.stats()
        .endpoints
        .values()
        .filter_map(|m| m.get("429"))
        .sum()
}

/// What the edit flush measured.
struct EditFlush {
    rate: f64,
    took: f64,
    requests: u64,
    too_many: u64,
    by_endpoint: Vec<(String, u64)>,
}

/// Flushes `n` queued edits of customers that are already in HubSpot. The
/// set-up, untimed: `n` customers created here and flushed (so each has its
/// contact and CRM id; the emulator's limit is off, Outpost's throttle
/// keeps its budget), then each edited once (last name; every other one its
/// city too). Then HubSpot's limit goes on (a fresh window) and a new
/// engine (a fresh throttle) flushes the edits: per 100, one `batch/read`
/// of the changed properties and one `batch/update`. The working-set pull
/// is off, so the requests counted are the edits' delivery and the
/// engine's start (probe, form refresh). Checks at the end that every edit
/// is in HubSpot.
async fn edit_flush_throughput(n: usize) -> EditFlush {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (_dir, store, secrets) = setup(&emu, EndpointKind::Hubspot).await;
    let no_pull = EndpointSettings {
        pull_enabled: Some(false),
        ..limited()
    };
    store
        .save_endpoint(&endpoint(&emu, EndpointKind::Hubspot, no_pull))
        .await
        .unwrap();
    let mut ids = Vec::with_capacity(n);
    for chunk in customers(n, "Edit").chunks(5000) {
        ids.extend(store.create_customers(chunk).await.unwrap());
    }
    let t = Instant::now();
    let engine = SyncEngine::start(store.clone(), secrets.clone())
        .await
        .unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.stop(Duration::from_secs(5)).await;
    let contacts = |emu: &Emulator| {
        emu.records()
            .into_iter()
            .filter(|r| r.api == "hubspot" && r.object == "contacts")
            .collect::<Vec<_>>()
    };
    assert_eq!(contacts(&emu).len(), n, "every create in HubSpot");
    eprintln!(
        "set-up: {n} creates flushed in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    for (i, &id) in ids.iter().enumerate() {
        let c = store.customer(id).await.unwrap().unwrap();
        assert!(c.crm_id.is_some(), "synced with its CRM id");
        let mut edit = CustomerEdit::default().set(Field::LastName, format!("Edited{i}"));
        if i.is_multiple_of(2) {
            edit = edit.set(Field::City, "Lisbon");
        }
        store.edit_customer(id, &edit).await.unwrap();
    }
    let queued = store.status().await.unwrap().pending;
    assert_eq!(queued, n as u64, "one update queued per customer");
    eprintln!(
        "set-up: {n} edits queued in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    emu.set_rate_limit(Api::Hubspot, Some(LIMIT));
    let (before, before_429) = (requests_by_endpoint(&emu), count_429(&emu));
    let start = Instant::now();
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = start.elapsed().as_secs_f64();
    engine.stop(Duration::from_secs(5)).await;
    let after = requests_by_endpoint(&emu);
    let by_endpoint: Vec<(String, u64)> = after
        .iter()
        .map(|(e, &k)| (e.clone(), k - before.get(e).copied().unwrap_or(0)))
        .filter(|(_, k)| *k > 0)
        .collect();
    let requests = by_endpoint.iter().map(|(_, k)| k).sum();
    let too_many = count_429(&emu) - before_429;

    // Every edit reached HubSpot, nothing refused, no conflict.
    let status = store.status().await.unwrap();
    assert_eq!(status.needs_attention, 0, "no edit refused");
    assert_eq!(status.conflicts, Some(0), "no conflict");
    let index: std::collections::HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i))
        .collect();
    let mut delivered = 0;
    for r in contacts(&emu) {
        let props = &r.record["properties"];
        let key = r.key.as_deref().expect("a contact with its Outpost key");
        let i = index[key];
        assert_eq!(
            props["lastname"],
            format!("Edited{i}"),
            "edit {i} in HubSpot"
        );
        if i.is_multiple_of(2) {
            assert_eq!(props["city"], "Lisbon", "edit {i}'s city in HubSpot");
        }
        delivered += 1;
    }
    assert_eq!(delivered, n, "every edit in HubSpot");
    emu.shutdown().await;
    let rate = n as f64 / took;
    eprintln!(
        "edits: {n} in {took:.1} s = {rate:.0} records/s ({:.0} % of the create ceiling, {:.0} % of the edit ceiling); {requests} requests {by_endpoint:?}; 429s: {too_many}",
        rate / ceiling_records_per_sec() * 100.0,
        rate / edit_ceiling_records_per_sec() * 100.0,
    );
    EditFlush {
        rate,
        took,
        requests,
        too_many,
        by_endpoint,
    }
}

/// An edit batch costs two requests (a read and a write) per 100.
fn edit_ceiling_records_per_sec() -> f64 {
    ceiling_records_per_sec() / 2.0
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
    let edits = edit_flush_throughput(10_000).await;
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
    println!(
        "| flush 10000 queued edits of customers in HubSpot, same limit (batch read + batch update per 100) | {:.0} records/s ({:.1} s, {} requests, {} × 429) | create ceiling {ceiling:.0} records/s; edit ceiling {:.0} records/s | {:.0} % of the create ceiling; {:.0} % of the edit ceiling |",
        edits.rate,
        edits.took,
        edits.requests,
        edits.too_many,
        edit_ceiling_records_per_sec(),
        edits.rate / ceiling * 100.0,
        edits.rate / edit_ceiling_records_per_sec() * 100.0
    );
    eprintln!("edit flush requests by endpoint: {:?}", edits.by_endpoint);
    println!("| vs one request per record (same limit) | {rate:.0} records/s | {baseline:.1} records/s | {:.0}x |", rate / baseline);
    println!(
        "| reconnect: CRM back up → first delivery, 20 trials | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms | - | - |",
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.95).as_secs_f64() * 1000.0,
        pct(1.0).as_secs_f64() * 1000.0
    );
}
