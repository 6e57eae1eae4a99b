//! `outpost sync --watch` as a real process: it delivers what other
//! processes queue until SIGTERM, prints one JSON line per change and exits
//! 0; a second deliverer (another `--watch`, `sync --once`, `pull`) stands
//! aside while it runs, and takes over when it is killed with SIGKILL.
//! Needs the OS keyring (run under `scripts/with-keyring`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_emulator::{Emulator, Faults};
use outpost_core::customer::CustomerFields;
use outpost_core::{NewCustomer, Store};
use serde_json::Value;

mod common;
use common::{db_with_rest_crm, outpost};

const DEADLINE: Duration = Duration::from_secs(60);
/// The README's stop timeout for `sync --watch`, plus process teardown.
const STOP_WITHIN: Duration = Duration::from_secs(5 + 3);
/// The README: a waiting deliverer takes over within 2 s of the holder's end.
const TAKE_OVER_WITHIN: Duration = Duration::from_secs(2);

/// A running `outpost --json sync --watch` and the lines it printed.
struct Watch {
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl Watch {
    fn start(db: &Path) -> Watch {
        let mut child = outpost(db)
            .args(["--json", "sync", "--watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                sink.lock().unwrap().push(value);
            }
        });
        Watch { child, lines }
    }

    fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// Polls the printed lines until one matches.
    async fn wait_line(&self, what: &str, within: Duration, pred: impl Fn(&Value) -> bool) {
        let end = Instant::now() + within;
        while !self.lines().iter().any(&pred) {
            assert!(
                Instant::now() < end,
                "no line with {what} in {:?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then the exit status within `within`.
    async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let end = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < end,
                "still running {within:?} after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn seed(db: &Path, n: usize) -> Vec<String> {
    let store = Store::open(db).await.unwrap();
    let inputs: Vec<_> = (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("Watched{i}")),
                last_name: Some("Kiosk".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    let ids = store.create_customers(&inputs).await.unwrap();
    store.close().await;
    ids.into_iter().map(|k| k.to_string()).collect()
}

fn json_out(db: &Path, args: &[&str]) -> (Value, Duration) {
    let started = Instant::now();
    let out = outpost(db).arg("--json").args(args).output().unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (serde_json::from_slice(&out.stdout).unwrap(), took)
}

async fn wait_records(emu: &Emulator, n: usize) {
    let end = Instant::now() + DEADLINE;
    while emu.records_per_key().len() < n {
        assert!(Instant::now() < end, "the CRM never got {n} customers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_watch_delivers_until_sigterm_and_reports_each_change() {
    let (_dir, db, emu) = db_with_rest_crm("kiosk.db", &[]).await;
    let mut watch = Watch::start(&db);
    watch
        .wait_line("started", DEADLINE, |l| l["event"] == "started")
        .await;
    watch
        .wait_line("the CRM online", DEADLINE, |l| l["connection"] == "online")
        .await;

    // Customers created by other processes (the clerk's window, a script).
    let mut keys = Vec::new();
    for name in ["Ada", "Grace", "Edsger"] {
        let out = outpost(&db)
            .args(["customers", "add", "--first-name", name])
            .output()
            .unwrap();
        assert!(out.status.success());
        keys.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    wait_records(&emu, 3).await;
    watch
        .wait_line("all three sent", DEADLINE, |l| {
            l["sent"] == 3 && l["pending"] == 0
        })
        .await;

    // Other deliverers stand aside while the service runs: exit 0, skipped.
    let (report, took) = json_out(&db, &["sync", "--once"]);
    assert_eq!(report["skipped"], "another process is delivering");
    assert_eq!(
        (report["delivered"].as_u64(), report["pending"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(took < Duration::from_secs(3 + 5), "{took:?}");
    let (pulled, _) = json_out(&db, &["pull"]);
    assert_eq!(pulled["skipped"], "another process is delivering");
    assert_eq!(pulled["fetched"], 0);
    let (status, _) = json_out(&db, &["status"]);
    assert!(
        status["other_deliverer"]
            .as_str()
            .is_some_and(|s| s.contains(&watch.child.id().to_string())),
        "{status}"
    );

    let exit = watch.terminate(STOP_WITHIN).await;
    assert!(exit.success(), "{exit:?}");
    let lines = watch.lines();
    assert_eq!(lines.first().unwrap()["event"], "started");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "stopped");
    assert_eq!(last["delivering"], false);
    for line in &lines {
        for field in [
            "event",
            "at",
            "delivering",
            "pending",
            "in_flight",
            "needs_attention",
            "sent",
            "customers",
            "connection",
            "last_success_at",
            "last_error",
        ] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
    }
    assert!(lines[..lines.len() - 1]
        .iter()
        .all(|l| l["delivering"] == true));
    let per = emu.records_per_key();
    for k in &keys {
        assert_eq!(per.get(k), Some(&1), "{k} exactly once");
    }
    // Stopped: the next one-shot sync delivers again itself.
    let (report, _) = json_out(&db, &["sync", "--once"]);
    assert!(report.get("skipped").is_none(), "{report}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deliverer_killed_with_sigkill_is_taken_over_and_the_rest_arrives_once() {
    let (_dir, db, emu) = db_with_rest_crm("backoffice.db", &["--batch-size", "2"]).await;
    let n = 60;
    let keys = seed(&db, n).await;
    emu.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });

    let mut first = Watch::start(&db);
    first
        .wait_line("the first delivering", DEADLINE, |l| {
            l["delivering"] == true
        })
        .await;
    wait_records(&emu, 4).await;
    let mut second = Watch::start(&db);
    second
        .wait_line("the second waiting", DEADLINE, |l| {
            l["event"] == "started" && l["delivering"] == false
        })
        .await;
    let before = emu.records_per_key().len();
    assert!(before < n, "the first was still delivering");

    first.child.kill().unwrap(); // SIGKILL: no chance to let anything go
    first.child.wait().unwrap();
    let killed = Instant::now();
    second
        .wait_line("the second delivering", DEADLINE, |l| {
            l["delivering"] == true
        })
        .await;
    let took = killed.elapsed();
    assert!(took < TAKE_OVER_WITHIN, "took over after {took:?}");

    wait_records(&emu, n).await;
    second
        .wait_line("everything sent", DEADLINE, |l| {
            l["sent"] == n && l["pending"] == 0
        })
        .await;
    let per = emu.records_per_key();
    assert_eq!(per.len(), n);
    for k in &keys {
        assert_eq!(per.get(k), Some(&1), "{k} exactly once");
    }
    // Only the round the kill cut off (a batch of 2) may have been sent
    // twice (the upsert updated the same record); nothing else.
    let puts = emu.puts_per_key();
    let total: usize = puts.values().sum();
    assert!(total <= n + 2, "{total} sends for {n} customers: {puts:?}");

    let exit = second.terminate(STOP_WITHIN).await;
    assert!(exit.success(), "{exit:?}");
    emu.shutdown().await;
}

/// Found by the crash loop (tests/crash_loop.rs): the stop signals were
/// caught only once the engine had started, so a SIGTERM while it started
/// (the lease taken, messages being claimed) killed the service by the
/// signal's default action instead of stopping it cleanly with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_while_the_engine_starts_is_a_clean_stop() {
    let (dir, db, emu) = db_with_rest_crm("kiosk.db", &[]).await;
    let lock = dir.path().join("kiosk.db-deliverer.lock");
    let mut watch = Watch::start(&db);
    // The engine creates the lease's file as it starts, before its
    // `started` line.
    let end = Instant::now() + DEADLINE;
    while !lock.exists() {
        assert!(Instant::now() < end, "the engine never took the lease");
        assert!(watch.child.try_wait().unwrap().is_none(), "it ended");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let exit = watch.terminate(STOP_WITHIN).await;
    assert!(exit.success(), "{exit:?}");
    emu.shutdown().await;
}
