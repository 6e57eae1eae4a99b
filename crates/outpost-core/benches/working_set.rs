//! Working-set figures (issue 7), each against a baseline measured in the same run:
//! - pulling N contacts from the emulator's HubSpot API with its rate limit on
//!   (100 requests / 10 s): time and records/s as a fraction of the ceiling
//!   (100 requests × 200 records per 10 s), and the process's memory growth
//!   while pulling N/5 and N contacts (flat means pages are streamed);
//! - store size per 100,000 pulled customers;
//! - lookup latency with M customers on the device while a pull writes, against
//!   the same lookups with no pull running.
//!
//!     cargo bench -p outpost-core --bench working_set [-- N [M]]   (defaults 100000 1000000; about 12 minutes)

#[path = "common/memory.rs"]
mod memory;

use memory::{rss_kib, sqlite_peak_mib, RssSampler};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::once::pull_once;
use outpost_core::{NewCustomer, Sensitive, Store};

const PAGE: f64 = 200.0;
const CEILING_REQUESTS: f64 = 100.0;
const CEILING_WINDOW_SECS: f64 = 10.0;

/// An emulator holding `n` contacts modified over time (1,000 per millisecond
/// step), like a CRM filled by daily work rather than one import.
async fn hubspot_with(n: usize, rate_limited: bool) -> Emulator {
    let config = if rate_limited {
        Config::default()
    } else {
        Config::unlimited()
    };
    let emu = Emulator::start(config).await.unwrap();
    let mut i = 0;
    while i < n {
        let chunk: Vec<BTreeMap<String, String>> = (i..(i + 1000).min(n))
            .map(|j| {
                BTreeMap::from([
                    ("firstname".to_string(), format!("Pulled{j}")),
                    ("lastname".to_string(), "Contact".to_string()),
                    ("email".to_string(), format!("pulled{j}@hs.example")),
                    ("phone".to_string(), format!("+1 555 {:07}", j)),
                    ("city".to_string(), "Boston".to_string()),
                ])
            })
            .collect();
        i += chunk.len();
        emu.seed_hubspot("contacts", chunk);
        // The next chunk gets a later modification time.
        std::thread::sleep(Duration::from_millis(2));
    }
    emu
}

async fn device(
    emu: &Emulator,
    dir: &tempfile::TempDir,
    name: &str,
) -> (Store, Arc<dyn SecretStore>) {
    let store = Store::open(dir.path().join(name)).await.unwrap();
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
            kind: EndpointKind::Hubspot,
            base_url: emu.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings::default(),
        })
        .await
        .unwrap();
    (store, secrets)
}

struct PullFigures {
    secs: f64,
    fetched: u64,
    requests: u64,
    rss_growth_mib: f64,
    sqlite_peak_mib: f64,
    db_mib: f64,
}

