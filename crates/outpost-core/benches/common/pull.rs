//! The working-set pull figures shared by the connector benches: one pull
//! pass measured in a child process (the bench binary again), so the
//! emulator's own memory is not counted as Outpost's, and the table of
//! N/10 against N records.

use std::collections::BTreeMap;
use std::time::Instant;

use outpost_core::crm::connector::CrmConnector;
use outpost_core::sync::pull::{pull_pass, PullScope};
use outpost_core::Store;

use crate::memory::{rss_kib, sqlite_peak_mib, RssSampler};

/// The child's side: one pull pass into `store`, its figures printed as
/// `PULL secs fetched inserted pages rss_growth_kib sqlite_peak_mib db_mib`.
pub async fn measure_in_child(store: Store, connector: &dyn CrmConnector) {
    let base = rss_kib();
    sqlite_peak_mib(true);
    let sampler = RssSampler::start();
    let t = Instant::now();
    let report = pull_pass(&store, connector, "crm", PullScope::default(), &|_| {})
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let peak = sampler.peak();
    let sqlite = sqlite_peak_mib(false);
    let (pages, size): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT page_size FROM pragma_page_size())",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    store.close().await;
    eprintln!("child: {report:?}; base rss {base} KiB, peak {peak} KiB");
    println!(
        "PULL {secs} {} {} {} {} {sqlite} {}",
        report.fetched,
        report.inserted,
        report.pages,
        peak.saturating_sub(base),
        (pages * size) as f64 / (1024.0 * 1024.0)
    );
}

/// What the child measured.
pub struct ChildFigures {
    pub secs: f64,
    pub fetched: u64,
    pub inserted: u64,
    pub rss_growth_mib: f64,
    pub sqlite_peak_mib: f64,
    pub db_mib: f64,
}

/// The parent's side: runs this binary with `env=spec` (the child reads it
/// and calls [`measure_in_child`]) off the runtime, so the emulator in
/// this process keeps answering, and reads its figures.
pub async fn run_child(env: &'static str, spec: String) -> ChildFigures {
    let exe = std::env::current_exe().unwrap();
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .env(env, spec)
            .stderr(std::process::Stdio::inherit())
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(child.status.success(), "pull child: {:?}", child.status);
    let out = String::from_utf8_lossy(&child.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("PULL "))
        .expect("the child's figures");
    let v: Vec<f64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
    ChildFigures {
        secs: v[0],
        fetched: v[1] as u64,
        inserted: v[2] as u64,
        rss_growth_mib: v[4] / 1024.0,
        sqlite_peak_mib: v[5],
        db_mib: v[6],
    }
}

/// One row of the table: a pull of `n` records.
pub struct PullRow {
    pub n: usize,
    pub seed_secs: f64,
    /// Requests other than the token's.
    pub requests: u64,
    pub token_requests: u64,
    pub child: ChildFigures,
}

impl PullRow {
    /// Checks that every record was pulled and stored. `requests` are the
    /// emulator's by label (and outcome); those whose label starts with
    /// `token` are the sign-in's.
    pub fn new(
        n: usize,
        seed_secs: f64,
        requests: &BTreeMap<String, u64>,
        token: &str,
        child: ChildFigures,
    ) -> Self {
        assert_eq!(child.fetched, n as u64, "every record pulled");
        assert_eq!(
            child.inserted, n as u64,
            "every record stored as a customer"
        );
        let count = |sign_in: bool| {
            requests
                .iter()
                .filter(|(label, _)| label.starts_with(token) == sign_in)
                .map(|(_, k)| k)
                .sum()
        };
        PullRow {
            n,
            seed_secs,
            requests: count(false),
            token_requests: count(true),
            child,
        }
    }
}

/// A connector bench's command line, `[flush] [pull] [N]`: the parts asked
/// for (every part when none is named) and N, the contacts of the larger
/// pull.
pub struct Args {
    named: Vec<String>,
    pub n: usize,
}

impl Args {
    pub fn from_env(default_n: usize) -> Self {
        let named: Vec<String> = std::env::args().skip(1).collect();
        let n = named
            .iter()
            .find_map(|a| a.parse().ok())
            .unwrap_or(default_n);
        Args { named, n }
    }

    pub fn wants(&self, part: &str) -> bool {
        let parts = ["flush", "pull"];
        !self.named.iter().any(|a| parts.contains(&a.as_str()))
            || self.named.iter().any(|a| a == part)
    }
}

/// The markdown table of the two pulls and the growth line under it.
pub fn print_table(what: &str, small: &PullRow, big: &PullRow) {
    println!("\n| {what} | seed s | pull s | requests (+ token) | records/s | peak RSS growth MiB | of which SQLite's caches (peak) | store MiB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in [small, big] {
        let c = &p.child;
        println!(
            "| {} | {:.1} | {:.1} | {} (+{}) | {:.0} | {:.1} | {:.1} | {:.1} |",
            p.n,
            p.seed_secs,
            c.secs,
            p.requests,
            p.token_requests,
            c.fetched as f64 / c.secs,
            c.rss_growth_mib,
            c.sqlite_peak_mib,
            c.db_mib
        );
    }
    let rate = |p: &PullRow| p.child.fetched as f64 / p.child.secs;
    println!(
        "\nmemory growth {}k vs {}k: {:.2}x for {:.0}x the {what}; records/s {:.2}x",
        big.n / 1000,
        small.n / 1000,
        big.child.rss_growth_mib / small.child.rss_growth_mib.max(0.001),
        big.n as f64 / small.n as f64,
        rate(big) / rate(small)
    );
}
