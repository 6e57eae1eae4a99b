//! The crash loop (issue 13 §6): customers created and delivered by real
//! `outpost` processes that are killed with SIGKILL at random moments, while
//! the emulator answers with 5xx, resets, timeouts, drop-after-commit and
//! cut answers. After every round: SQLite's `PRAGMA integrity_check` is ok,
//! every acknowledged creation (a `customers add` that printed its key and
//! exited 0) is on the device, and the CRM holds no customer twice and none
//! the device does not know. At the end, with the faults gone and one
//! deliverer run to completion: every customer on the device (acknowledged
//! or not: a killed add may have committed) is in the CRM exactly once, with
//! the CRM's id on the device, and nothing is left pending or in flight.
//!
//! `CRASH_LOOP_ROUNDS` rounds per connector (default 100); the seed is
//! printed and `CRASH_LOOP_SEED` replays a run's plan (faults, the process
//! mix, every kill delay; how those meet the machine's timing is not
//! replayed exactly). `scripts/bench-crash-loop` runs 1,000 rounds and
//! prints the figures BENCHMARKS.md keeps. Needs the OS keyring (run under
//! `scripts/with-keyring`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator, ErrorKind, Faults, StoredRecord};
use outpost_core::Store;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sqlx::{Connection, SqliteConnection};
use tempfile::TempDir;

mod common;
use common::{add_endpoint, outpost};

/// No process of a round may outlive this (the kill delays are far shorter).
const ROUND_DEADLINE: Duration = Duration::from_secs(30);
/// A `sync --once` that has not ended by then is killed (it waits on an
/// injected timeout: the client gives up only after 20 s).
const ONCE_CAP: Duration = Duration::from_millis(2500);
/// The README's stop timeout for `sync --watch`, plus process teardown.
const STOP_WITHIN: Duration = Duration::from_secs(5 + 3);
/// The final deliverer, faults gone, runs to completion within this.
const DRAIN_DEADLINE: Duration = Duration::from_secs(60);
/// The flusher's longest retry delay (`flusher::RETRY_BACKOFF`'s cap).
const BACKOFF_CAP: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug)]
enum Crm {
    GenericRest,
    HubSpot,
}

