//! Customers deleted in the CRM leave the working set (issue 14), against
//! the emulator's generic REST API (its deletions listing) and HubSpot
//! (its archived listing) over real HTTP on loopback, with real SQLite.

use std::collections::BTreeMap;
use std::sync::Arc;

mod common;
use common::{wait_until, World, DEADLINE};

use crm_emulator::crm_user::Target;
use crm_emulator::{Config, CustomerFields};
use outpost_core::customer::{CustomerEdit, Field};
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::sync::flusher::Flusher;
use outpost_core::sync::monitor::Monitor;
use outpost_core::sync::once::pull_once;
use outpost_core::{crm, CustomerId, OutboxState};

/// More than one page of deletions for either CRM (REST pages 200, HubSpot 100).
const SEEDED: usize = 260;
const DELETED: usize = 230;

/// A world whose CRM holds `SEEDED` customers; returns their CRM ids.
async fn seeded(kind: EndpointKind) -> (World, Vec<String>) {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(kind, EndpointSettings::default()).await;
    let ids = match kind {
        EndpointKind::GenericRest => w.emu.seed_rest(
            (0..SEEDED)
                .map(|i| {
                    let fields = CustomerFields {
                        first_name: Some(format!("Gone{i}")),
                        last_name: Some("Person".into()),
                        email: Some(format!("gone{i}@crm.example")),
                        ..CustomerFields::default()
                    };
                    (format!("ext-{i}"), fields)
                })
                .collect(),
        ),
        _ => w.emu.seed_hubspot(
            "contacts",
            (0..SEEDED)
                .map(|i| {
                    BTreeMap::from([
                        ("firstname".to_string(), format!("Gone{i}")),
                        ("lastname".to_string(), "Person".to_string()),
                        ("email".to_string(), format!("gone{i}@crm.example")),
                    ])
                })
                .collect(),
        ),
    };
    (w, ids)
}

/// A person deletes record `i` in the CRM.
fn delete_in_crm(w: &World, kind: EndpointKind, i: usize, crm_id: &str) {
    let target: Target = serde_json::from_value(match kind {
        EndpointKind::GenericRest => serde_json::json!({"api": "rest", "key": format!("ext-{i}")}),
        _ => serde_json::json!({"api": "hubspot", "key": crm_id, "property": "hs_object_id"}),
    })
    .unwrap();
    assert!(w.emu.delete_as_crm_user(&target).unwrap(), "record {i}");
}

async fn local_id(w: &World, crm_id: &str) -> Option<CustomerId> {
    w.store
        .customer_by_crm_id(crm_id)
        .await
        .unwrap()
        .map(|c| c.id)
}

async fn count(w: &World) -> u64 {
    w.store.working_set(Some("crm")).await.unwrap().total_local
}

async fn flusher(w: &World) -> Arc<Flusher> {
    let config = w.store.endpoint("crm").await.unwrap().unwrap();
    let connector = crm::build(&config, w.secrets.clone()).await.unwrap();
    let monitor = Monitor::new("crm", connector.clone());
    Flusher::new("crm", w.store.clone(), connector, monitor, 50)
}

