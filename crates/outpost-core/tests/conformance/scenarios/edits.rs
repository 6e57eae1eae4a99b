//! Edits with conflicts: a customer delivered, then edited here while a
//! person changed it in the CRM. A field only we changed lands, a field
//! only they changed stays theirs (no whole-record write reverts it), the
//! field both changed is one conflict with both values and nothing waits;
//! "use mine" then sends ours, "keep the CRM's" takes theirs.

use outpost_core::crm::field_map::FieldMap;
use outpost_core::customer::{CustomerEdit, Field};
use outpost_core::store::Resolution;
use outpost_core::sync::once::flush_once;
use outpost_core::{CustomerId, NewCustomer, SyncState};

use crate::common::Local;
use crate::crm::connect;
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;
    let map = FieldMap::new(outpost_core::crm::default_map(crm.kind()));
    let name = |f: Field| map.crm_field(f).expect("mapped by default").to_owned();
    let (city, first, last) = (
        name(Field::City),
        name(Field::FirstName),
        name(Field::LastName),
    );
    let flush = || async {
        flush_once(&local.store, local.secrets.clone())
            .await
            .unwrap()
    };

    // Unique per run: a shared CRM (BottleCRM) keeps emails unique.
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let new = NewCustomer::default()
        .with(Field::FirstName, "Ada")
        .with(Field::LastName, "Lovelace")
        .with(Field::Email, format!("ada.{tag}@example.com"))
        .with(Field::City, "Bonn");
    let id = local.store.create_customer(&new).await.unwrap().id;
    flush().await;
    assert_eq!(synced(local, id).await, SyncState::Synced);

    // Edited here while offline; meanwhile a person changed the same city
    // and the first name in the CRM.
    let edit = CustomerEdit::default()
        .set(Field::City, "Köln")
        .set(Field::LastName, "King");
    local.store.edit_customer(id, &edit).await.unwrap();
    crm.edit_in_crm(id, &city, "Berlin").await;
    crm.edit_in_crm(id, &first, "Augusta").await;
    flush().await;

    let in_crm = |field: &str| {
        let field = field.to_owned();
        async move { crm.value_in_crm(id, &field).await }
    };
    assert_eq!(in_crm(&last).await.as_deref(), Some("King"), "ours landed");
    assert_eq!(
        in_crm(&first).await.as_deref(),
        Some("Augusta"),
        "a field we did not change is not reverted"
    );
    assert_eq!(
        in_crm(&city).await.as_deref(),
        Some("Berlin"),
        "the CRM's value is kept"
    );
    let conflicts = local.store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0];
    assert_eq!(
        (
            c.customer_id,
            c.field.as_str(),
            c.ours.as_deref(),
            c.theirs.as_deref(),
            c.base.as_deref()
        ),
        (id, "city", Some("Köln"), Some("Berlin"), Some("Bonn"))
    );
    nothing_waits(local).await;

    // "Use mine": ours goes out with the CRM's value as its base.
    local
        .store
        .resolve_conflict(id, "city", Resolution::Mine)
        .await
        .unwrap();
    flush().await;
    assert_eq!(in_crm(&city).await.as_deref(), Some("Köln"));
    assert!(local.store.conflicts().await.unwrap().is_empty());
    nothing_waits(local).await;

    // "Keep the CRM's": theirs replaces ours here, nothing is sent.
    let edit = CustomerEdit::default().set(Field::City, "Aachen");
    local.store.edit_customer(id, &edit).await.unwrap();
    crm.edit_in_crm(id, &city, "Dresden").await;
    flush().await;
    assert_eq!(local.store.conflict_count().await.unwrap(), 1);
    let kept = local
        .store
        .resolve_conflict(id, "city", Resolution::Crm)
        .await
        .unwrap();
    assert_eq!(kept.fields.city.as_deref(), Some("Dresden"));
    assert!(!kept.pending_edit);
    flush().await;
    assert_eq!(in_crm(&city).await.as_deref(), Some("Dresden"));
    nothing_waits(local).await;
    Ok(())
}

async fn synced(local: &Local, id: CustomerId) -> SyncState {
    local
        .store
        .customer(id)
        .await
        .unwrap()
        .expect("stored")
        .sync_state
}

/// Settled: nothing pending, in flight or refused.
async fn nothing_waits(local: &Local) {
    let s = local.store.status().await.unwrap();
    assert_eq!(
        (s.pending, s.in_flight, s.needs_attention),
        (0, 0, 0),
        "{s:?}"
    );
}
