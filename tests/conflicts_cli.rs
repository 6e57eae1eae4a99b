//! `outpost conflicts list|resolve` and the count in `outpost status`: the
//! contract through the real binary on a real database file. The conflict
//! is recorded the way a flush round records one (delivery itself is tested
//! against the emulator in crates/outpost-core/tests/update_delivery.rs).

use std::path::Path;

use outpost_core::crm::connector::FieldConflict;
use outpost_core::store::{RoundOutcomes, UpdatedRecord};
use outpost_core::{CustomerId, Store};
use serde_json::Value;

mod common;
use common::{json, run, till_db};

/// A customer whose phone edit met "+49 30 5550111" in the CRM.
async fn customer_with_a_conflict(db: &Path) -> String {
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
            "+49 30 5550222",
        ],
    );
    let key = c["id"].as_str().unwrap().to_owned();
    let id: CustomerId = key.parse().unwrap();
    let store = Store::open(db).await.unwrap();
    store
        .record_round(&RoundOutcomes {
            endpoint: "crm",
            updated: vec![UpdatedRecord {
                message_id: -1,
                customer: id,
                version: Some("3".into()),
                conflicts: vec![FieldConflict {
                    field: "phone".into(),
                    ours: Some("+49 30 5550222".into()),
                    theirs: Some("+49 30 5550111".into()),
                    base: Some("+49 30 5550101".into()),
                }],
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    key
}

#[tokio::test]
async fn conflicts_are_listed_counted_and_kept_the_crms_way() {
    let (_dir, db) = till_db();
    let key = customer_with_a_conflict(&db).await;

    let list = json(&db, &["conflicts", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["customer_id"], key.as_str());
    assert_eq!(list[0]["field"], "phone");
    assert_eq!(list[0]["ours"], "+49 30 5550222");
    assert_eq!(list[0]["theirs"], "+49 30 5550111");
    assert_eq!(list[0]["base"], "+49 30 5550101");
    assert!(list[0]["detected_at"].is_string());
    assert_eq!(json(&db, &["status"])["conflicts"], 1);

    let human = run(&db, &["conflicts", "list"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("ours=+49 30 5550222") && text.contains("crm=+49 30 5550111"));

    let c = json(
        &db,
        &[
            "conflicts",
            "resolve",
            &key,
            "--field",
            "phone",
            "--use",
            "crm",
        ],
    );
    assert_eq!(c["phone"], "+49 30 5550111", "the CRM's value is kept");
    assert_eq!(json(&db, &["conflicts", "list"]), serde_json::json!([]));
    assert_eq!(json(&db, &["status"])["conflicts"], 0);
    let updates: Vec<Value> = json(&db, &["outbox", "list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "customer.update")
        .cloned()
        .collect();
    assert!(
        updates.is_empty(),
        "keeping the CRM's sends nothing: {updates:?}"
    );
}

#[tokio::test]
async fn use_mine_queues_ours_with_the_crms_value_as_its_base() {
    let (_dir, db) = till_db();
    let key = customer_with_a_conflict(&db).await;
    // The create must be delivered for the edit to be its own update.
    let id: CustomerId = key.parse().unwrap();
    {
        let store = Store::open(&db).await.unwrap();
        let claimed = store
            .claim_due("crm", 10, chrono::Utc::now())
            .await
            .unwrap();
        store
            .record_round(&RoundOutcomes {
                endpoint: "crm",
                delivered: vec![(claimed[0].message_id, id, "cus_1".into())],
                ..Default::default()
            })
            .await
            .unwrap();
        store.close().await;
    }

    let c = json(
        &db,
        &[
            "conflicts",
            "resolve",
            &key,
            "--field",
            "phone",
            "--use",
            "mine",
        ],
    );
    assert_eq!(c["phone"], "+49 30 5550222");
    assert_eq!(json(&db, &["status"])["conflicts"], 0);
    let update = json(&db, &["outbox", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "customer.update")
        .cloned()
        .expect("ours is queued");
    assert_eq!(update["state"], "pending");
    assert_eq!(
        update["payload"],
        serde_json::json!({"base_version": "3",
            "fields": {"phone": {"base": "+49 30 5550111", "new": "+49 30 5550222"}}})
    );

    // Settled: resolving again names what is missing (exit 1).
    let again = run(
        &db,
        &[
            "conflicts",
            "resolve",
            &key,
            "--field",
            "phone",
            "--use",
            "mine",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no conflict on phone"));
}