impl Crm {
    fn kind(self) -> &'static str {
        match self {
            Crm::GenericRest => "generic-rest",
            Crm::HubSpot => "hubspot",
        }
    }

    fn email(self, r: &StoredRecord) -> Option<String> {
        let v = match self {
            Crm::GenericRest => &r.record["email"],
            Crm::HubSpot => &r.record["properties"]["email"],
        };
        v.as_str().map(str::to_lowercase)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stop {
    Kill,
    Term,
}

#[derive(Debug)]
enum Role {
    Add { first_name: String, email: String },
    Once,
    Watch,
}

/// When to stop a process: a seeded fraction of how long that kind of
/// process typically takes on this machine (so kills land before, during
/// and after its work whatever the machine's speed), or a cap.
#[derive(Clone, Copy, Debug)]
enum After {
    /// Of a typical `customers add`, start to exit.
    Add(f64),
    /// Of a typical `sync --once` that delivers a round's customers.
    Once(f64),
    Cap(Duration),
}

/// A process a round will start `start` after the round begins and stop (if
/// still running) `stop` after that.
#[derive(Debug)]
struct Planned {
    role: Role,
    start: Duration,
    stop: Option<(After, Stop)>,
}

/// How long adds and one-shot syncs that were not killed took: the median
/// of the last few of each.
#[derive(Debug)]
struct Pace {
    adds: Vec<Duration>,
    onces: Vec<Duration>,
}

impl Pace {
    fn new() -> Pace {
        // Guesses until the first ones are measured.
        Pace {
            adds: vec![Duration::from_millis(400)],
            onces: vec![Duration::from_millis(700)],
        }
    }

    fn record(list: &mut Vec<Duration>, took: Duration) {
        list.push(took);
        if list.len() > 25 {
            list.remove(0);
        }
    }

    fn median(list: &[Duration]) -> Duration {
        let mut l = list.to_vec();
        l.sort();
        l[l.len() / 2]
    }

    fn delay(&self, after: After) -> Duration {
        match after {
            After::Add(f) => Self::median(&self.adds).mul_f64(f),
            After::Once(f) => Self::median(&self.onces).mul_f64(f),
            After::Cap(d) => d,
        }
    }
}

/// A started process; killed and reaped on drop (a failed assertion
/// leaves no `outpost` behind).
struct Running {
    role: Role,
    started: Instant,
    /// A deliverer's first line on stdout has come.
    started_line: Option<Arc<AtomicBool>>,
    child: Child,
    stop_at: Option<(Instant, Stop)>,
    signalled: Option<(Instant, Stop)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The run's counts, printed at the end (the bench's figures).
#[derive(Debug, Default)]
struct Tally {
    rounds: usize,
    adds: usize,
    acknowledged: usize,
    adds_killed: usize,
    deliverers: usize,
    deliverers_killed: usize,
    deliverers_termed: usize,
    round_times: Vec<Duration>,
}

/// Keeps the database and the deliverers' logs when the test fails.
struct Workdir(Option<TempDir>);

impl Drop for Workdir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.0.take() {
                eprintln!(
                    "crash loop: database and logs kept in {}",
                    dir.keep().display()
                );
            }
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

fn seed() -> u64 {
    env_u64("CRASH_LOOP_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    })
}

fn rounds() -> usize {
    env_u64("CRASH_LOOP_ROUNDS").unwrap_or(100) as usize
}

/// A random fault plan: most rounds have some, a few none.
fn faults(rng: &mut StdRng) -> Faults {
    let all = [
        ErrorKind::InternalError,
        ErrorKind::Unavailable,
        ErrorKind::Reset,
        ErrorKind::Timeout,
    ];
    let mut kinds: Vec<ErrorKind> = all
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.5))
        .collect();
    if kinds.is_empty() {
        kinds.push(*all.choose(rng).unwrap());
    }
    Faults {
        latency_ms: *[0, 0, 20, 80].choose(rng).unwrap(),
        jitter_ms: *[0, 40].choose(rng).unwrap(),
        error_rate: *[0.0, 0.1, 0.3, 0.6].choose(rng).unwrap(),
        error_kinds: kinds,
        drop_after_commit_rate: *[0.0, 0.2, 0.5].choose(rng).unwrap(),
        truncate_body_rate: *[0.0, 0.0, 0.2].choose(rng).unwrap(),
        seed: Some(rng.random()),
        captive_portal: None,
        race: None,
    }
}

fn ms(rng: &mut StdRng, range: std::ops::RangeInclusive<u64>) -> Duration {
    Duration::from_millis(rng.random_range(range))
}

/// One round's processes: 1-3 creations, some killed before, during or
/// just after their commit, and a deliverer (a one-shot sync, a watch, or a
/// watch killed with another waiting to take over), stopped at a random
/// moment.
fn plan(rng: &mut StdRng, round: usize, faults: &Faults) -> Vec<Planned> {
    let mut plan = Vec::new();
    for i in 0..rng.random_range(1..=3) {
        let start = ms(rng, 0..=150);
        let stop = rng
            .random_bool(0.35)
            .then(|| (After::Add(rng.random_range(0.3..1.2)), Stop::Kill));
        plan.push(Planned {
            role: Role::Add {
                // One word found by search for this customer alone.
                first_name: format!("Crash{round}x{i}"),
                email: format!("r{round}.{i}@example.com"),
            },
            start,
            stop,
        });
    }
    let start = ms(rng, 0..=100);
    match rng.random_range(0..10) {
        0..4 => {
            let stop = if rng.random_bool(0.6) {
                After::Once(rng.random_range(0.2..1.3))
            } else {
                After::Cap(ONCE_CAP)
            };
            plan.push(Planned {
                role: Role::Once,
                start,
                stop: Some((stop, Stop::Kill)),
            });
        }
        4..8 => {
            // A graceful stop now and then, when no request can hang it.
            let term = !faults.error_kinds.contains(&ErrorKind::Timeout) && rng.random_bool(0.2);
            plan.push(Planned {
                role: Role::Watch,
                start,
                stop: Some((
                    After::Once(rng.random_range(0.4..1.6)),
                    if term { Stop::Term } else { Stop::Kill },
                )),
            });
        }
        _ => {
            let first = rng.random_range(0.4..1.2);
            plan.push(Planned {
                role: Role::Watch,
                start,
                stop: Some((After::Once(first), Stop::Kill)),
            });
            plan.push(Planned {
                role: Role::Watch,
                start: start + ms(rng, 0..=50),
                stop: Some((After::Once(first + rng.random_range(0.3..1.0)), Stop::Kill)),
            });
        }
    }
    plan.sort_by_key(|p| p.start);
    plan
}

