//! `outpost pull` and the merged `outpost customers search` as real processes
//! against the emulator. Needs the OS keyring (the README's test command runs
//! the tests inside a private D-Bus session with gnome-keyring).

use std::path::Path;
use std::process::Output;

use crm_emulator::{Config, CustomerFields, Emulator};
use serde_json::Value;
use tempfile::TempDir;

mod common;
use common::{add_endpoint, outpost};

fn run(db: &Path, args: &[&str]) -> Output {
    outpost(db).args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn add_generic_endpoint(db: &Path, name: &str, emu: &Emulator) {
    add_endpoint(db, name, "generic-rest", &emu.crm_url(), emu.token(), &[]);
}

fn seed(emu: &Emulator, n: usize) {
    emu.seed_rest(
        (0..n)
            .map(|i| {
                (
                    format!("crm-{i}"),
                    CustomerFields {
                        first_name: Some(format!("Pulled{i}")),
                        last_name: Some("Rep".into()),
                        email: Some(format!("pulled{i}@crm.example")),
                        ..CustomerFields::default()
                    },
                )
            })
            .collect(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_reports_what_it_fetched_and_what_is_on_the_device() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("outpost.db");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let name = format!("pull-cli-{}", std::process::id());
    add_generic_endpoint(&db, &name, &emu);
    seed(&emu, 300);
    let created = run(
        &db,
        &[
            "--json",
            "customers",
            "add",
            "--first-name",
            "Made",
            "--last-name",
            "Here",
        ],
    );
    assert!(created.status.success());

    let first = json(&run(&db, &["--json", "pull"]));
    assert_eq!(first["fetched"], 300);
    assert_eq!(first["total_local"], 301);

    // Nothing changed: the next pass only re-reads its short overlap.
    let again = json(&run(&db, &["--json", "pull", "--endpoint", &name]));
    assert_eq!(again["total_local"], 301);
    assert_eq!(again["inserted"], 0);

    let set = run(
        &db,
        &[
            "endpoints",
            "set",
            "--name",
            &name,
            "--pull",
            "off",
            "--pull-modified-within-days",
            "30",
        ],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let shown = json(&run(&db, &["--json", "endpoints", "show", &name]));
    assert_eq!(shown["settings"]["pull_enabled"], false);
    assert_eq!(shown["settings"]["pull_modified_within_days"], 30);
    let bad = run(
        &db,
        &[
            "endpoints",
            "set",
            "--name",
            &name,
            "--pull-modified-within-days",
            "0",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pull_modified_within_days"));

    let unknown = run(&db, &["pull", "--endpoint", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nope"));

    // Offline: the pulled customers are still found, with a quiet note.
    emu.down().await;
    let out = run(&db, &["--json", "customers", "search", "pulled299"]);
    let found = json(&out);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["source"], "local");
    assert_eq!(found[0]["origin"], "crm");
    assert!(String::from_utf8_lossy(&out.stderr).contains("offline: local results only"));
    let failed = run(&db, &["--json", "pull"]);
    assert_eq!(failed.status.code(), Some(1));
    emu.up().await.unwrap();
    remove_endpoint_secrets(&db, &name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_merges_the_crms_results_unless_local_is_given() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("outpost.db");
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let name = format!("search-cli-{}", std::process::id());
    add_generic_endpoint(&db, &name, &emu);
    seed(&emu, 3);

    let local_only = json(&run(
        &db,
        &["--json", "customers", "search", "pulled", "--local"],
    ));
    assert_eq!(local_only.as_array().unwrap().len(), 0);
    assert_eq!(emu.stats().total, 0, "--local never asks the CRM");

    let merged = json(&run(&db, &["--json", "customers", "search", "pulled"]));
    let rows = merged.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["source"] == "crm" && r["crm_id"].is_string()));

    // Cached: found locally from now on.
    let cached = json(&run(
        &db,
        &["--json", "customers", "search", "pulled", "--local"],
    ));
    assert_eq!(cached.as_array().unwrap().len(), 3);
    remove_endpoint_secrets(&db, &name);
}

/// The endpoints' tokens live in the real keyring: remove them.
fn remove_endpoint_secrets(db: &Path, name: &str) {
    let out = run(db, &["endpoints", "remove", name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
