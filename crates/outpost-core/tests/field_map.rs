//! An admin's field map against the CRM emulator over real HTTP: a mapped
//! field travels on delivery and comes back on pull (HubSpot and generic
//! REST), form extras join the creation form and travel as attributes, and
//! a map that does not fit the CRM is named, when saving and when the CRM's
//! metadata is fetched again.

mod common;
use common::World;

use std::collections::BTreeMap;

use crm_emulator::{Config, CustomerFields as RestFields, PicklistOption, RestCustomField};
use outpost_core::crm::form::FieldKind;
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};
use outpost_core::endpoint::mapping::{self, MapEdit};
use outpost_core::endpoint::{EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::once::{flush_once, pull_once};
use outpost_core::{Customer, NewCustomer};
use serde_json::json;

fn settings(map: &[(Field, &str)], extras: &[&str]) -> EndpointSettings {
    EndpointSettings {
        field_map: map.iter().map(|(f, c)| (*f, (*c).to_owned())).collect(),
        form_extra: extras.iter().map(|e| (*e).to_owned()).collect(),
        ..Default::default()
    }
}

async fn config(w: &World) -> EndpointConfig {
    w.store.endpoint("crm").await.unwrap().unwrap()
}

fn hubspot_property(
    name: &str,
    kind: &str,
    field_type: &str,
    options: serde_json::Value,
) -> serde_json::Value {
    json!({"name": name, "label": name, "type": kind, "fieldType": field_type,
           "groupName": "contactinformation", "options": options})
}

/// The local customer the CRM record `crm_id` became.
async fn local_by_crm_id(w: &World, crm_id: &str) -> Customer {
    w.store
        .search("", 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.crm_id.as_deref() == Some(crm_id))
        .unwrap_or_else(|| panic!("no local customer for {crm_id}"))
}

fn new_customer(last: &str, tax_id: &str, attributes: &[(&str, &str)]) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields::default()
            .with(Field::LastName, last)
            .with(Field::TaxId, tax_id),
        attributes: (!attributes.is_empty()).then(|| {
            attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        }),
    }
}

#[tokio::test]
async fn hubspot_a_tax_id_mapped_to_a_custom_property_travels_both_ways() {
    let w = World::new(Config::unlimited()).await;
    w.emu
        .create_hubspot_property(
            "contacts",
            hubspot_property("vat_number", "string", "text", json!([])),
        )
        .unwrap();
    // Not a form field in HubSpot: only the admin's extra puts it on the form.
    w.emu
        .create_hubspot_property(
            "contacts",
            hubspot_property(
                "store_id",
                "enumeration",
                "select",
                json!([{"label": "Berlin", "value": "berlin"}, {"label": "Hamburg", "value": "hamburg"}]),
            ),
        )
        .unwrap();
    w.emu
        .create_hubspot_property(
            "contacts",
            hubspot_property("loyalty_no", "string", "text", json!([])),
        )
        .unwrap();
    w.endpoint(
        EndpointKind::Hubspot,
        settings(&[(Field::TaxId, "vat_number")], &["store_id", "loyalty_no"]),
    )
    .await;
    let check = mapping::check_online(&config(&w).await, w.secrets.clone()).await;
    assert!(
        check.problems.is_empty() && check.unchecked.is_none(),
        "{check:?}"
    );

    // The CRM's metadata is fetched (as `outpost pull` does): the extras join the form.
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let form = w.store.current_form().await.unwrap();
    let store_id = form
        .fields
        .iter()
        .find(|f| f.name == "store_id")
        .expect("store_id on the form");
    assert!(store_id.attribute);
    assert_eq!(store_id.kind, FieldKind::Picklist);
    assert_eq!(store_id.options.len(), 2);
    let loyalty = form.fields.iter().find(|f| f.name == "loyalty_no").unwrap();
    assert_eq!(loyalty.kind, FieldKind::Text);

    // A picklist extra is checked before queueing, like the CRM's own.
    let refused = w
        .store
        .create_customer(&new_customer("Ito", "DE1", &[("store_id", "paris")]))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("store_id"), "{refused}");

    let created = w
        .store
        .create_customer(&new_customer(
            "Ito",
            "DE123456789",
            &[("store_id", "berlin"), ("loyalty_no", "L-7")],
        ))
        .await
        .unwrap();
    let summary = flush_once(&w.store, w.secrets.clone()).await.unwrap();
    assert_eq!(summary.round.delivered, 1, "{summary:?}");
    let record = w
        .emu
        .records()
        .into_iter()
        .find(|r| r.key.as_deref() == Some(created.id.to_string().as_str()))
        .unwrap();
    let props = &record.record["properties"];
    assert_eq!(props["vat_number"], "DE123456789");
    assert_eq!(props["store_id"], "berlin");
    assert_eq!(props["loyalty_no"], "L-7");

    // Made in HubSpot with a VAT number: the pull brings it back as the tax id.
    let ids = w.emu.seed_hubspot(
        "contacts",
        vec![BTreeMap::from([
            ("lastname".to_string(), "Curie".to_string()),
            ("vat_number".to_string(), "FR987".to_string()),
        ])],
    );
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let pulled = local_by_crm_id(&w, &ids[0]).await;
    assert_eq!(pulled.fields.tax_id.as_deref(), Some("FR987"));
    let mine = w.store.customer(created.id).await.unwrap().unwrap();
    assert_eq!(
        mine.fields.tax_id.as_deref(),
        Some("DE123456789"),
        "unchanged by the pull"
    );
}

