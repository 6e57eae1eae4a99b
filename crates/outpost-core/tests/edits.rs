//! Editing customers (issue 14, part A) on real SQLite files: the row, the
//! search and the `customer.update` message change in one transaction;
//! edits merge, keep their first base, and wait in order behind the create.

use chrono::Utc;
use outpost_core::crm::form::{CrmForm, FieldKind, FieldOption, FormField};
use outpost_core::crm::RemoteCustomer;
use outpost_core::customer::{CustomerEdit, CustomerFields, Field, FieldSet, Origin};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind};
use outpost_core::store::RoundOutcomes;
use outpost_core::{
    Customer, CustomerId, Error, NewCustomer, OutboxMessage, OutboxState, Store, StoreOptions,
    SyncState,
};
use serde_json::json;
use tempfile::TempDir;

async fn open(dir: &TempDir) -> Store {
    Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            background_indexing: false,
            locale_region: None,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn person(first: &str, last: &str) -> NewCustomer {
    NewCustomer::default()
        .with(Field::FirstName, first)
        .with(Field::LastName, last)
        .with(Field::Phone, "+49 30 5550101")
}

async fn messages(store: &Store, id: CustomerId) -> Vec<OutboxMessage> {
    let all = store.outbox(None, 1000).await.unwrap();
    all.into_iter().filter(|m| m.customer_id == id).collect()
}

async fn update_of(store: &Store, id: CustomerId) -> Option<OutboxMessage> {
    messages(store, id)
        .await
        .into_iter()
        .find(|m| m.kind == "customer.update")
}

/// Claims the customer's create and records it delivered, as a flush round would.
async fn deliver_create(store: &Store, id: CustomerId) {
    let claimed = store.claim_due("crm", 100, Utc::now()).await.unwrap();
    let mine = claimed
        .iter()
        .find(|c| c.customer.id == id)
        .expect("claimed");
    store
        .record_round(&RoundOutcomes {
            endpoint: "crm",
            delivered: vec![(mine.message_id, id, format!("crm-{id}"))],
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn created_and_delivered(store: &Store, first: &str, last: &str) -> Customer {
    let c = store.create_customer(&person(first, last)).await.unwrap();
    deliver_create(store, c.id).await;
    store.customer(c.id).await.unwrap().unwrap()
}

fn ids(found: &[Customer]) -> Vec<CustomerId> {
    found.iter().map(|c| c.id).collect()
}

#[tokio::test]
async fn an_edit_changes_the_row_and_search_finds_the_new_value_at_once() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Grace", "Hopper").await;
    store.flush_search_index().await.unwrap();

    let edited = store
        .edit_customer(
            c.id,
            &CustomerEdit::default().set(Field::LastName, "Murray"),
        )
        .await
        .unwrap();
    assert_eq!(edited.fields.last_name.as_deref(), Some("Murray"));
    assert_eq!(
        edited.sync_state,
        SyncState::Synced,
        "it is still in the CRM"
    );
    assert!(edited.pending_edit, "edited, not yet sent");
    assert_eq!(store.customer(c.id).await.unwrap().unwrap(), edited);

    // Before the indexer's turn (the old entries are still in the index)
    // and after it.
    for _ in 0..2 {
        assert_eq!(ids(&store.search("Murray", 10).await.unwrap()), [c.id]);
        assert!(store.search("Hopper", 10).await.unwrap().is_empty());
        assert!(store.search("Grace Hopper", 10).await.unwrap().is_empty());
        assert_eq!(ids(&store.search("Grace", 10).await.unwrap()), [c.id]);
        assert_eq!(
            ids(&store.search("Grace Murray", 10).await.unwrap()),
            [c.id]
        );
        store.flush_search_index().await.unwrap();
    }
}

#[tokio::test]
async fn a_second_edit_before_indexing_leaves_no_old_entry_behind() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Grace", "Hopper").await;
    store.flush_search_index().await.unwrap();
    // The second edit comes while the row waits for the indexer.
    for (field, value) in [(Field::LastName, "Murray"), (Field::FirstName, "Amazing")] {
        let edit = CustomerEdit::default().set(field, value);
        store.edit_customer(c.id, &edit).await.unwrap();
    }
    store.flush_search_index().await.unwrap();
    assert_eq!(
        ids(&store.search("Amazing Murray", 10).await.unwrap()),
        [c.id]
    );
    for gone in ["Grace", "Hopper"] {
        assert!(store.search(gone, 10).await.unwrap().is_empty(), "{gone}");
    }
}

#[tokio::test]
async fn the_message_carries_only_the_changed_fields_with_their_bases() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;

    let edit = CustomerEdit::default()
        .set(Field::Phone, "+49 30 5550199")
        .set(Field::Email, " Ada@Example.ORG ")
        // As stored already: no change.
        .set(Field::FirstName, "Ada");
    store.edit_customer(c.id, &edit).await.unwrap();

    let update = update_of(&store, c.id).await.expect("an update message");
    assert_eq!(update.state, OutboxState::Pending);
    assert_eq!(
        update.payload,
        json!({"fields": {
            "email": {"base": null, "new": "ada@example.org"},
            "phone": {"base": "+49 30 5550101", "new": "+49 30 5550199"},
        }})
    );
    assert_eq!(
        messages(&store, c.id).await.len(),
        2,
        "the sent create and the update"
    );
    assert_eq!(store.status().await.unwrap().pending, 1);
}

#[tokio::test]
async fn several_edits_merge_into_one_message_keeping_the_first_base() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;

    for phone in ["+49 30 5550102", "+49 30 5550103"] {
        store
            .edit_customer(c.id, &CustomerEdit::default().set(Field::Phone, phone))
            .await
            .unwrap();
    }
    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::City, "Berlin"))
        .await
        .unwrap();

    let updates: Vec<_> = messages(&store, c.id)
        .await
        .into_iter()
        .filter(|m| m.kind == "customer.update")
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(
        updates[0].payload["fields"],
        json!({
            "phone": {"base": "+49 30 5550101", "new": "+49 30 5550103"},
            "city": {"base": null, "new": "Berlin"},
        })
    );
}

