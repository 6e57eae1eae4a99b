//! Salesforce connector figures (issue 15) against the emulator's
//! Salesforce API over loopback, each with its baseline from the same run:
//! - requests per 1,000 customers in a flush of 10,000 queued customers
//!   (every request the emulator saw, by label; the token endpoint apart),
//!   against the minimum of 5 (200 records per sObject Collections upsert);
//! - records/s of the same flush against a per-second ceiling (the org's
//!   budget and Outpost's throttle both 5 requests per 1 s, so 1,000
//!   records/s), with the 403 `REQUEST_LIMIT_EXCEEDED` answers it took, and
//!   against a client that upserts one record per request under that limit,
//!   and against a direct client sending the same 50 batches (the
//!   emulator's own ceiling: its upsert scans every record per key); then
//!   under 5 requests per 5 s (200 records/s), which the emulator keeps up
//!   with, so the ratio is Outpost's pacing. Messages sent more than once,
//!   and why (from the audit log), for each;
//! - the working-set pull (`pull_pass`) of N/10 and N Contacts: records/s
//!   and peak resident-set growth. The pull runs in a child process (this
//!   binary again), so the emulator's own memory (it renders a whole query
//!   into its locator) is not counted as Outpost's.
//!
//!     cargo bench -p outpost-core --bench salesforce [-- [flush] [pull] [N]]   (N = 100000 contacts; about 5 minutes)

#[path = "common/memory.rs"]
mod memory;
#[path = "common/pull.rs"]
mod pull;

use pull::PullRow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Api, Config, Emulator, RateLimit};
use outpost_core::crm;
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{NewCustomer, Sensitive, Store};
use serde_json::json;

/// Records per sObject Collections request.
const BATCH: usize = 200;
/// The per-second ceiling of the second measurement.
const LIMIT: RateLimit = RateLimit {
    max: 5,
    window: Duration::from_secs(1),
};
/// A ceiling the emulator can keep up with to the end (a 200-record
/// upsert into 10,000 records takes it ~0.65 s): 200 records/s.
const SLOW_LIMIT: RateLimit = RateLimit {
    max: 5,
    window: Duration::from_secs(5),
};
const TOKEN: &str = "POST /services/oauth2/token";
const UPSERT: &str = "PATCH /services/data/{version}/composite/sobjects/{object}/{field}";
const CHILD_ENV: &str = "OUTPOST_SF_BENCH_PULL";

fn salesforce_settings(
    emu_url: &str,
    client_id: &str,
    extra: EndpointSettings,
) -> EndpointSettings {
    EndpointSettings {
        auth: AuthMethod::OauthClientCredentials,
        client_id: Some(client_id.to_owned()),
        token_url: Some(format!("{emu_url}/services/oauth2/token")),
        ..extra
    }
}

/// A device (store + secrets) with a Salesforce endpoint `crm` on `url`.
async fn device(
    dir: &tempfile::TempDir,
    url: &str,
    client_id: &str,
    client_secret: &str,
    settings: EndpointSettings,
) -> (Store, Arc<dyn SecretStore>) {
    let store = Store::open(dir.path().join("bench.db")).await.unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    secrets
        .set(
            "crm",
            SecretKind::ClientSecret,
            &Sensitive::new(client_secret.to_owned()),
        )
        .await
        .unwrap();
    store
        .save_endpoint(&EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::Salesforce,
            base_url: url.to_owned(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: salesforce_settings(url, client_id, settings),
        })
        .await
        .unwrap();
    (store, secrets)
}