fn spawn(db: &Path, log: &Path, p: &Planned) -> Child {
    let mut cmd = outpost(db);
    match &p.role {
        Role::Add { first_name, email } => {
            cmd.args(["--json", "customers", "add", "--first-name", first_name])
                .args(["--last-name", "Loop", "--email", email])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        Role::Once | Role::Watch => {
            let mode = if matches!(p.role, Role::Once) {
                "--once"
            } else {
                "--watch"
            };
            // Into a file, never a pipe nobody reads (a full pipe would stall it).
            let log = File::options().create(true).append(true).open(log).unwrap();
            cmd.args(["--json", "sync", mode])
                .stdout(Stdio::piped())
                .stderr(log);
        }
    }
    cmd.spawn().unwrap()
}

/// Reads a deliverer's stdout to its end (so it never blocks on a full
/// pipe); the flag turns true at its first line (`sync --watch`'s
/// `started`: from then on it catches SIGTERM).
fn drain_stdout(child: &mut Child) -> Arc<AtomicBool> {
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for _ in BufReader::new(stdout).lines().map_while(Result::ok) {
            flag.store(true, Ordering::Relaxed);
        }
    });
    started
}

fn signal(child: &mut Child, how: Stop) {
    match how {
        Stop::Kill => {
            let _ = child.kill(); // SIGKILL: no chance to record anything
        }
        Stop::Term => {
            let sent = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        }
    }
}

fn killed_by_us(status: ExitStatus, signalled: Option<(Instant, Stop)>) -> bool {
    signalled.is_some_and(|(_, s)| s == Stop::Kill) && status.signal() == Some(9)
}

