//! The CRM's creation form (picklists, CRM-specific fields) is fetched while
//! online, cached, and decides offline what can be queued; the CRM then
//! receives the picked value.

use outpost_core::customer::CustomerFields;
use outpost_core::sync::once::{flush_once, pull_once};
use outpost_core::{Error, NewCustomer, SyncState};

use crate::common::Local;
use crate::crm::connect;
use crate::{Crm, Skip};

fn with_attribute(name: &str, value: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            first_name: Some("Rita".into()),
            last_name: Some("Moreno".into()),
            ..Default::default()
        },
        attributes: Some([(name.to_string(), value.to_string())].into()),
    }
}

fn field_errors(e: Error) -> Vec<String> {
    match e {
        Error::Validation(v) => v.0.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other}"),
    }
}

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let case = crm.form_case()?;
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;

    // Never online yet: the built-in form, with a note saying so.
    let form = local.store.current_form().await.unwrap();
    assert!(form.endpoint.is_none() && form.note.is_some());

    pull_once(&local.store, local.secrets.clone(), None)
        .await
        .unwrap();
    crm.down().await;
    let form = local.store.current_form().await.unwrap();
    assert_eq!(form.endpoint.as_deref(), Some("crm"));
    assert!(form.fetched_at.is_some() && form.note.is_none());
    let picklist = form
        .fields
        .iter()
        .find(|f| f.name == case.attribute)
        .expect("the CRM's picklist");
    assert!(picklist.attribute && picklist.options.iter().any(|o| o.value == case.good));
    let count = || async {
        local
            .store
            .working_set(Some("crm"))
            .await
            .unwrap()
            .total_local
    };
    let before = count().await;

    // Offline, the cached lists decide what can be queued.
    let err = local
        .store
        .create_customer(&with_attribute(case.attribute, case.bad))
        .await
        .unwrap_err();
    assert_eq!(field_errors(err), [case.attribute]);
    if let Some((field, outside, at_least)) = case.constrained {
        let list = form.fields.iter().find(|f| f.name == field.name()).unwrap();
        assert!(!list.attribute && list.options.len() >= at_least);
        let mut input = with_attribute(case.attribute, case.good);
        *input.fields.slot(field) = Some(outside.into());
        let err = local.store.create_customer(&input).await.unwrap_err();
        assert_eq!(field_errors(err), [field.name()]);
    }
    let err = local
        .store
        .create_customer(&with_attribute("shoe_size", "42"))
        .await
        .unwrap_err();
    assert_eq!(field_errors(err), ["shoe_size"]);
    assert_eq!(count().await, before, "nothing refused was stored");

    let rita = local
        .store
        .create_customer(&with_attribute(case.attribute, case.good))
        .await
        .unwrap();
    assert_eq!(rita.attributes[case.attribute], case.good);

    // Back online the CRM receives the picklist value too.
    crm.up().await;
    flush_once(&local.store, local.secrets.clone())
        .await
        .unwrap();
    let stored = local.store.customer(rita.id).await.unwrap().unwrap();
    assert_eq!(stored.sync_state, SyncState::Synced);
    assert_eq!(
        crm.value_in_crm(rita.id, case.attribute).await.as_deref(),
        Some(case.good)
    );
    Ok(())
}