async fn emu_device(
    emu: &Emulator,
    dir: &tempfile::TempDir,
    settings: EndpointSettings,
) -> (Store, Arc<dyn SecretStore>) {
    let c = emu.config();
    device(
        dir,
        &emu.crm_url(),
        &c.oauth_client_id,
        &c.oauth_client_secret,
        settings,
    )
    .await
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

/// Requests per label since `before` (all outcomes), and the 403s.
fn requests_since(
    emu: &Emulator,
    before: &crm_emulator::StatsSnapshot,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let now = emu.stats();
    let mut all = BTreeMap::new();
    let mut by_outcome = BTreeMap::new();
    for (label, outcomes) in &now.endpoints {
        for (outcome, &k) in outcomes {
            let was = before
                .endpoints
                .get(label)
                .and_then(|m| m.get(outcome))
                .copied()
                .unwrap_or(0);
            if k > was {
                *all.entry(label.clone()).or_insert(0) += k - was;
                *by_outcome
                    .entry(format!("{label} → {outcome}"))
                    .or_insert(0) += k - was;
            }
        }
    }
    (all, by_outcome)
}

struct Flush {
    n: usize,
    secs: f64,
    /// Every request but the token endpoint's.
    requests: u64,
    token_requests: u64,
    upserts: u64,
    too_many: u64,
    by_outcome: BTreeMap<String, u64>,
    timeline: String,
    why: String,
    retried: i64,
    max_attempts: i64,
}

/// Queues `n` customers, then times a new engine's flush of them until
/// nothing is pending. The working-set pull is off, so the requests
/// counted are the delivery's and the engine's start (probe, describe).
async fn flush(n: usize, limit: Option<RateLimit>) -> Flush {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.set_rate_limit(
        Api::Salesforce,
        limit.or(Some(RateLimit::SALESFORCE_DEFAULT)),
    );
    let dir = tempfile::TempDir::new().unwrap();
    let settings = EndpointSettings {
        batch_size: Some(BATCH as u32),
        pull_enabled: Some(false),
        rate_limit: limit.map(|l| l.max),
        rate_window_secs: limit.map(|l| l.window.as_secs() as u32),
        ..Default::default()
    };
    let (store, secrets) = emu_device(&emu, &dir, settings).await;
    for chunk in customers(n, "Flush").chunks(5000) {
        store.create_customers(chunk).await.unwrap();
    }
    let before = emu.stats();
    let start = Instant::now();
    let wall = chrono::Utc::now();
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    engine.stop(Duration::from_secs(5)).await;
    let (by_label, by_outcome) = requests_since(&emu, &before);
    // When the requests' answers were sent, in ms from the engine's start.
    let log: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.seq > before.total)
        .collect();
    let ms = |r: &crm_emulator::RequestLogEntry| (r.at - wall).num_milliseconds();
    let upserts: Vec<i64> = log
        .iter()
        .filter(|r| r.endpoint == UPSERT)
        .map(ms)
        .collect();
    let timeline = format!(
        "first answer {} ms, first upsert {} ms, last upsert {} ms, all delivered {:.0} ms; before the first upsert: {:?}",
        log.first().map(ms).unwrap_or(0),
        upserts.first().copied().unwrap_or(0),
        upserts.last().copied().unwrap_or(0),
        secs * 1000.0,
        log.iter()
            .take_while(|r| r.endpoint != UPSERT)
            .map(|r| format!("{} @{}", r.endpoint, ms(r)))
            .collect::<Vec<_>>()
    );
    let status = store.status().await.unwrap();
    assert_eq!(status.needs_attention, 0, "no customer refused");
    // Messages sent more than once: held back by the budget reader (a
    // transient failure before any request) or refused with a 403.
    let (retried, max_attempts): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(max(attempts), 0) FROM outbox WHERE attempts > 1",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    // Why: the audit log keeps every attempt's outcome (the outbox forgets
    // the last error once a message is delivered).
    let why: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT outcome, detail, count(*) FROM sync_audit WHERE outcome NOT LIKE '%delivered' GROUP BY 1, 2",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .unwrap();
    eprintln!("attempts that did not deliver, by outcome and detail: {why:?}");
    let why = why
        .iter()
        .map(|(o, d, k)| format!("{k} × {o}: {}", d.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("; ");
    let contacts = emu
        .records()
        .into_iter()
        .filter(|r| r.api == "salesforce")
        .count();
    assert_eq!(contacts, n, "every customer in Salesforce");
    emu.shutdown().await;
    let token_requests = by_label.get(TOKEN).copied().unwrap_or(0);
    let requests = by_label.values().sum::<u64>() - token_requests;
    let too_many = by_outcome
        .iter()
        .filter(|(k, _)| k.ends_with("→ 403"))
        .map(|(_, v)| v)
        .sum();
    let f = Flush {
        n,
        secs,
        requests,
        token_requests,
        upserts: by_label.get(UPSERT).copied().unwrap_or(0),
        too_many,
        by_outcome,
        timeline,
        why,
        retried,
        max_attempts,
    };
    eprintln!(
        "flush {n} (limit {limit:?}): {:.1} s = {:.0} records/s; {} requests (+{} token), {} upserts, {} × 403; {} messages sent more than once (at most {} attempts); {:?}",
        f.secs,
        n as f64 / f.secs,
        f.requests,
        f.token_requests,
        f.upserts,
        f.too_many,
        f.retried,
        f.max_attempts,
        f.by_outcome
    );
    f
}

/// A naive client under the same limit: one upsert by external id per
/// record, sequential, waiting the window out after a 403
/// `REQUEST_LIMIT_EXCEEDED` (Salesforce sends no Retry-After).
async fn one_request_per_record(n: usize) -> (f64, u64) {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.set_rate_limit(Api::Salesforce, Some(LIMIT));
    let client = reqwest::Client::new();
    let mut refused = 0;
    let start = Instant::now();
    for c in customers(n, "Naive") {
        let url = format!(
            "{}/services/data/v60.0/sobjects/Contact/Outpost_Key__c/{}",
            emu.crm_url(),
            uuid::Uuid::now_v7()
        );
        loop {
            let r = client
                .patch(&url)
                .bearer_auth(emu.token())
                .json(&json!({"FirstName": c.fields.first_name, "LastName": c.fields.last_name, "Email": c.fields.email}))
                .send()
                .await
                .unwrap();
            if r.status().as_u16() == 403 {
                refused += 1;
                tokio::time::sleep(LIMIT.window).await;
                continue;
            }
            assert!(r.status().is_success(), "{}", r.status());
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    emu.shutdown().await;
    let rate = n as f64 / secs;
    eprintln!("baseline: {n} records one request each in {secs:.1} s = {rate:.2} records/s, {refused} × 403");
    (rate, refused)
}

/// The emulator's own ceiling for the same work: a direct client sending
/// the same sObject Collections upserts of 200 new records, one after
/// another, under `limit` (or only the daily budget), retrying 20 ms after
/// a 403 (the rolling window frees a slot as soon as the oldest request is
/// a window old). Returns records/s, the 403s, and the first and last
/// batch's answer time in ms (the emulator looks every record's key up by
/// a scan of all records, so a batch costs more the more it holds).
async fn direct_batches(n: usize, limit: Option<RateLimit>) -> (f64, u64, f64, f64) {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.set_rate_limit(
        Api::Salesforce,
        limit.or(Some(RateLimit::SALESFORCE_DEFAULT)),
    );
    let client = reqwest::Client::new();
    let url = format!(
        "{}/services/data/v60.0/composite/sobjects/Contact/Outpost_Key__c",
        emu.crm_url()
    );
    let mut refused = 0;
    let mut answer_ms = Vec::new();
    let start = Instant::now();
    for chunk in customers(n, "Direct").chunks(BATCH) {
        let records: Vec<serde_json::Value> = chunk
            .iter()
            .map(|c| {
                json!({
                    "attributes": {"type": "Contact"},
                    "Outpost_Key__c": uuid::Uuid::now_v7().to_string(),
                    "FirstName": c.fields.first_name,
                    "LastName": c.fields.last_name,
                    "Email": c.fields.email,
                    "Phone": c.fields.phone,
                })
            })
            .collect();
        let body = json!({"allOrNone": false, "records": records});
        loop {
            let t = Instant::now();
            let r = client
                .patch(&url)
                .bearer_auth(emu.token())
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let _ = r.bytes().await.unwrap();
            if status == 403 {
                refused += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            assert_eq!(status, 200);
            answer_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    emu.shutdown().await;
    let rate = n as f64 / secs;
    let (first, last) = (answer_ms[0], *answer_ms.last().unwrap());
    eprintln!(
        "direct batches ({limit:?}): {n} in {secs:.1} s = {rate:.0} records/s, {refused} × 403; answer ms first {first:.0}, last {last:.0}"
    );
    (rate, refused, first, last)
}

// ---- the pull, measured in a child process ----

/// The child: one pull pass from the emulator named in the environment;
/// prints `PULL secs fetched inserted pages rss_growth_kib sqlite_peak_mib db_mib`.
async fn pull_child(spec: &str) {
    let mut parts = spec.split(' ');
    let (url, id, secret) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let dir = tempfile::TempDir::new().unwrap();
    let (store, secrets) = device(&dir, url, id, secret, EndpointSettings::default()).await;
    let config = store.endpoint("crm").await.unwrap().unwrap();
    let sf = crm::build(&config, secrets).await.unwrap();
    pull::measure_in_child(store, sf.as_ref()).await;
}

/// Seeds `n` Contacts (1,000 per call, a few milliseconds apart, so stamps
/// spread over a second or more and many share one), then has the child
/// pull them.
async fn pull(n: usize) -> PullRow {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let chunk: Vec<BTreeMap<String, String>> = (i..(i + 1000).min(n))
            .map(|j| {
                BTreeMap::from([
                    ("FirstName".to_string(), format!("Pulled{j}")),
                    ("LastName".to_string(), "Contact".to_string()),
                    ("Email".to_string(), format!("pulled{j}@sf.example")),
                    ("Phone".to_string(), format!("+1 555 {:07}", j)),
                    ("MailingCity".to_string(), "Boston".to_string()),
                ])
            })
            .collect();
        i += chunk.len();
        emu.seed_salesforce("Contact", chunk);
        std::thread::sleep(Duration::from_millis(2));
    }
    let seed_secs = t.elapsed().as_secs_f64();
    eprintln!("seeded {n} Contacts in {seed_secs:.1} s");
    let before = emu.stats();
    let c = emu.config();
    let spec = format!(
        "{} {} {}",
        emu.crm_url(),
        c.oauth_client_id,
        c.oauth_client_secret
    );
    let child = pull::run_child(CHILD_ENV, spec).await;
    let (by_label, _) = requests_since(&emu, &before);
    eprintln!("pull {n}: requests {by_label:?}");
    emu.shutdown().await;
    PullRow::new(n, seed_secs, &by_label, TOKEN, child)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        pull_child(&spec).await;
        return;
    }
    let args = pull::Args::from_env(100_000);
    if args.wants("flush") {
        flush_figures().await;
    }
    if args.wants("pull") {
        pull_figures(args.n).await;
    }
}

async fn flush_figures() {
    // 1. Requests per 1,000 customers (daily budget only, as an org has).
    let plain = flush(10_000, None).await;
    // 2. The same flush against a per-second ceiling, and the baseline.
    let limited = flush(10_000, Some(LIMIT)).await;
    let (baseline, baseline_403) = one_request_per_record(100).await;
    let direct_limited = direct_batches(10_000, Some(LIMIT)).await;
    let direct_plain = direct_batches(10_000, None).await;
    let slow = flush(10_000, Some(SLOW_LIMIT)).await;

    let ceiling = LIMIT.max as f64 * BATCH as f64 / LIMIT.window.as_secs_f64();
    let per_1000 = |f: &Flush| f.requests as f64 * 1000.0 / f.n as f64;
    println!("\n| measurement | value | baseline | ratio |");
    println!("|---|---:|---:|---:|");
    for (f, what) in [(&plain, "daily budget only"), (&limited, "limit 5 req/1 s")] {
        println!(
            "| flush {} queued customers ({what}): requests per 1,000 customers | {:.2} ({} requests: {} upserts, {} others; + {} token) | minimum 5.00 | {:.3}x |",
            f.n,
            per_1000(f),
            f.requests,
            f.upserts,
            f.requests - f.upserts,
            f.token_requests,
            per_1000(f) / 5.0
        );
    }
    let rate = limited.n as f64 / limited.secs;
    println!(
        "| flush {} queued customers, limit 5 req/1 s (org and throttle), batches of {BATCH} | {rate:.0} records/s ({:.1} s, {} × 403) | ceiling {ceiling:.0} records/s | {:.0} % |",
        limited.n,
        limited.secs,
        limited.too_many,
        rate / ceiling * 100.0
    );
    println!(
        "| vs one upsert per record (same limit, 100 records) | {rate:.0} records/s | {baseline:.2} records/s ({baseline_403} × 403) | {:.0}x |",
        rate / baseline
    );
    println!(
        "| vs a direct client sending the same 50 batches of 200 (same limit): the emulator's own ceiling | {rate:.0} records/s | {:.0} records/s ({} × 403) | {:.0} % |",
        direct_limited.0,
        direct_limited.1,
        rate / direct_limited.0 * 100.0
    );
    let plain_rate = plain.n as f64 / plain.secs;
    println!(
        "| flush {} queued customers, daily budget only (no per-second limit) | {plain_rate:.0} records/s ({:.1} s, {} × 403) | - | - |",
        plain.n, plain.secs, plain.too_many
    );
    println!(
        "| vs the direct client, daily budget only | {plain_rate:.0} records/s | {:.0} records/s (batch answer {:.0} ms first, {:.0} ms last) | {:.0} % |",
        direct_plain.0,
        direct_plain.2,
        direct_plain.3,
        plain_rate / direct_plain.0 * 100.0
    );
    let slow_rate = slow.n as f64 / slow.secs;
    let slow_ceiling = SLOW_LIMIT.max as f64 * BATCH as f64 / SLOW_LIMIT.window.as_secs_f64();
    println!(
        "| flush {} queued customers, limit 5 req/5 s (org and throttle), batches of {BATCH} | {slow_rate:.0} records/s ({:.1} s, {} requests + {} token, {} × 403) | ceiling {slow_ceiling:.0} records/s | {:.0} % |",
        slow.n,
        slow.secs,
        slow.requests,
        slow.token_requests,
        slow.too_many,
        slow_rate / slow_ceiling * 100.0
    );
    for (f, what) in [
        (&plain, "daily budget only"),
        (&limited, "5 req/1 s"),
        (&slow, "5 req/5 s"),
    ] {
        println!(
            "| {what}: messages sent more than once (budget reader held back, or 403) | {} (at most {} attempts) | {} | - |",
            f.retried, f.max_attempts, f.why
        );
    }
    println!("\nrequests by label (and outcome):");
    for (f, what) in [
        (&plain, "daily budget only"),
        (&limited, "limit 5 req/1 s"),
        (&slow, "limit 5 req/5 s"),
    ] {
        println!("- {what}: {:?}\n  {}", f.by_outcome, f.timeline);
    }
}

async fn pull_figures(n: usize) {
    // 3. Pulls of N/10 and N Contacts.
    let small = pull(n / 10).await;
    let big = pull(n).await;
    pull::print_table("Contacts", &small, &big);
}
