//! Zoho CRM connector figures (issue 17) against the emulator's Zoho API
//! over loopback, each with its baseline from the same run:
//! - a flush of 10,000 queued customers: the API credits it used per 1,000
//!   customers against the minimum (an upsert of 100 records costs 10
//!   credits, so 100 per 1,000), and its records/s against what the
//!   emulator's concurrency limit allows (each request holds one of
//!   `CONCURRENCY` slots for `REQUEST_COST`: at most CONCURRENCY /
//!   REQUEST_COST requests per second, 100 records each) while it
//!   delivers and over the whole flush from the engine's start (which adds
//!   the sign-in, the set-up check and the first claim, once whatever the
//!   queue's size), with the `TOO_MANY_REQUESTS` answers it took (goal:
//!   none);
//! - the working-set pull (`pull_pass`) of N/10 and N contacts: records/s
//!   and peak resident-set growth, in a child process (this binary again),
//!   so the emulator's own memory is not counted as Outpost's.
//!
//!     cargo bench -p outpost-core --bench zoho [-- [flush] [pull] [N]]   (N = 100000 contacts; about 2 minutes)

#[path = "common/flush.rs"]
mod flush;
#[path = "common/memory.rs"]
mod memory;
#[path = "common/pull.rs"]
mod pull;

use pull::PullRow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator, ZohoSettingsChange};
use outpost_core::crm;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{Sensitive, Store};

/// Records per upsert (Zoho's maximum, the connector's default).
const BATCH: usize = 100;
/// The org's concurrency limit in the flush, on both sides (the
/// emulator's and Outpost's `concurrency` setting).
const CONCURRENCY: u32 = 4;
/// How long the emulator holds a slot per request in the flush.
const REQUEST_COST: Duration = Duration::from_millis(200);
const TOKEN: &str = "POST /oauth/v2/token";
const CHILD_ENV: &str = "OUTPOST_ZOHO_BENCH_PULL";

/// A device (store + secrets) with a Zoho endpoint `crm` whose accounts
/// server and API are both the emulator at `url`.
async fn device(
    dir: &tempfile::TempDir,
    url: &str,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
    settings: EndpointSettings,
) -> (Store, Arc<dyn SecretStore>) {
    let store = Store::open(dir.path().join("bench.db")).await.unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    for (kind, value) in [
        (SecretKind::ClientSecret, client_secret),
        (SecretKind::RefreshToken, refresh_token),
    ] {
        secrets
            .set("crm", kind, &Sensitive::new(value.to_owned()))
            .await
            .unwrap();
    }
    store
        .save_endpoint(&EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::Zoho,
            base_url: url.to_owned(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                auth: AuthMethod::OauthRefresh,
                client_id: Some(client_id.to_owned()),
                token_url: Some(format!("{url}/oauth/v2/token")),
                ..settings
            },
        })
        .await
        .unwrap();
    (store, secrets)
}

fn credits_used(emu: &Emulator) -> u64 {
    emu.zoho_settings()["credits"]["used"].as_u64().unwrap()
}

struct Flush {
    secs: f64,
    phase_secs: f64,
    before_upserts: Start,
    upserts: u64,
    too_many: u64,
    credits: u64,
    by_outcome: BTreeMap<String, u64>,
    retried: i64,
}

/// What happens before the first upsert, in ms from the engine's start.
struct Start {
    token_ms: i64,
    check_ms: i64,
    first_upsert_ms: i64,
}

/// Queues `n` customers, then times a new engine's flush of them until
/// nothing is pending, under the concurrency limit on both sides.
async fn flush(n: usize) -> Flush {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.set_zoho_concurrency(CONCURRENCY);
    let dir = tempfile::TempDir::new().unwrap();
    let c = emu.config();
    let refresh = emu.issue_zoho_refresh_token(None);
    let settings = EndpointSettings {
        pull_enabled: Some(false),
        concurrency: Some(CONCURRENCY),
        ..Default::default()
    };
    let (store, secrets) = device(
        &dir,
        &emu.crm_url(),
        &c.oauth_client_id,
        &c.oauth_client_secret,
        &refresh,
        settings,
    )
    .await;
    for chunk in flush::customers(n).chunks(5000) {
        store.create_customers(chunk).await.unwrap();
    }
    emu.change_zoho_settings(ZohoSettingsChange {
        request_cost_ms: Some(REQUEST_COST.as_millis() as u64),
        ..Default::default()
    })
    .unwrap();
    let before = emu.stats();
    let credits_before = credits_used(&emu);
    let start = Instant::now();
    let started = chrono::Utc::now();
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    engine.stop(Duration::from_secs(5)).await;
    let credits = credits_used(&emu) - credits_before;
    let by_outcome = flush::requests_since(&emu, &before);
    // The upsert phase: from the first upsert's start (its answer less the
    // request cost) to the last answer, without the sign-in and set-up.
    let upserts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|e| e.endpoint.ends_with("/upsert"))
        .map(|e| e.at)
        .collect();
    // Before the first upsert: when the token and the set-up check were
    // answered, and the first upsert sent, in ms from the engine's start.
    let ms_since_start = |at: chrono::DateTime<chrono::Utc>| (at - started).num_milliseconds();
    let log = emu.requests();
    let answered = |part: &str| {
        log.iter()
            .filter(|e| e.endpoint.contains(part))
            .map(|e| ms_since_start(e.at))
            .max()
    };
    let before_upserts = Start {
        token_ms: answered("/oauth/v2/token").unwrap_or(0),
        check_ms: answered("/settings/").unwrap_or(0),
        first_upsert_ms: upserts
            .first()
            .map_or(0, |a| ms_since_start(*a) - REQUEST_COST.as_millis() as i64),
    };
    let phase_secs = match (upserts.first(), upserts.last()) {
        (Some(a), Some(b)) => {
            (*b - *a).num_milliseconds() as f64 / 1000.0 + REQUEST_COST.as_secs_f64()
        }
        _ => 0.0,
    };
    flush::trace_requests(&emu);
    assert_eq!(store.status().await.unwrap().needs_attention, 0);
    let (retried,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox WHERE attempts > 1")
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    let contacts = emu
        .records()
        .into_iter()
        .filter(|r| r.api == "zoho")
        .count();
    assert_eq!(contacts, n, "every customer in Zoho, once");
    emu.shutdown().await;
    let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
        by_outcome
            .iter()
            .filter(|(k, _)| pred(k))
            .map(|(_, v)| v)
            .sum()
    };
    let f = Flush {
        secs,
        phase_secs,
        before_upserts,
        upserts: count(&|k| {
            k.contains("/upsert") && (k.ends_with("→ 200") || k.ends_with("→ 207"))
        }),
        too_many: count(&|k| k.ends_with("→ 429")),
        credits,
        by_outcome,
        retried,
    };
    eprintln!(
        "flush {n}: {:.1} s = {:.0} records/s; {} upserts, {} credits, {} × 429, {} sent more than once; {:?}",
        f.secs,
        n as f64 / f.secs,
        f.upserts,
        f.credits,
        f.too_many,
        f.retried,
        f.by_outcome
    );
    f
}

