//! An admin's mapping of an Outpost field to another CRM field travels both
//! ways: a customer created here arrives with the value in that field, and
//! a record made in the CRM with a value there is pulled into the field.

use outpost_core::customer::CustomerFields;
use outpost_core::sync::once::{flush_once, pull_once};
use outpost_core::{NewCustomer, SyncState};

use crate::common::Local;
use crate::crm::connect;
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let case = crm.mapping_case().await?;
    let mut settings = crm.sign_in(&*local.secrets).await;
    settings
        .field_map
        .insert(case.field, case.crm_field.to_owned());
    connect(crm, local, settings).await;

    let mut out = NewCustomer {
        fields: CustomerFields {
            first_name: Some("Mapped".into()),
            last_name: Some("Outbound".into()),
            email: Some("mapped.outbound@example.com".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    *out.fields.slot(case.field) = Some("DE123456789".into());
    let created = local.store.create_customer(&out).await.unwrap();
    flush_once(&local.store, local.secrets.clone())
        .await
        .unwrap();
    let stored = local.store.customer(created.id).await.unwrap().unwrap();
    assert_eq!(stored.sync_state, SyncState::Synced);
    assert_eq!(
        crm.value_in_crm(created.id, case.crm_field)
            .await
            .as_deref(),
        Some("DE123456789"),
        "sent in the mapped field"
    );

    crm.seed_mapped(&case, "FR98765432101", "mapped.inbound@example.com")
        .await;
    pull_once(&local.store, local.secrets.clone(), None)
        .await
        .unwrap();
    let found = local
        .store
        .search("mapped.inbound@example.com", 5)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the CRM's record was pulled");
    assert_eq!(
        found[0].fields.get(case.field),
        Some("FR98765432101"),
        "read from the mapped field"
    );
    Ok(())
}