#[tokio::test]
async fn a_field_edited_back_to_its_base_drops_out_and_an_empty_message_goes() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;

    let edit = CustomerEdit::default()
        .set(Field::Phone, "+49 30 5550102")
        .set(Field::Company, "Analytical Engines");
    store.edit_customer(c.id, &edit).await.unwrap();
    store
        .edit_customer(
            c.id,
            &CustomerEdit::default().set(Field::Phone, "+49 30 5550101"),
        )
        .await
        .unwrap();
    let update = update_of(&store, c.id).await.unwrap();
    assert_eq!(
        update.payload["fields"],
        json!({"company": {"base": null, "new": "Analytical Engines"}})
    );

    let back = store
        .edit_customer(c.id, &CustomerEdit::default().clear(Field::Company))
        .await
        .unwrap();
    assert_eq!(update_of(&store, c.id).await, None, "nothing left to send");
    assert!(!back.pending_edit);
    assert_eq!(back.sync_state, SyncState::Synced);
    assert_eq!(store.status().await.unwrap().pending, 0);
}

#[tokio::test]
async fn invalid_input_names_the_field_and_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;
    store.flush_search_index().await.unwrap();

    let bad = CustomerEdit::default()
        .set(Field::Email, "not-an-email")
        .set(Field::LastName, "Byron");
    let Error::Validation(errors) = store.edit_customer(c.id, &bad).await.unwrap_err() else {
        panic!("expected a validation error")
    };
    assert_eq!(errors.fields().len(), 1, "{errors}");
    assert!(errors.for_field("email").is_some(), "{errors}");
    // The words of a creation with the same value.
    let create = store
        .check_customer(&person("Ada", "Byron").with(Field::Email, "not-an-email"))
        .await
        .unwrap();
    assert_eq!(create.errors, errors.0);

    // Every name gone: the names rule, against the field a creation names.
    let nameless = CustomerEdit::default()
        .clear(Field::FirstName)
        .set(Field::LastName, " ");
    let Error::Validation(errors) = store.edit_customer(c.id, &nameless).await.unwrap_err() else {
        panic!("expected a validation error")
    };
    assert!(errors.for_field("first_name").is_some(), "{errors}");

    assert_eq!(store.customer(c.id).await.unwrap().unwrap(), c);
    assert_eq!(update_of(&store, c.id).await, None);
    assert_eq!(ids(&store.search("Lovelace", 10).await.unwrap()), [c.id]);
    assert!(store.search("Byron", 10).await.unwrap().is_empty());

    // A refused edit leaves no transaction open: the store still writes.
    let city = CustomerEdit::default().set(Field::City, "Paris");
    store.edit_customer(c.id, &city).await.unwrap();
    store
        .create_customer(&person("Grace", "Hopper"))
        .await
        .unwrap();
    assert_eq!(ids(&store.search("Paris", 10).await.unwrap()), [c.id]);
}