#[tokio::test]
async fn hubspot_a_property_that_disappears_is_reported_when_the_metadata_is_fetched() {
    let w = World::new(Config::unlimited()).await;
    w.emu
        .create_hubspot_property(
            "contacts",
            hubspot_property("vat_number", "string", "text", json!([])),
        )
        .unwrap();
    w.endpoint(
        EndpointKind::Hubspot,
        settings(&[(Field::TaxId, "vat_number")], &[]),
    )
    .await;
    let cfg = config(&w).await;
    let view = mapping::view(&w.store, &cfg).await.unwrap();
    assert!(view.checked_at.is_none(), "not fetched yet");
    assert_eq!(view.field_map["tax_id"], "vat_number");
    assert_eq!(
        view.field_map["email"], "email",
        "the defaults are shown too"
    );
    assert_eq!(
        test_connection(&cfg, w.secrets.clone()).await.outcome,
        TestOutcome::Ok
    );

    assert!(w.emu.remove_hubspot_property("contacts", "vat_number"));
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let view = mapping::view(&w.store, &cfg).await.unwrap();
    assert!(view.checked_at.is_some());
    assert_eq!(view.problems.len(), 1, "{view:?}");
    assert_eq!(view.problems[0].subject, "tax_id");
    assert_eq!(
        view.problems[0].message,
        "HubSpot has no contact property vat_number (tax_id is mapped to it)."
    );

    let result = test_connection(&cfg, w.secrets.clone()).await;
    assert_eq!(result.outcome, TestOutcome::Misconfigured);
    assert!(
        result
            .message
            .contains("HubSpot has no contact property vat_number"),
        "{}",
        result.message
    );
    assert_eq!(result.map_problems.len(), 1);

    // Saving such a map again is refused on the field `map`.
    let errors = mapping::require_fit(&cfg, w.secrets.clone())
        .await
        .unwrap_err();
    assert_eq!(errors.fields()[0].field, "map");
}

#[tokio::test]
async fn hubspot_unknown_wrongly_typed_and_unfillable_fields_are_refused_before_saving() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::Hubspot, EndpointSettings::default())
        .await;
    let mut cfg = config(&w).await;
    mapping::apply(
        &mut cfg,
        &[
            MapEdit::parse_map("tax_id=vat_nummer").unwrap(),
            MapEdit::parse_map("notes=createdate").unwrap(),
            MapEdit::parse_map("+hs_object_id").unwrap(),
        ],
    );
    cfg.validate().unwrap();
    let check = mapping::check_online(&cfg, w.secrets.clone()).await;
    let messages: Vec<&str> = check.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("has no contact property vat_nummer"));
    assert!(messages[1].contains("createdate holds dates and times"));
    assert!(messages[2].contains("hs_object_id holds numbers"));
    assert!(
        check
            .fields
            .unwrap()
            .fields
            .iter()
            .any(|f| f.name == "firstname"),
        "choices for Settings"
    );

    // Unreachable: saved unchecked, with a note saying so.
    w.emu.down().await;
    let note = mapping::require_fit(&cfg, w.secrets.clone()).await.unwrap();
    assert!(note.unwrap().contains("could not be checked"));
}