// ---- the pull, measured in a child process ----

async fn pull_child(spec: &str) {
    let mut parts = spec.split(' ');
    let (url, id, secret, refresh) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let dir = tempfile::TempDir::new().unwrap();
    let (store, secrets) =
        device(&dir, url, id, secret, refresh, EndpointSettings::default()).await;
    let config = store.endpoint("crm").await.unwrap().unwrap();
    let connector = crm::build(&config, secrets).await.unwrap();
    pull::measure_in_child(store, connector.as_ref()).await;
}

/// Seeds `n` contacts (1,000 per call, so many share Zoho's whole-second
/// `Modified_Time`), then has the child pull them.
async fn pull(n: usize) -> PullRow {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let chunk: Vec<BTreeMap<String, String>> = (i..(i + 1000).min(n))
            .map(|j| {
                BTreeMap::from([
                    ("First_Name".to_string(), format!("Pulled{j}")),
                    ("Last_Name".to_string(), "Contact".to_string()),
                    ("Email".to_string(), format!("pulled{j}@zoho.example")),
                    ("Phone".to_string(), format!("+1 555 {:07}", j)),
                    ("Mailing_City".to_string(), "Chennai".to_string()),
                ])
            })
            .collect();
        i += chunk.len();
        emu.seed_zoho("Contacts", chunk).unwrap();
    }
    let seed_secs = t.elapsed().as_secs_f64();
    eprintln!("seeded {n} contacts in {seed_secs:.1} s");
    let before = emu.stats();
    let c = emu.config();
    let spec = format!(
        "{} {} {} {}",
        emu.crm_url(),
        c.oauth_client_id,
        c.oauth_client_secret,
        emu.issue_zoho_refresh_token(None)
    );
    let child = pull::run_child(CHILD_ENV, spec).await;
    let by_outcome = flush::requests_since(&emu, &before);
    eprintln!("pull {n}: requests {by_outcome:?}");
    emu.shutdown().await;
    PullRow::new(n, seed_secs, &by_outcome, TOKEN, child)
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
    let n = 10_000;
    let f = flush(n).await;
    // What the concurrency limit allows: every slot busy all the time.
    let calls = n.div_ceil(BATCH) as f64;
    let per_sec = f64::from(CONCURRENCY) / REQUEST_COST.as_secs_f64();
    let ideal_secs = calls / per_sec;
    let per_1000 = f.credits as f64 * 1000.0 / n as f64;
    println!("\n| measurement | value | baseline | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| credits per 1,000 customers, flush of {n} | {per_1000:.1} ({} credits, {} upserts) | minimum 100 (10 per upsert of 100) | {:.1} % over |",
        f.credits,
        f.upserts,
        (per_1000 / 100.0 - 1.0) * 100.0
    );
    println!(
        "| records/s while delivering, concurrency {CONCURRENCY}, {} ms per request (Zoho's and Outpost's limit): first upsert sent to last answer | {:.0} records/s ({:.2} s) | what the limit allows: {:.0} records/s ({ideal_secs:.1} s) | {:.0} % |",
        REQUEST_COST.as_millis(),
        n as f64 / f.phase_secs,
        f.phase_secs,
        n as f64 / ideal_secs,
        ideal_secs / f.phase_secs * 100.0
    );
    let b = &f.before_upserts;
    println!(
        "| the whole flush from the engine's start (token answered at {} ms, the set-up check at {} ms, first upsert sent at {} ms) | {:.0} records/s ({:.2} s) | {:.0} records/s ({ideal_secs:.1} s) | {:.0} % |",
        b.token_ms,
        b.check_ms,
        b.first_upsert_ms,
        n as f64 / f.secs,
        f.secs,
        n as f64 / ideal_secs,
        ideal_secs / f.secs * 100.0
    );
    println!(
        "| TOO_MANY_REQUESTS answers in the same flush | {} | 0 | - |",
        f.too_many
    );
    println!("| messages sent more than once | {} | 0 | - |", f.retried);
    println!("\nrequests by label and outcome: {:?}", f.by_outcome);
}

async fn pull_figures(n: usize) {
    let small = pull(n / 10).await;
    let big = pull(n).await;
    pull::print_table("contacts", &small, &big);
}
