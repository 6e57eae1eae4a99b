//! `outpost sync --once` as a real process against the emulator, including
//! a SIGKILL in the middle of a flush. Needs the OS keyring (the README's test
//! command runs the tests inside a private D-Bus session with gnome-keyring).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator, Faults};
use outpost_core::customer::CustomerFields;
use outpost_core::{NewCustomer, Store};
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{add_endpoint, db_with_rest_crm, outpost};

async fn seed(db: &PathBuf, n: usize) -> Vec<String> {
    let store = Store::open(db).await.unwrap();
    let inputs: Vec<_> = (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("Killed{i}")),
                last_name: Some("Midflight".into()),
                email: Some(format!("killed.{i}@example.com")),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    let ids = store.create_customers(&inputs).await.unwrap();
    store.close().await;
    ids.into_iter().map(|k| k.to_string()).collect()
}

fn per_key(emu: &Emulator) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in emu.records() {
        if let Some(k) = r.key {
            *m.entry(k).or_default() += 1;
        }
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_with_sigkill_mid_flush_loses_and_duplicates_nothing() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("rep.db");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(
        &db,
        "hubspot",
        "hubspot",
        &emu.crm_url(),
        emu.token(),
        &["--batch-size", "10"],
    );
    let keys = seed(&db, 200).await;
    emu.set_faults(Faults {
        latency_ms: 120,
        ..Faults::default()
    });

    let mut child = outpost(&db)
        .args(["sync", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    while per_key(&emu).len() < 30 {
        assert!(Instant::now() < end, "the first sync made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "sync finished before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to record anything
    child.wait().unwrap();
    let delivered_before = per_key(&emu).len();
    assert!(delivered_before < 200, "killed mid-flush");

    emu.clear_faults();
    let out = outpost(&db)
        .args(["sync", "--once", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pending"], 0);
    assert_eq!(report["needs_attention"], 0);

    let per = per_key(&emu);
    assert_eq!(per.len(), 200, "every customer arrived");
    for k in &keys {
        assert_eq!(per.get(k), Some(&1), "{k} exactly once");
    }
    let status: Value = serde_json::from_slice(
        &outpost(&db)
            .args(["status", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(status["sent"], 200);
    assert_eq!(status["connection"], "online");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_reports_deliveries_and_refusals_in_json() {
    let (_dir, db, emu) = db_with_rest_crm("till.db", &[]).await;
    for name in ["Ada", "Grace", "Edsger"] {
        let out = outpost(&db)
            .args(["customers", "add", "--first-name", name])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let out = outpost(&db)
        .args(["sync", "--once", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["delivered"].as_u64(),
            report["needs_attention"].as_u64(),
            report["pending"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    let shown: Value = serde_json::from_slice(
        &outpost(&db)
            .args(["customers", "search", "grace", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(shown[0]["sync_state"], "synced");
    assert!(shown[0]["crm_id"].as_str().unwrap().starts_with("cus_"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_update_delivery_writes_each_edit_once_and_loses_none() {
    let (_dir, db, emu) = db_with_rest_crm("rep.db", &["--batch-size", "10"]).await;
    let keys = seed(&db, 60).await;
    let first = outpost(&db).args(["sync", "--once"]).output().unwrap();
    assert!(first.status.success());
    // Every customer edited here: a new city and a cleared email.
    let store = Store::open(&db).await.unwrap();
    for k in &keys {
        let edit = outpost_core::customer::CustomerEdit::default()
            .set(outpost_core::customer::Field::City, format!("City of {k}"))
            .clear(outpost_core::customer::Field::Email);
        store
            .edit_customer(k.parse().unwrap(), &edit)
            .await
            .unwrap();
    }
    store.close().await;
    let edited = |emu: &Emulator| {
        emu.records()
            .iter()
            .filter(|r| {
                r.record["city"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("City of"))
            })
            .count()
    };
    emu.set_faults(Faults {
        latency_ms: 120,
        ..Faults::default()
    });
    let mut child = outpost(&db)
        .args(["sync", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    while edited(&emu) < 10 {
        assert!(Instant::now() < end, "the sync delivered no edit");
        assert!(
            child.try_wait().unwrap().is_none(),
            "sync finished before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL, possibly between a PATCH and its record
    child.wait().unwrap();
    assert!(edited(&emu) < 60, "killed mid-delivery");

    emu.clear_faults();
    let out = outpost(&db)
        .args(["sync", "--once", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["pending"].as_u64(),
            report["needs_attention"].as_u64()
        ),
        (Some(0), Some(0))
    );
    for r in emu.records() {
        let key = r.key.clone().unwrap();
        assert_eq!(r.record["city"], format!("City of {key}"), "no edit lost");
        assert!(
            r.record["email"].is_null(),
            "the cleared field too: {}",
            r.record
        );
        assert!(r.record["first_name"]
            .as_str()
            .unwrap()
            .starts_with("Killed"));
        // Created (1) and edited once (2): a PATCH whose answer was lost to
        // the kill met its 412 on the retry and was not written again.
        assert_eq!(r.record["version"], 2, "{key} written once");
    }
    let status: Value = serde_json::from_slice(
        &outpost(&db)
            .args(["status", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(status["conflicts"], 0);
    emu.shutdown().await;
}