async fn deleted_customers_leave_the_working_set(kind: EndpointKind) {
    let (w, crm_ids) = seeded(kind).await;
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(count(&w).await, SEEDED as u64);

    // Two customers edited here, not yet sent (the CRM is not flushed to).
    let edited = local_id(&w, &crm_ids[1]).await.unwrap();
    let discarded = local_id(&w, &crm_ids[2]).await.unwrap();
    for id in [edited, discarded] {
        w.store
            .edit_customer(id, &CustomerEdit::default().set(Field::City, "Bremen"))
            .await
            .unwrap();
    }
    // And one created here, not yet sent: the CRM never had it.
    let created = w.add(1, "fresh").await[0];

    for (i, id) in crm_ids.iter().enumerate().take(DELETED) {
        delete_in_crm(&w, kind, i, id);
    }

    // The deletions listing stops after its first page (a crash, a lost
    // connection): the next pull resumes there.
    let config = w.store.endpoint("crm").await.unwrap().unwrap();
    let connector = crm::build(&config, w.secrets.clone()).await.unwrap();
    let first = connector
        .list_deleted_since(None, None)
        .await
        .unwrap()
        .expect("this CRM lists deletions");
    assert!(first.next.is_some(), "more than one page of deletions");
    w.store.store_deleted_page("crm", &first).await.unwrap();
    assert!(w
        .store
        .deletions_state("crm")
        .await
        .unwrap()
        .cursor
        .is_some());

    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    // Deleted and untouched here: gone, also from the search.
    assert_eq!(
        count(&w).await,
        (SEEDED - DELETED + 2 + 1) as u64,
        "the deleted ones left, the two edited stayed, the local creation too"
    );
    assert!(local_id(&w, &crm_ids[0]).await.is_none());
    assert!(w
        .store
        .search("gone0@crm.example", 5)
        .await
        .unwrap()
        .is_empty());
    assert!(w.store.search("gone3", 5).await.unwrap().is_empty());
    assert!(
        local_id(&w, &crm_ids[DELETED]).await.is_some(),
        "not deleted"
    );
    assert!(w.store.customer(created).await.unwrap().is_some());
    assert!(w
        .store
        .deletions_state("crm")
        .await
        .unwrap()
        .cursor
        .is_none());

    // Deleted with an unsent edit: kept, shown deleted, the edit visible.
    let kept = w.store.customer(edited).await.unwrap().unwrap();
    assert!(kept.crm_deleted_at.is_some());
    assert!(kept.pending_edit);
    assert_eq!(kept.fields.city.as_deref(), Some("Bremen"));
    assert_eq!(w.store.status().await.unwrap().deleted_in_crm, Some(2));
    let held = w
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    assert!(held
        .iter()
        .all(|m| m.last_error.as_deref() == Some("deleted in the CRM")));
    // Retrying or editing it again is refused: it would only go to a record that is gone.
    assert!(w.store.retry_customer(edited).await.is_err());
    assert!(w
        .store
        .edit_customer(edited, &CustomerEdit::default().set(Field::City, "Kiel"))
        .await
        .is_err());

    // Its edit is not sent (nor recreates it): only the local creation goes.
    let f = flusher(&w).await;
    let before = w.emu.requests().len();
    wait_until("the local creation to be delivered", DEADLINE, || async {
        f.round().await.unwrap();
        w.store.status().await.unwrap().pending == 0
    })
    .await;
    let sent: Vec<String> = w.emu.requests()[before..]
        .iter()
        .map(|r| r.endpoint.clone())
        .collect();
    assert!(
        sent.iter()
            .all(|e| !e.starts_with("PATCH") && !e.contains("batch/update")),
        "no update was sent: {sent:?}"
    );
    let per_key = w.records_per_key();
    assert_eq!(per_key.get(&created.to_string()), Some(&1));
    assert_eq!(
        w.emu.records().len(),
        SEEDED - DELETED + 1,
        "nothing recreated"
    );

    // "Discard": gone with its messages.
    w.store.discard_deleted_customer(discarded).await.unwrap();
    assert!(w.store.customer(discarded).await.unwrap().is_none());
    // "Create again as new": a new key, the same fields with the edit, sent once.
    let again = w.store.recreate_deleted_customer(edited).await.unwrap();
    assert_ne!(again.id, edited);
    assert!(again.crm_deleted_at.is_none());
    assert_eq!(again.fields.city.as_deref(), Some("Bremen"));
    assert_eq!(again.fields.first_name.as_deref(), Some("Gone1"));
    assert!(w.store.customer(edited).await.unwrap().is_none());
    assert_eq!(w.store.status().await.unwrap().deleted_in_crm, Some(0));
    assert_eq!(w.store.status().await.unwrap().needs_attention, 0);
    wait_until("the new customer to be delivered", DEADLINE, || async {
        f.round().await.unwrap();
        w.store.status().await.unwrap().pending == 0
    })
    .await;
    f.round().await.unwrap();
    assert_eq!(w.records_per_key().get(&again.id.to_string()), Some(&1));
    assert_eq!(w.emu.records().len(), SEEDED - DELETED + 2);

    // Later pulls see the listing from where it ended: nothing changes,
    // and a new deletion is noticed.
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let settled = count(&w).await;
    assert_eq!(settled, (SEEDED - DELETED + 2) as u64);
    delete_in_crm(&w, kind, DELETED, &crm_ids[DELETED]);
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(count(&w).await, settled - 1);
    assert!(local_id(&w, &crm_ids[DELETED]).await.is_none());
}

#[tokio::test]
async fn rest_customers_deleted_in_the_crm_leave_the_working_set() {
    deleted_customers_leave_the_working_set(EndpointKind::GenericRest).await;
}

#[tokio::test]
async fn hubspot_contacts_archived_in_the_crm_leave_the_working_set() {
    deleted_customers_leave_the_working_set(EndpointKind::Hubspot).await;
}