async fn timed_pull(emu: &Emulator, dir: &tempfile::TempDir, name: &str) -> PullFigures {
    let (store, secrets) = device(emu, dir, name).await;
    let before = emu.stats().total;
    let base_rss = rss_kib();
    sqlite_peak_mib(true);
    let sampler = RssSampler::start();
    let t = Instant::now();
    let report = pull_once(&store, secrets, None).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = sampler.peak();
    let sqlite_peak = sqlite_peak_mib(false);
    let (pages, size): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT page_size FROM pragma_page_size())",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    store.close().await;
    PullFigures {
        secs,
        fetched: report.fetched,
        requests: emu.stats().total - before,
        rss_growth_mib: peak.saturating_sub(base_rss) as f64 / 1024.0,
        sqlite_peak_mib: sqlite_peak,
        db_mib: (pages * size) as f64 / (1024.0 * 1024.0),
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

const LAST: &[&str] = &[
    "Abbott", "Bauer", "Costa", "Dubois", "Fischer", "Garcia", "Hansen", "Jensen", "Kowalski",
    "Larsen", "Meyer", "Müller", "Novak", "Olsen", "Petrov", "Rossi", "Schmidt", "Silva", "Tanaka",
    "Weber",
];

fn local_customer(i: u64) -> NewCustomer {
    let last = LAST[(i * 7 % LAST.len() as u64) as usize];
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(format!("Local{}", i % 997)),
            last_name: Some(last.into()),
            email: Some(format!("local{i}@shop.example")),
            phone: Some(format!("+49 151 {:07}", (i * 7919) % 10_000_000)),
            city: Some("Hamburg".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn lookups(store: &Store, round: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(300);
    for i in 0..300 {
        let q = match i % 3 {
            0 => LAST[(i + round) % LAST.len()][..3].to_lowercase(),
            1 => LAST[(i + round) % LAST.len()]
                .chars()
                .take(6)
                .collect::<String>()
                .to_lowercase(),
            _ => format!("{:04}", (i * 37 + round) % 10_000),
        };
        let t = Instant::now();
        store.search(&q, 20).await.unwrap();
        out.push(t.elapsed());
    }
    out
}

/// `n` creations at the till (insert + outbox message, one transaction each).
async fn creates(store: &Store, from: u64, n: u64) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n as usize);
    for i in from..from + n {
        let c = local_customer(i);
        let t = Instant::now();
        store.create_customer(&c).await.unwrap();
        out.push(t.elapsed());
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = *args.first().unwrap_or(&100_000) as usize;
    let m = *args.get(1).unwrap_or(&1_000_000);
    let dir = tempfile::TempDir::new().unwrap();

    // 1. Pulls at the rate limit: N/5 and N, memory growth for each.
    let small = hubspot_with(n / 5, true).await;
    let big = hubspot_with(n, true).await;
    let s = timed_pull(&small, &dir, "small.db").await;
    let b = timed_pull(&big, &dir, "big.db").await;
    let ceiling = CEILING_REQUESTS * PAGE / CEILING_WINDOW_SECS;
    println!("| contacts | time s | requests | records/s | of the rate-limit ceiling ({ceiling:.0}/s) | peak memory growth MiB | of which SQLite's caches (peak) | store MiB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (count, f) in [(n / 5, &s), (n, &b)] {
        let rate = f.fetched as f64 / f.secs;
        println!(
            "| {count} | {:.1} | {} | {:.0} | {:.0} % | {:.1} | {:.1} | {:.1} |",
            f.secs,
            f.requests,
            rate,
            100.0 * rate / ceiling,
            f.rss_growth_mib,
            f.sqlite_peak_mib,
            f.db_mib
        );
    }
    println!(
        "\nstore size: {:.1} MiB per 100,000 pulled customers",
        b.db_mib * 100_000.0 / n as f64
    );
    small.shutdown().await;
    big.shutdown().await;

    // 2. Lookups with M customers on the device, idle and while a pull writes.
    let (store, secrets) = {
        let emu_for_config = Emulator::start(Config::unlimited()).await.unwrap();
        let pair = device(&emu_for_config, &dir, "lookup.db").await;
        emu_for_config.shutdown().await;
        pair
    };
    let t = Instant::now();
    let mut i = 0;
    while i < m {
        let batch: Vec<NewCustomer> = (i..(i + 5000).min(m)).map(local_customer).collect();
        store.create_customers(&batch).await.unwrap();
        i += batch.len() as u64;
    }
    eprintln!(
        "seeded {m} local customers in {:.0}s",
        t.elapsed().as_secs_f64()
    );
    let mut idle = lookups(&store, 0).await;
    let mut idle_creates = creates(&store, m, 200).await;

    let writer = hubspot_with(n, false).await;
    // Point the device's endpoint at the unthrottled emulator: the pull writes
    // as fast as this machine allows, the worst case for lookups.
    store
        .save_endpoint(&EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::Hubspot,
            base_url: writer.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                rate_limit: Some(100_000),
                ..EndpointSettings::default()
            },
        })
        .await
        .unwrap();
    let pull = tokio::spawn({
        let (store, secrets) = (store.clone(), secrets.clone());
        async move { pull_once(&store, secrets, None).await.unwrap() }
    });
    // Measure only while the pull is actually writing.
    while store.pull_state("crm").await.unwrap().pass_fetched < 2000 {
        tokio::task::yield_now().await;
    }
    let mut busy = Vec::new();
    let mut busy_creates = Vec::new();
    let mut round = 1;
    while !pull.is_finished() && busy.len() < 3000 {
        busy.extend(lookups(&store, round).await);
        busy_creates.extend(creates(&store, m + 1000 * round as u64, 20).await);
        round += 1;
    }
    let report = pull.await.unwrap();
    println!(
        "\n| {m} customers on the device | p50 ms | p99 ms |\n|---|---:|---:|\n| lookups, no pull running | {} | {} |\n| lookups while a pull writes ({} samples, {} records pulled) | {} | {} |",
        ms(percentile(&mut idle, 0.5)),
        ms(percentile(&mut idle, 0.99)),
        busy.len(),
        report.fetched,
        ms(percentile(&mut busy, 0.5)),
        ms(percentile(&mut busy, 0.99)),
    );
    println!(
        "| creates, no pull running | {} | {} |\n| creates while a pull writes ({} samples) | {} | {} |",
        ms(percentile(&mut idle_creates, 0.5)),
        ms(percentile(&mut idle_creates, 0.99)),
        busy_creates.len(),
        ms(percentile(&mut busy_creates, 0.5)),
        ms(percentile(&mut busy_creates, 0.99)),
    );
    writer.shutdown().await;
}