#[tokio::test]
async fn the_crms_cached_form_applies_to_an_edit() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    store
        .save_endpoint(&EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::GenericRest,
            base_url: "https://crm.example.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: 10,
            settings: Default::default(),
        })
        .await
        .unwrap();
    let form = CrmForm {
        required_one_of: vec![],
        fields: vec![FormField {
            name: "lead_source".into(),
            label: "Lead source".into(),
            kind: FieldKind::Picklist,
            required: false,
            options: ["web", "walk_in"]
                .map(|v| FieldOption {
                    value: v.into(),
                    label: v.into(),
                })
                .to_vec(),
            attribute: true,
            max_len: None,
        }],
    };
    store.save_form_metadata("crm", &form).await.unwrap();
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;

    let mut edit = CustomerEdit::default();
    edit.attributes
        .insert("lead_source".into(), Some("fax".into()));
    let Error::Validation(errors) = store.edit_customer(c.id, &edit).await.unwrap_err() else {
        panic!("expected a validation error")
    };
    assert!(errors.for_field("lead_source").is_some(), "{errors}");

    edit.attributes
        .insert("lead_source".into(), Some("web".into()));
    let edited = store.edit_customer(c.id, &edit).await.unwrap();
    assert_eq!(edited.attributes["lead_source"], "web");
    assert_eq!(
        update_of(&store, c.id).await.unwrap().payload,
        json!({"attributes": {"lead_source": {"base": null, "new": "web"}}})
    );
}

#[tokio::test]
async fn an_unknown_key_is_its_own_error() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let unknown: CustomerId = "01890a5d-ac96-774b-bcce-b302099a8057".parse().unwrap();
    let err = store
        .edit_customer(unknown, &CustomerEdit::default().set(Field::City, "Paris"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CustomerNotFound(ref k) if *k == unknown.to_string()),
        "{err}"
    );
    assert!(store.outbox(None, 10).await.unwrap().is_empty());

    // Neither an unknown key nor an edit that changes nothing leaves a
    // transaction open.
    let c = store
        .create_customer(&person("Ada", "Lovelace"))
        .await
        .unwrap();
    let same = CustomerEdit::default().set(Field::LastName, "Lovelace");
    assert_eq!(store.edit_customer(c.id, &same).await.unwrap(), c);
    store
        .create_customer(&person("Grace", "Hopper"))
        .await
        .unwrap();
    assert_eq!(store.outbox(None, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_customer_pulled_from_the_crm_can_be_edited() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let remote = RemoteCustomer {
        crm_id: "501".into(),
        key: None,
        fields: CustomerFields {
            first_name: Some("Edsger".into()),
            last_name: Some("Dijkstra".into()),
            email: Some("ewd@example.nl".into()),
            ..Default::default()
        },
        received: FieldSet::all(),
        updated_at: Some(Utc::now()),
        version: None,
    };
    let pulled = store.cache_remote(&[remote]).await.unwrap().remove(0);
    assert_eq!(pulled.origin, Origin::Crm);
    assert!(store.outbox(None, 10).await.unwrap().is_empty());

    let edited = store
        .edit_customer(
            pulled.id,
            &CustomerEdit::default().set(Field::Email, "edsger@example.nl"),
        )
        .await
        .unwrap();
    assert_eq!(edited.origin, Origin::Crm);
    assert_eq!(edited.crm_id.as_deref(), Some("501"));
    assert_eq!(edited.sync_state, SyncState::Synced);
    assert!(edited.pending_edit);
    let all = store.outbox(None, 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].kind, "customer.update");
    assert_eq!(
        all[0].payload["fields"],
        json!({"email": {"base": "ewd@example.nl", "new": "edsger@example.nl"}})
    );
    assert_eq!(
        ids(&store.search("edsger@example.nl", 10).await.unwrap()),
        [pulled.id]
    );
}

#[tokio::test]
async fn an_edit_while_the_create_waits_folds_into_the_create() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = store
        .create_customer(&person("Ada", "Lovelace"))
        .await
        .unwrap();

    let edited = store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::City, "London"))
        .await
        .unwrap();
    assert_eq!(edited.sync_state, SyncState::Pending);
    assert!(!edited.pending_edit, "the create carries it");
    let all = messages(&store, c.id).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].kind, "customer.create");
    assert_eq!(all[0].payload["city"], "London");

    // The create goes with the edited values.
    let claimed = store.claim_due("crm", 10, Utc::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].customer.fields.city.as_deref(), Some("London"));
}

