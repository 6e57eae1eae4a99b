//! `outpost status` and `outpost sync --once` behind a captive portal (the
//! emulator's `captive_portal` fault): the connection is `intercepted`, in
//! words, nothing is marked synced or refused, and once the portal is gone
//! one sync delivers every customer exactly once. Needs the OS keyring (run
//! under `scripts/with-keyring`).

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use crm_emulator::{Config, Emulator, Faults, Portal};
use outpost_core::customer::CustomerFields;
use outpost_core::{Interception, NewCustomer, Store};
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{add_endpoint, outpost};

async fn seed(db: &Path, n: usize) -> Vec<String> {
    let store = Store::open(db).await.unwrap();
    let inputs: Vec<_> = (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("Portal{i}")),
                last_name: Some("Guest".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    let ids = store.create_customers(&inputs).await.unwrap();
    store.close().await;
    ids.into_iter().map(|k| k.to_string()).collect()
}

fn run(db: &Path, args: &[&str]) -> Output {
    outpost(db).args(args).output().unwrap()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
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
async fn status_says_intercepted_behind_a_portal_and_sync_delivers_once_it_is_gone() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("till.db");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(
        &db,
        "shop",
        "generic-rest",
        &emu.crm_url(),
        emu.token(),
        &[],
    );
    let keys = seed(&db, 5).await;
    emu.set_faults(Faults {
        captive_portal: Some(Portal::SignInPage),
        ..Faults::default()
    });

    let out = run(&db, &["--json", "status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = json_of(&out.stdout);
    assert_eq!(status["connection"], "intercepted");
    assert_eq!(status["interception"], "sign_in_page");
    let why = status["last_error"].as_str().unwrap();
    assert!(why.starts_with(Interception::SignInPage.words()), "{why}");
    assert_eq!(status["pending"], 5);

    let text = String::from_utf8(run(&db, &["status"]).stdout).unwrap();
    assert!(
        text.contains("Not reaching the CRM: the network answered with a sign-in page"),
        "{text}"
    );

    // The sync cannot deliver: it says why, and nothing is marked.
    let out = run(&db, &["--json", "sync", "--once"]);
    assert_eq!(out.status.code(), Some(1));
    let error = json_of(&out.stderr);
    assert_eq!(error["code"], "crm");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(Interception::SignInPage.words()),
        "{error}"
    );
    let status = json_of(&run(&db, &["--json", "status"]).stdout);
    assert_eq!(
        (
            &status["pending"],
            &status["sent"],
            &status["needs_attention"]
        ),
        (&Value::from(5), &Value::from(0), &Value::from(0))
    );
    assert!(emu.records().is_empty(), "nothing got past the portal");

    emu.clear_faults();
    let out = run(&db, &["--json", "sync", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out.stdout);
    assert_eq!(report["delivered"], 5);
    assert_eq!(report["connection"], "online");
    let per = per_key(&emu);
    for k in &keys {
        assert_eq!(per.get(k), Some(&1), "{k} exactly once");
    }
    let status = json_of(&run(&db, &["--json", "status"]).stdout);
    assert_eq!(status["connection"], "online");
    assert_eq!(status["interception"], Value::Null);
    assert_eq!(status["sent"], 5);
    emu.shutdown().await;
}
