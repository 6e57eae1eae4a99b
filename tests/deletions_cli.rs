//! Customers deleted in the CRM, through the real binary: `outpost pull`
//! removes them or keeps one with an unsent edit, `status` counts those,
//! `customers show/search --json` carry `crm_deleted_at`, and `customers
//! discard|recreate` settle them. Needs the OS keyring
//! (`scripts/with-keyring`), like the other sync suites.

use std::path::Path;

use crm_emulator::crm_user::Target;
use crm_emulator::{Config, Emulator};

mod common;
use common::{add_endpoint, json, run, till_db};

fn add(db: &Path, last: &str) -> String {
    let c = json(
        db,
        &[
            "customers",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            last,
        ],
    );
    c["id"].as_str().unwrap().to_owned()
}

fn delete_in_crm(emu: &Emulator, key: &str) {
    assert!(emu.delete_as_crm_user(&Target::rest(key)).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_customers_leave_or_wait_for_discard_or_recreate() {
    let (_dir, db) = till_db();
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(&db, "crm", "generic-rest", &emu.crm_url(), emu.token(), &[]);
    let plain = add(&db, "Plain");
    let edited = add(&db, "Edited");
    let other = add(&db, "Other");
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 3);
    for key in [&edited, &other] {
        json(&db, &["customers", "edit", key, "--city", "Bremen"]);
    }
    for key in [&plain, &edited, &other] {
        delete_in_crm(&emu, key);
    }

    let pulled = json(&db, &["pull"]);
    assert_eq!(pulled["removed"], 1, "{pulled}");
    assert_eq!(pulled["deleted_in_crm"], 2, "{pulled}");
    let gone = run(&db, &["customers", "show", &plain, "--json"]);
    assert_eq!(gone.status.code(), Some(1), "removed from this device");
    let shown = json(&db, &["customers", "show", &edited]);
    assert!(shown["crm_deleted_at"].is_string(), "{shown}");
    assert_eq!(shown["pending_edit"], true);
    assert_eq!(shown["city"], "Bremen");
    let human = run(&db, &["customers", "show", &edited]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("deleted in the CRM"));
    let found = json(&db, &["customers", "search", "Ada", "--local"]);
    assert_eq!(found.as_array().unwrap().len(), 2, "{found}");
    assert!(found
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["crm_deleted_at"].is_string()));
    let status = json(&db, &["status"]);
    assert_eq!(status["deleted_in_crm"], 2, "{status}");
    assert_eq!(status["needs_attention"], 2, "{status}");

    // Nothing is sent for them.
    let report = json(&db, &["sync", "--once"]);
    assert_eq!(report["delivered"], 0, "{report}");
    assert!(emu.records().is_empty());

    // Exit codes: an unknown key 1, a malformed one 2.
    let unknown = run(&db, &["customers", "recreate", &plain]);
    assert_eq!(unknown.status.code(), Some(1));
    let invalid = run(&db, &["customers", "discard", "not-a-key"]);
    assert_eq!(invalid.status.code(), Some(2));

    let discarded = json(&db, &["customers", "discard", &other]);
    assert_eq!(discarded["discarded"], other.as_str());
    let again = json(&db, &["customers", "recreate", &edited]);
    let new_key = again["id"].as_str().unwrap().to_owned();
    assert_ne!(new_key, edited);
    assert_eq!(
        (again["last_name"].clone(), again["city"].clone()),
        ("Edited".into(), "Bremen".into())
    );
    assert!(again.get("crm_deleted_at").is_none());
    let status = json(&db, &["status"]);
    assert_eq!(
        (
            status["deleted_in_crm"].clone(),
            status["needs_attention"].clone(),
            status["pending"].clone()
        ),
        (0.into(), 0.into(), 1.into())
    );
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 1);
    assert_eq!(emu.records_per_key().get(&new_key), Some(&1));
    assert_eq!(emu.records().len(), 1);
    // A customer still in the CRM is neither discarded nor recreated this way.
    let refused = run(&db, &["customers", "recreate", &new_key]);
    assert_eq!(refused.status.code(), Some(1));
}