/// Runs one round to its end (every process exited or killed); returns the
/// acknowledged creations: key → first name.
async fn run_round(
    db: &Path,
    log: &Path,
    plan: Vec<Planned>,
    pace: &mut Pace,
    tally: &mut Tally,
    ctx: &str,
) -> HashMap<String, String> {
    let began = Instant::now();
    let mut todo: std::collections::VecDeque<Planned> = plan.into();
    let mut running: Vec<Running> = Vec::new();
    let mut acknowledged = HashMap::new();
    loop {
        let now = Instant::now();
        while todo.front().is_some_and(|p| began + p.start <= now) {
            let p = todo.pop_front().unwrap();
            let mut child = spawn(db, log, &p);
            let at = Instant::now();
            let started = (!matches!(p.role, Role::Add { .. })).then(|| drain_stdout(&mut child));
            running.push(Running {
                started_line: started,
                started: at,
                stop_at: p.stop.map(|(after, how)| (at + pace.delay(after), how)),
                role: p.role,
                child,
                signalled: None,
            });
        }
        for r in &mut running {
            if let (Some((at, how)), None) = (r.stop_at, r.signalled) {
                // SIGTERM once it runs: before its `started` line a watch may
                // still be loading (its handlers are not installed yet).
                let ready = how == Stop::Kill
                    || r.started_line
                        .as_ref()
                        .is_some_and(|s| s.load(Ordering::Relaxed));
                if now >= at && ready {
                    signal(&mut r.child, how);
                    r.signalled = Some((now, how));
                }
            }
            if let Some((at, Stop::Term)) = r.signalled {
                assert!(
                    now < at + STOP_WITHIN,
                    "{ctx}: sync --watch still running {STOP_WITHIN:?} after SIGTERM"
                );
            }
        }
        let mut i = 0;
        while i < running.len() {
            let Some(status) = running[i].child.try_wait().unwrap() else {
                i += 1;
                continue;
            };
            let mut r = running.swap_remove(i);
            let killed = killed_by_us(status, r.signalled);
            let took = r.started.elapsed();
            match &r.role {
                Role::Add { first_name, email } => {
                    tally.adds += 1;
                    let mut out = String::new();
                    let mut err = String::new();
                    r.child
                        .stdout
                        .take()
                        .unwrap()
                        .read_to_string(&mut out)
                        .unwrap();
                    r.child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut err)
                        .unwrap();
                    if killed {
                        tally.adds_killed += 1;
                    } else {
                        assert!(
                            status.success(),
                            "{ctx}: add {email} failed: {status:?} {err}"
                        );
                        let customer: Value = serde_json::from_str(&out).unwrap_or_else(|e| {
                            panic!("{ctx}: add printed no customer ({e}): {out}")
                        });
                        let key = customer["id"].as_str().unwrap().to_owned();
                        acknowledged.insert(key, first_name.clone());
                        Pace::record(&mut pace.adds, took);
                        tally.acknowledged += 1;
                    }
                }
                Role::Once => {
                    tally.deliverers += 1;
                    if killed {
                        tally.deliverers_killed += 1;
                    } else {
                        if status.success() {
                            Pace::record(&mut pace.onces, took);
                        }
                        // 1: the CRM failed the probe (an injected fault), said in words.
                        assert!(
                            matches!(status.code(), Some(0 | 1)),
                            "{ctx}: sync --once ended with {status:?} (see {})",
                            log.display()
                        );
                    }
                }
                Role::Watch => {
                    tally.deliverers += 1;
                    match r.signalled {
                        _ if killed => tally.deliverers_killed += 1,
                        Some((_, Stop::Term)) => {
                            assert!(
                                status.success(),
                                "{ctx}: sync --watch after SIGTERM: {status:?} (see {})",
                                log.display()
                            );
                            tally.deliverers_termed += 1;
                        }
                        _ => panic!("{ctx}: sync --watch ended by itself: {status:?}"),
                    }
                }
            }
        }
        if todo.is_empty() && running.is_empty() {
            break;
        }
        assert!(
            began.elapsed() < ROUND_DEADLINE,
            "{ctx}: a round ran {ROUND_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    tally.rounds += 1;
    tally.round_times.push(began.elapsed());
    acknowledged
}

async fn open(db: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap()
}

/// `PRAGMA integrity_check`, then FTS5's own check of each search index
/// (SQLite's check does not look inside them); `["ok"]` when all pass.
async fn integrity(conn: &mut SqliteConnection) -> Vec<String> {
    let mut found: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    for name in indexes {
        let check = format!("INSERT INTO {name} ({name}) VALUES ('integrity-check')");
        if let Err(e) = sqlx::query(&check).execute(&mut *conn).await {
            found.push(format!("{name}: {e}"));
        }
    }
    found
}

/// Each customer on the device: key → (CRM id, sync state).
async fn local_customers(conn: &mut SqliteConnection) -> HashMap<String, (Option<String>, String)> {
    sqlx::query_as::<_, (String, Option<String>, String)>(
        "SELECT id, crm_id, sync_state FROM customers",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .into_iter()
    .map(|(k, crm, state)| (k, (crm, state)))
    .collect()
}

/// What the CRM holds: records per key and per email (a customer sent twice
/// under another key would show as its email twice).
struct CrmView {
    per_key: HashMap<String, Vec<String>>,
    per_email: HashMap<String, usize>,
    without_key: usize,
}

fn crm_view(emu: &Emulator, crm: Crm) -> CrmView {
    let mut v = CrmView {
        per_key: HashMap::new(),
        per_email: HashMap::new(),
        without_key: 0,
    };
    for r in emu
        .records()
        .into_iter()
        .filter(|r| r.object != "companies")
    {
        if let Some(e) = crm.email(&r) {
            *v.per_email.entry(e).or_default() += 1;
        }
        match &r.key {
            Some(k) => v.per_key.entry(k.clone()).or_default().push(r.id.clone()),
            None => v.without_key += 1,
        }
    }
    v
}

impl CrmView {
    fn duplicates(&self) -> usize {
        let by_key: usize = self.per_key.values().map(|ids| ids.len() - 1).sum();
        let by_email: usize = self.per_email.values().map(|n| n - 1).sum();
        by_key.max(by_email) + self.without_key
    }
}

/// After a round: nothing corrupt, nothing acknowledged missing on the
/// device, nothing twice or unknown in the CRM.
async fn check_round(
    db: &Path,
    emu: &Emulator,
    crm: Crm,
    acknowledged: &HashMap<String, String>,
    ctx: &str,
) {
    let mut conn = open(db).await;
    assert_eq!(integrity(&mut conn).await, ["ok"], "{ctx}: integrity_check");
    let local = local_customers(&mut conn).await;
    conn.close().await.unwrap();
    let lost: Vec<_> = acknowledged
        .keys()
        .filter(|k| !local.contains_key(*k))
        .collect();
    assert!(
        lost.is_empty(),
        "{ctx}: acknowledged, not on the device: {lost:?}"
    );
    let view = crm_view(emu, crm);
    assert_eq!(view.duplicates(), 0, "{ctx}: a customer twice in the CRM");
    let unknown: Vec<_> = view
        .per_key
        .keys()
        .filter(|k| !local.contains_key(*k))
        .collect();
    assert!(
        unknown.is_empty(),
        "{ctx}: in the CRM, not on the device: {unknown:?}"
    );
}

/// The faults gone, the clock moved past every retry delay (their length is
/// the flusher's tests' business), one `sync --once` to completion.
async fn drain(db: &Path, ctx: &str) -> Duration {
    let began = Instant::now();
    let mut conn = open(db).await;
    let latest: Option<String> =
        sqlx::query_scalar("SELECT max(next_attempt_at) FROM outbox WHERE state = 'pending'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let fmt = "%Y-%m-%dT%H:%M:%S%.3fZ";
    let now = chrono::Utc::now();
    if let Some(latest) = latest {
        let at = chrono::DateTime::parse_from_rfc3339(&latest).unwrap();
        let cap = chrono::Duration::from_std(BACKOFF_CAP + Duration::from_secs(5)).unwrap();
        assert!(
            at < now + cap,
            "{ctx}: a message waits until {latest}, beyond the backoff's cap"
        );
    }
    sqlx::query("UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending'")
        .bind(now.format(fmt).to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let mut child = outpost(db)
        .args(["--json", "sync", "--once"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + DRAIN_DEADLINE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{ctx}: the final sync --once ran {DRAIN_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{ctx}: final sync --once: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.get("skipped").is_none(), "{ctx}: {report}");
    began.elapsed()
}

/// The end state: every customer on the device once in the CRM, synced
/// with the CRM's id, its one message sent; counts as `status` shows them.
async fn check_end(
    db: &Path,
    emu: &Emulator,
    crm: Crm,
    acknowledged: &HashMap<String, String>,
    ctx: &str,
) -> (usize, usize, usize) {
    let mut conn = open(db).await;
    assert_eq!(integrity(&mut conn).await, ["ok"], "{ctx}: integrity_check");
    let local = local_customers(&mut conn).await;
    let messages: Vec<(String, String)> = sqlx::query_as("SELECT customer_id, state FROM outbox")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let view = crm_view(emu, crm);

    let lost: Vec<_> = acknowledged
        .keys()
        .filter(|k| !local.contains_key(*k) || !view.per_key.contains_key(*k))
        .collect();
    let undelivered: Vec<_> = local
        .keys()
        .filter(|k| !view.per_key.contains_key(*k))
        .collect();
    let duplicates = view.duplicates();
    let figures = (lost.len(), undelivered.len(), duplicates);
    eprintln!(
        "{ctx}: lost {}, undelivered {}, duplicates {duplicates}",
        lost.len(),
        undelivered.len()
    );
    assert!(
        lost.is_empty(),
        "{ctx}: acknowledged, missing on the device or in the CRM: {lost:?}"
    );
    assert!(
        undelivered.is_empty(),
        "{ctx}: on the device, never reached the CRM: {undelivered:?}"
    );
    assert_eq!(duplicates, 0, "{ctx}: customers twice in the CRM");
    assert_eq!(
        view.per_key.len(),
        local.len(),
        "{ctx}: the CRM holds customers the device lacks"
    );

    for (key, (crm_id, state)) in &local {
        assert_eq!(state, "synced", "{ctx}: {key}");
        assert_eq!(
            crm_id.as_ref(),
            view.per_key[key].first(),
            "{ctx}: {key}: the device's CRM id is not the CRM's"
        );
    }
    let mut per_customer: HashMap<&str, usize> = HashMap::new();
    for (customer, state) in &messages {
        assert_eq!(state, "sent", "{ctx}: {customer}'s message");
        *per_customer.entry(customer).or_default() += 1;
    }
    assert_eq!(
        per_customer.len(),
        local.len(),
        "{ctx}: a customer without its message"
    );
    assert!(
        per_customer.values().all(|&n| n == 1),
        "{ctx}: a message queued twice"
    );

    let status: Value = serde_json::from_slice(
        &outpost(db)
            .args(["--json", "status"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for (field, want) in [
        ("pending", 0),
        ("in_flight", 0),
        ("needs_attention", 0),
        ("sent", local.len()),
    ] {
        assert_eq!(status[field], want, "{ctx}: status {field}: {status}");
    }

    // Found by the clerk's search, once.
    let store = Store::open(db).await.unwrap();
    for (key, first_name) in acknowledged {
        let found: Vec<String> = store
            .search(first_name, 10)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(
            found,
            std::slice::from_ref(key),
            "{ctx}: searching {first_name}"
        );
    }
    store.close().await;
    figures
}

/// Milliseconds, for the report.
fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn crash_loop(crm: Crm) {
    let seed = seed();
    let rounds = rounds();
    let name = crm.kind();
    eprintln!(
        "crash loop {name}: seed {seed}, {rounds} rounds (replay: CRASH_LOOP_SEED={seed} CRASH_LOOP_ROUNDS={rounds})"
    );
    let mut rng = StdRng::seed_from_u64(seed ^ (crm as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let dir = Workdir(Some(TempDir::new().unwrap()));
    let root: PathBuf = dir.0.as_ref().unwrap().path().to_owned();
    let db = root.join("till.db");
    let log = root.join("deliverers.log");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(
        &db,
        "crm",
        name,
        &emu.crm_url(),
        emu.token(),
        &["--batch-size", "2"],
    );

    let began = Instant::now();
    let mut tally = Tally::default();
    let mut pace = Pace::new();
    let mut acknowledged = HashMap::new();
    for round in 0..rounds {
        let f = faults(&mut rng);
        let p = plan(&mut rng, round, &f);
        let ctx = format!("{name} seed {seed} round {round}");
        emu.set_faults(f);
        let acked = run_round(&db, &log, p, &mut pace, &mut tally, &ctx).await;
        check_round(&db, &emu, crm, &acked, &ctx).await;
        acknowledged.extend(acked);
    }
    let looped = began.elapsed();
    let stats = emu.stats();
    emu.clear_faults();
    let ctx = format!("{name} seed {seed} end");
    let drained = drain(&db, &ctx).await;
    let (lost, undelivered, duplicates) = check_end(&db, &emu, crm, &acknowledged, &ctx).await;

    let mut times = tally.round_times.clone();
    times.sort();
    let pct = |p: f64| ms_of(times[((times.len() - 1) as f64 * p).round() as usize]);
    let faults: Vec<String> = [
        "500",
        "503",
        "reset",
        "timeout",
        "dropped_after_commit",
        "truncated_body",
    ]
    .iter()
    .map(|o| format!("{o} {}", stats.count_anywhere(o)))
    .collect();
    let customers = crm_view(&emu, crm).per_key.len();
    eprintln!(
        "crash loop {name}: seed {seed}: {} rounds in {:.1} s ({:.0} ms a round, p50 {:.0}, p99 {:.0}, max {:.0}); \
         adds {} (acknowledged {}, killed {}, of which committed {}); deliverers {} (SIGKILL {}, SIGTERM {}); \
         customers {customers}; injected: {}; lost {lost}, undelivered {undelivered}, duplicates {duplicates}; \
         final sync {:.1} s; typical add {:.0} ms, sync --once {:.0} ms",
        tally.rounds,
        looped.as_secs_f64(),
        ms_of(looped) / tally.rounds.max(1) as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0),
        tally.adds,
        tally.acknowledged,
        tally.adds_killed,
        customers - tally.acknowledged,
        tally.deliverers,
        tally.deliverers_killed,
        tally.deliverers_termed,
        faults.join(", "),
        drained.as_secs_f64(),
        ms_of(Pace::median(&pace.adds)),
        ms_of(Pace::median(&pace.onces)),
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_rest_survives_a_crash_loop() {
    crash_loop(Crm::GenericRest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubspot_survives_a_crash_loop() {
    crash_loop(Crm::HubSpot).await;
}
