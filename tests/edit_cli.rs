//! `outpost customers edit`: the contract (flags, `--json`, exit codes) through
//! the real binary on real database files. The test against the emulator
//! needs the OS keyring (`scripts/with-keyring`), like the other sync suites.

use std::path::Path;

use crm_emulator::{Config, Emulator};
use serde_json::Value;

mod common;
use common::{add_endpoint, json, json_error, run, till_db};

fn add(db: &Path) -> String {
    let c = json(
        db,
        &[
            "customers",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--phone",
            "+49 30 5550101",
            "--city",
            "London",
        ],
    );
    c["id"].as_str().unwrap().to_owned()
}

#[test]
fn edit_prints_the_customer_and_search_finds_the_new_values() {
    let (_dir, db) = till_db();
    let key = add(&db);

    let edited = json(
        &db,
        &[
            "customers",
            "edit",
            &key,
            "--last-name",
            "Byron",
            "--email",
            "ADA@example.org",
            "--clear",
            "city",
        ],
    );
    assert_eq!(edited["id"], key.as_str());
    assert_eq!(edited["last_name"], "Byron");
    assert_eq!(edited["email"], "ada@example.org");
    assert_eq!(edited["city"], Value::Null);
    assert_eq!(edited["first_name"], "Ada", "untouched fields stay");
    assert_eq!(edited["phone"], "+49 30 5550101");
    // The same shape as `show --json`.
    assert_eq!(json(&db, &["customers", "show", &key]), edited);

    let found = json(&db, &["customers", "search", "Byron", "--local"]);
    assert_eq!(found[0]["id"], key.as_str());
    assert_eq!(
        json(&db, &["customers", "search", "Lovelace", "--local"]),
        Value::Array(vec![])
    );

    // The create had not gone yet: it carries the edit, no second message.
    let outbox = json(&db, &["outbox", "list"]);
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");
    assert_eq!(outbox[0]["kind"], "customer.create");
    assert_eq!(outbox[0]["payload"]["last_name"], "Byron");
    assert_eq!(edited["pending_edit"], false);

    // Without --json: the details, as `show` prints them.
    let out = run(
        &db,
        &[
            "customers",
            "edit",
            &key,
            "--tax-id",
            "DE123",
            "--clear",
            "tax-id",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "given and cleared at once");
    let out = run(&db, &["customers", "edit", &key, "--tax-id", "DE123"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DE123") && text.contains(&key), "{text}");
}

#[test]
fn invalid_input_exits_2_naming_the_field_and_changes_nothing() {
    let (_dir, db) = till_db();
    let key = add(&db);
    let before = json(&db, &["customers", "show", &key]);

    let out = run(
        &db,
        &[
            "customers",
            "edit",
            &key,
            "--email",
            "ada-at-example",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = json_error(&out);
    assert_eq!(err["code"], "validation");
    assert_eq!(err["fields"][0]["field"], "email");

    // Every name cleared: the names rule, against first_name as for `add`.
    let out = run(
        &db,
        &[
            "customers",
            "edit",
            &key,
            "--clear",
            "first_name",
            "--clear",
            "last-name",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("first_name"));

    let out = run(
        &db,
        &["customers", "edit", &key, "--clear", "shoe_size", "--json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_error(&out)["fields"][0]["field"], "clear");

    let out = run(&db, &["customers", "edit", &key]);
    assert_eq!(out.status.code(), Some(2), "nothing to change");

    let out = run(&db, &["customers", "edit", "not-a-key", "--city", "Paris"]);
    assert_eq!(out.status.code(), Some(2));

    assert_eq!(json(&db, &["customers", "show", &key]), before);
    assert_eq!(json(&db, &["outbox", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn an_unknown_key_exits_1() {
    let (_dir, db) = till_db();
    let out = run(
        &db,
        &[
            "customers",
            "edit",
            "01900000-0000-7000-8000-000000000000",
            "--city",
            "Paris",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_error(&out)["code"], "not_found");
}

/// A customer already in the CRM: its edit queues a `customer.update` with
/// only the changed fields while the customer stays synced, and the next
/// sync delivers it as a conditional PATCH (not a create again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_a_delivered_customer_queues_its_changed_fields() {
    let (_dir, db) = till_db();
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(&db, "crm", "generic-rest", &emu.crm_url(), emu.token(), &[]);
    let key = add(&db);
    let report = json(&db, &["sync", "--once"]);
    assert_eq!(report["delivered"], 1, "{report}");

    let edited = json(
        &db,
        &["customers", "edit", &key, "--phone", "+49 30 5550199"],
    );
    assert_eq!(edited["sync_state"], "synced");
    assert_eq!(edited["pending_edit"], true);
    let pending = json(&db, &["outbox", "list", "--state", "pending"]);
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0]["kind"], "customer.update");
    assert_eq!(
        pending[0]["payload"],
        // The create's answer gave the record's version: the bases belong to it.
        serde_json::json!({"base_version": "1",
            "fields": {"phone": {"base": "+49 30 5550101", "new": "+49 30 5550199"}}})
    );
    assert_eq!(json(&db, &["status"])["pending"], 1);

    // The next sync delivers it: the field changes in the CRM, in place.
    let report = json(&db, &["sync", "--once"]);
    assert_eq!(
        (
            report["delivered"].clone(),
            report["needs_attention"].clone()
        ),
        (1.into(), 0.into())
    );
    let pending = json(&db, &["outbox", "list", "--state", "pending"]);
    assert_eq!(pending, serde_json::json!([]));
    let records = emu.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record["phone"], "+49 30 5550199");
    assert_eq!(records[0].record["first_name"], "Ada");
    let shown = json(&db, &["customers", "show", &key]);
    assert_eq!(shown["pending_edit"], false);
}
