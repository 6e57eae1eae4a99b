//! Dynamics 365 connector figures (issue 16) against the emulator's
//! Dataverse Web API over loopback, each with its baseline from the same run:
//! - records/s of a flush of 10,000 queued customers against the service
//!   protection limit (scaled down from 6,000 requests per 300 s to 1,000
//!   per 2 s, so a run takes seconds, not minutes; a `$batch` of 100 weighs
//!   101 requests, as the emulator counts it), against the ceiling: the
//!   earliest finish the sliding window allows for the flush's requests; and
//!   the 429 answers it took (goal: none in steady state);
//! - the working-set pull (`pull_pass`) of N/10 and N contacts: records/s
//!   and peak resident-set growth, in a child process (this binary again),
//!   so the emulator's own memory is not counted as Outpost's.
//!
//!     cargo bench -p outpost-core --bench dynamics [-- [flush] [pull] [N]]   (N = 100000 contacts; about 2 minutes)
//!
//! `OUTPOST_BENCH_TRACE=1` prints the emulator's request log of the flush (ms
//! from the first answer, label, outcome): where the time between batches goes.

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

use crm_emulator::{Api, Config, Emulator, RateLimit};
use outpost_core::crm;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{Sensitive, Store};

/// Operations per `$batch` (the connector's default).
const BATCH: usize = 100;
/// The service protection limit of the flush, scaled down (see above).
const LIMIT: RateLimit = RateLimit {
    max: 1000,
    window: Duration::from_secs(2),
};
const TOKEN: &str = "POST /{tenant}/oauth2/v2.0/token";
const CHILD_ENV: &str = "OUTPOST_DYNAMICS_BENCH_PULL";

/// A device (store + secrets) with a Dynamics endpoint `crm` on `url`.
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
            kind: EndpointKind::Dynamics,
            base_url: url.to_owned(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                auth: AuthMethod::OauthClientCredentials,
                client_id: Some(client_id.to_owned()),
                token_url: Some(format!("{url}/bench-tenant/oauth2/v2.0/token")),
                ..settings
            },
        })
        .await
        .unwrap();
    (store, secrets)
}

struct Flush {
    secs: f64,
    batches: u64,
    too_many: u64,
    by_outcome: BTreeMap<String, u64>,
    retried: i64,
}

/// Queues `n` customers, then times a new engine's flush of them until
/// nothing is pending, under `LIMIT` on both sides (the emulator's limit,
/// Outpost's setting).
async fn flush(n: usize) -> Flush {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    emu.set_rate_limit(Api::Dynamics, Some(LIMIT));
    let dir = tempfile::TempDir::new().unwrap();
    let c = emu.config();
    let settings = EndpointSettings {
        batch_size: Some(BATCH as u32),
        pull_enabled: Some(false),
        rate_limit: Some(LIMIT.max),
        rate_window_secs: Some(LIMIT.window.as_secs() as u32),
        ..Default::default()
    };
    let (store, secrets) = device(
        &dir,
        &emu.crm_url(),
        &c.oauth_client_id,
        &c.oauth_client_secret,
        settings,
    )
    .await;
    for chunk in flush::customers(n).chunks(5000) {
        store.create_customers(chunk).await.unwrap();
    }
    let before = emu.stats();
    let start = Instant::now();
    let engine = SyncEngine::start(store.clone(), secrets).await.unwrap();
    while store.status().await.unwrap().pending > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    engine.stop(Duration::from_secs(5)).await;
    let by_outcome = flush::requests_since(&emu, &before);
    flush::trace_requests(&emu);
    assert_eq!(store.status().await.unwrap().needs_attention, 0);
    let (retried,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox WHERE attempts > 1")
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    let contacts = emu
        .records()
        .into_iter()
        .filter(|r| r.api == "dynamics")
        .count();
    assert_eq!(contacts, n, "every customer in Dynamics, once");
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
        batches: count(&|k| k.contains("$batch") && k.ends_with("→ 200")),
        too_many: count(&|k| k.ends_with("→ 429")),
        by_outcome,
        retried,
    };
    eprintln!(
        "flush {n}: {:.1} s = {:.0} records/s; {} batches, {} × 429, {} sent more than once; {:?}",
        f.secs,
        n as f64 / f.secs,
        f.batches,
        f.too_many,
        f.retried,
        f.by_outcome
    );
    f
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
    let connector = crm::build(&config, secrets).await.unwrap();
    pull::measure_in_child(store, connector.as_ref()).await;
}

/// Seeds `n` contacts (1,000 per call, a few milliseconds apart, so many
/// share a `modifiedon`), then has the child pull them.
async fn pull(n: usize) -> PullRow {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let chunk: Vec<BTreeMap<String, String>> = (i..(i + 1000).min(n))
            .map(|j| {
                BTreeMap::from([
                    ("firstname".to_string(), format!("Pulled{j}")),
                    ("lastname".to_string(), "Contact".to_string()),
                    ("emailaddress1".to_string(), format!("pulled{j}@dv.example")),
                    ("telephone1".to_string(), format!("+1 555 {:07}", j)),
                    ("address1_city".to_string(), "Redmond".to_string()),
                ])
            })
            .collect();
        i += chunk.len();
        emu.seed_dynamics(chunk);
        std::thread::sleep(Duration::from_millis(2));
    }
    let seed_secs = t.elapsed().as_secs_f64();
    eprintln!("seeded {n} contacts in {seed_secs:.1} s");
    let before = emu.stats();
    let c = emu.config();
    let spec = format!(
        "{} {} {}",
        emu.crm_url(),
        c.oauth_client_id,
        c.oauth_client_secret
    );
    let child = pull::run_child(CHILD_ENV, spec).await;
    let by_outcome = flush::requests_since(&emu, &before);
    flush::trace_requests(&emu);
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
    // The ceiling under a sliding window: a request counts for a whole
    // window, so what the first window sent leaves it only one window
    // later, all at once. However a client spreads its requests, at most
    // the limit's worth goes in each window from the start: the least
    // weight the flush needs (each record one operation, each batch one
    // request more) is sent at the earliest one window before the end of
    // ceil(weight / limit) windows. (A fluid "first window at once, then
    // the limit's rate" finish would need requests to leave the window
    // before it ends: no client reaches it.)
    let weight = n + n.div_ceil(BATCH);
    let windows = weight.div_ceil(LIMIT.max as usize) - 1;
    let ideal_secs = windows as f64 * LIMIT.window.as_secs_f64();
    println!("\n| measurement | value | baseline | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| flush {n} queued customers, limit {} requests / {} s (Dataverse's and Outpost's), $batch of {BATCH} | {:.0} records/s ({:.1} s, {} batches) | ceiling {:.0} records/s ({ideal_secs:.1} s: {weight} requests, at most {} in any {} s) | {:.0} % |",
        LIMIT.max,
        LIMIT.window.as_secs(),
        n as f64 / f.secs,
        f.secs,
        f.batches,
        n as f64 / ideal_secs,
        LIMIT.max,
        LIMIT.window.as_secs(),
        ideal_secs / f.secs * 100.0
    );
    println!("| 429 answers in the same flush | {} | 0 | - |", f.too_many);
    println!("| messages sent more than once | {} | 0 | - |", f.retried);
    println!("\nrequests by label and outcome: {:?}", f.by_outcome);
}

async fn pull_figures(n: usize) {
    let small = pull(n / 10).await;
    let big = pull(n).await;
    pull::print_table("contacts", &small, &big);
}