#[tokio::test]
async fn an_edit_while_the_create_is_being_sent_queues_an_update_behind_it() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = store
        .create_customer(&person("Ada", "Lovelace"))
        .await
        .unwrap();
    let claimed = store.claim_due("crm", 10, Utc::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);

    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::City, "London"))
        .await
        .unwrap();
    let all = messages(&store, c.id).await;
    assert_eq!(
        all.iter()
            .map(|m| (m.kind.as_str(), m.state))
            .collect::<Vec<_>>(),
        [
            ("customer.create", OutboxState::InFlight),
            ("customer.update", OutboxState::Pending)
        ]
    );
    assert!(all[0].id < all[1].id, "the create first");
    assert_eq!(
        all[1].payload["fields"],
        json!({"city": {"base": null, "new": "London"}})
    );

    // The create's answer: it lost a connection and goes back to the queue.
    // Another edit then folds into it and merges into the update alike.
    store
        .release(&[claimed[0].message_id], Utc::now(), Some("reset"))
        .await
        .unwrap();
    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::City, "Paris"))
        .await
        .unwrap();
    let all = messages(&store, c.id).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].payload["city"], "Paris");
    assert_eq!(
        all[1].payload["fields"],
        json!({"city": {"base": null, "new": "Paris"}})
    );

    // Delivered: the customer is in the CRM, its edit still waits.
    deliver_create(&store, c.id).await;
    let after = store.customer(c.id).await.unwrap().unwrap();
    assert_eq!(after.sync_state, SyncState::Synced);
    assert!(after.pending_edit);
}

#[tokio::test]
async fn updates_stay_pending_until_connectors_deliver_them() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;
    let waiting = store
        .create_customer(&person("Alan", "Turing"))
        .await
        .unwrap();
    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::City, "London"))
        .await
        .unwrap();

    // The other customer's create goes; the update is neither claimed,
    // refused nor marked sent, and does not make the flusher wake.
    let claimed = store.claim_due("crm", 10, Utc::now()).await.unwrap();
    let claimed_ids: Vec<CustomerId> = claimed.iter().map(|c| c.customer.id).collect();
    assert_eq!(claimed_ids, [waiting.id]);
    store
        .record_round(&RoundOutcomes {
            endpoint: "crm",
            delivered: vec![(claimed[0].message_id, waiting.id, "crm-2".into())],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(store
        .claim_due("crm", 10, Utc::now())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.next_due("crm").await.unwrap(), None);
    let update = update_of(&store, c.id).await.unwrap();
    assert_eq!((update.state, update.attempts), (OutboxState::Pending, 0));
}

#[tokio::test]
async fn the_row_and_its_message_commit_together() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = created_and_delivered(&store, "Ada", "Lovelace").await;
    store.flush_search_index().await.unwrap();

    // The message's write fails after the row was changed in the same transaction.
    sqlx::query("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'simulated outbox failure'); END")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    let err = store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::LastName, "Byron"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("simulated outbox failure"),
        "{err}"
    );
    assert_eq!(
        store.customer(c.id).await.unwrap().unwrap(),
        c,
        "the row is as it was"
    );
    assert!(store.search("Byron", 10).await.unwrap().is_empty());
    assert_eq!(ids(&store.search("Lovelace", 10).await.unwrap()), [c.id]);
    assert_eq!(update_of(&store, c.id).await, None);

    // And a merge whose write fails leaves the first edit whole.
    sqlx::query("DROP TRIGGER fail_outbox")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::LastName, "Byron"))
        .await
        .unwrap();
    sqlx::query("CREATE TRIGGER fail_merge BEFORE UPDATE OF payload ON outbox BEGIN SELECT RAISE(ABORT, 'simulated merge failure'); END")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    store
        .edit_customer(c.id, &CustomerEdit::default().set(Field::LastName, "King"))
        .await
        .unwrap_err();
    let now = store.customer(c.id).await.unwrap().unwrap();
    assert_eq!(now.fields.last_name.as_deref(), Some("Byron"));
    assert_eq!(
        update_of(&store, c.id).await.unwrap().payload["fields"],
        json!({"last_name": {"base": "Lovelace", "new": "Byron"}})
    );
    assert!(store.search("King", 10).await.unwrap().is_empty());

    // A store reopened from the file holds the same.
    store.close().await;
    let store = open(&dir).await;
    let again = store.customer(c.id).await.unwrap().unwrap();
    assert_eq!(again.fields.last_name.as_deref(), Some("Byron"));
    assert!(again.pending_edit);
}
