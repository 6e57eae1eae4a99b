//! Fields an admin adds to the CRM: custom REST fields (control API
//! `/rest/fields`) and HubSpot custom properties (control API
//! `/hubspot/properties/create`), and the field metadata both APIs list.

mod common;

use common::{client, json, req, start};
use crm_emulator::Config;
use reqwest::Method;
use serde_json::{json, Value};

async fn control(emu: &crm_emulator::Emulator, path: &str, body: Value) -> (u16, Value) {
    json(
        client()
            .post(format!("{}{path}", emu.control_url()))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn field<'a>(meta: &'a Value, name: &str) -> Option<&'a Value> {
    meta["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
}

#[tokio::test]
async fn rest_custom_fields_are_refused_until_defined_then_stored_and_listed() {
    let emu = start().await;
    let c = client();
    let put = |body: Value| {
        req(&c, &emu, Method::PUT, "/customers/k-1")
            .json(&body)
            .send()
    };
    let (status, err) = json(
        put(json!({"last_name": "Ito", "vat_number": "DE1"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("unknown_field")),
        "default: unknown"
    );

    let (status, _) = control(
        &emu,
        "/rest/fields",
        json!({"name": "vat_number", "type": "string", "label": "VAT number"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = control(
        &emu,
        "/rest/fields",
        json!({"name": "store_id", "type": "picklist",
               "options": [{"value": "berlin", "label": "Berlin"}, {"value": "hamburg", "label": "Hamburg"}]}),
    )
    .await;
    assert_eq!(status, 200);
    emu.define_rest_field(crm_emulator::RestCustomField {
        name: "loyalty_score".into(),
        kind: "number".into(),
        label: None,
        writable: false,
        options: vec![],
    })
    .unwrap();

    let (status, rec) = json(
        put(json!({"last_name": "Ito", "vat_number": "DE1", "store_id": "berlin"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(rec["vat_number"], "DE1");
    let (_, got) = json(
        req(&c, &emu, Method::GET, "/customers/k-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (got["vat_number"].as_str(), got["store_id"].as_str()),
        (Some("DE1"), Some("berlin"))
    );

    let (status, err) = json(
        put(json!({"last_name": "Ito", "store_id": "paris"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str(), err["field"].as_str()),
        (400, Some("invalid_option"), Some("store_id"))
    );
    let (status, err) = json(
        put(json!({"last_name": "Ito", "loyalty_score": "3"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, err["code"].as_str()), (400, Some("read_only")));

    let (_, meta) = json(
        req(&c, &emu, Method::GET, "/metadata")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(field(&meta, "email").unwrap()["writable"], true);
    let vat = field(&meta, "vat_number").unwrap();
    assert_eq!(
        (vat["type"].as_str(), vat["label"].as_str()),
        (Some("string"), Some("VAT number"))
    );
    assert_eq!(field(&meta, "loyalty_score").unwrap()["writable"], false);
    assert_eq!(meta["picklists"]["store_id"][1]["value"], "hamburg");

    // Bad definitions are refused; removing one refuses the field again.
    let (status, _) = control(&emu, "/rest/fields", json!({"name": "email"})).await;
    assert_eq!(status, 400);
    let (status, _) = control(&emu, "/rest/fields", json!({"name": "x", "type": "money"})).await;
    assert_eq!(status, 400);
    let (status, _) = control(&emu, "/rest/fields/remove", json!({"name": "vat_number"})).await;
    assert_eq!(status, 200);
    let (status, _) = json(
        put(json!({"last_name": "Ito", "vat_number": "DE2"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(field(
        &json(
            req(&c, &emu, Method::GET, "/metadata")
                .send()
                .await
                .unwrap()
        )
        .await
        .1,
        "vat_number"
    )
    .is_none());
    let (_, list) = json(
        client()
            .get(format!("{}/rest/fields", emu.control_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["fields"].as_array().unwrap().len(), 2);

    // A reset forgets them.
    emu.reset().await;
    assert!(emu.rest_fields().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn rest_custom_fields_survive_a_restart_with_a_state_file() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = Config {
        state: Some(dir.path().join("state.db")),
        ..Config::unlimited()
    };
    let emu = crm_emulator::Emulator::start(config.clone()).await.unwrap();
    let (status, _) = control(&emu, "/rest/fields", json!({"name": "vat_number"})).await;
    assert_eq!(status, 200);
    let c = client();
    let (status, _) = json(
        req(&c, &emu, Method::PUT, "/customers/k-9")
            .json(&json!({"company": "ACME", "vat_number": "FR9"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    emu.shutdown().await;

    let emu = crm_emulator::Emulator::start(config).await.unwrap();
    assert_eq!(emu.rest_fields()[0].name, "vat_number");
    let (_, got) = json(
        req(&c, &emu, Method::GET, "/customers/k-9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["vat_number"], "FR9");
    emu.shutdown().await;
}

#[tokio::test]
async fn hubspot_properties_say_whether_values_are_writable_and_can_be_created_by_control() {
    let emu = start().await;
    let c = client();
    let (status, created) = control(
        &emu,
        "/hubspot/properties/create",
        json!({"object": "contacts", "name": "vat_number", "label": "VAT number",
               "type": "string", "fieldType": "text", "groupName": "contactinformation"}),
    )
    .await;
    assert_eq!(
        (status, created["created"].as_str()),
        (200, Some("vat_number"))
    );
    let (status, _) = control(
        &emu,
        "/hubspot/properties/create",
        json!({"name": "vat_number", "label": "again", "type": "string", "fieldType": "text", "groupName": "x"}),
    )
    .await;
    assert_eq!(status, 400, "it exists");
    emu.create_hubspot_property(
        "contacts",
        json!({"name": "store_id", "label": "Store", "type": "enumeration", "fieldType": "select",
               "groupName": "contactinformation", "options": [{"label": "Berlin", "value": "berlin"}]}),
    )
    .unwrap();

    let (_, list) = json(
        req(&c, &emu, Method::GET, "/crm/v3/properties/contacts")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let prop = |name: &str| {
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        prop("vat_number")["modificationMetadata"]["readOnlyValue"],
        false
    );
    assert_eq!(
        prop("createdate")["modificationMetadata"]["readOnlyValue"],
        true
    );
    assert_eq!(
        prop("email")["modificationMetadata"]["readOnlyDefinition"],
        true
    );
    assert_eq!(prop("store_id")["options"][0]["value"], "berlin");

    // A contact takes the new property.
    let (status, _) = json(
        req(&c, &emu, Method::POST, "/crm/v3/objects/contacts")
            .json(&json!({"properties": {"lastname": "Ito", "vat_number": "DE1"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    emu.shutdown().await;
}