#[tokio::test]
async fn rest_a_mapped_custom_field_travels_both_ways_and_extras_join_the_form() {
    let w = World::new(Config::unlimited()).await;
    let custom =
        |name: &str, kind: &str, writable: bool, options: Vec<PicklistOption>| RestCustomField {
            name: name.into(),
            kind: kind.into(),
            label: None,
            writable,
            options,
        };
    w.emu
        .define_rest_field(custom("vat_number", "string", true, vec![]))
        .unwrap();
    w.emu
        .define_rest_field(custom("loyalty_no", "string", true, vec![]))
        .unwrap();
    w.emu
        .define_rest_field(custom(
            "store_id",
            "picklist",
            true,
            vec![PicklistOption {
                value: "berlin".into(),
                label: "Berlin".into(),
            }],
        ))
        .unwrap();
    w.emu
        .define_rest_field(custom("crm_score", "string", false, vec![]))
        .unwrap();
    w.endpoint(
        EndpointKind::GenericRest,
        settings(&[(Field::TaxId, "vat_number")], &["loyalty_no"]),
    )
    .await;

    // Read-only and unknown fields are named before saving.
    let mut bad = config(&w).await;
    mapping::apply(
        &mut bad,
        &[
            MapEdit::parse_map("notes=crm_score").unwrap(),
            MapEdit::parse_map("+shoe_size").unwrap(),
        ],
    );
    let check = mapping::check_online(&bad, w.secrets.clone()).await;
    let messages: Vec<&str> = check.problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "The CRM's field crm_score is read-only, so notes cannot be sent to it.",
            "The CRM has no field shoe_size (added to the form as +shoe_size)."
        ]
    );

    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let form = w.store.current_form().await.unwrap();
    assert!(form
        .fields
        .iter()
        .any(|f| f.name == "loyalty_no" && f.attribute && f.kind == FieldKind::Text));
    assert!(
        form.fields
            .iter()
            .any(|f| f.name == "store_id" && f.kind == FieldKind::Picklist),
        "the contract's picklists are on the form anyway"
    );

    let created = w
        .store
        .create_customer(&new_customer(
            "Lovelace",
            "GB123",
            &[("loyalty_no", "L-1"), ("store_id", "berlin")],
        ))
        .await
        .unwrap();
    flush_once(&w.store, w.secrets.clone()).await.unwrap();
    let record = w
        .emu
        .records()
        .into_iter()
        .find(|r| r.key.as_deref() == Some(created.id.to_string().as_str()))
        .unwrap()
        .record;
    assert_eq!(record["vat_number"], "GB123");
    assert!(
        record["tax_id"].is_null(),
        "sent to the mapped field instead"
    );
    assert_eq!(record["loyalty_no"], "L-1");
    assert_eq!(record["store_id"], "berlin");

    let ids = w.emu.seed_rest(vec![(
        "crm-made".into(),
        RestFields {
            last_name: Some("Hopper".into()),
            custom: [("vat_number".to_string(), "US42".to_string())].into(),
            ..RestFields::default()
        },
    )]);
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(
        local_by_crm_id(&w, &ids[0]).await.fields.tax_id.as_deref(),
        Some("US42")
    );

    // The field goes away in the CRM: the next fetch reports it.
    assert!(w.emu.remove_rest_field("vat_number"));
    pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    let view = mapping::view(&w.store, &config(&w).await).await.unwrap();
    assert_eq!(
        view.problems
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>(),
        ["The CRM has no field vat_number (tax_id is mapped to it)."]
    );
}
