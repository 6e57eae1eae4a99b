//! Writes the core's verdict on the values the browser tests type
//! (`ui/tests/core/inputs.json` → `answers.json`), so the tests' mock of the
//! IPC answers as the core does without a second implementation of its
//! rules (see `ui/tests/core/README.md`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::customer::phone::Region;
use crate::customer::{validation, Field, NewCustomer};
use crate::endpoint::{AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use crate::error::ValidationErrors;

type Inputs = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/tests/core")
}

/// One field's verdict out of a whole input's.
fn verdict(field: &str, result: Result<Option<String>, ValidationErrors>) -> Value {
    match result {
        Ok(value) => json!({ "value": value }),
        Err(e) => match e.for_field(field) {
            Some(message) => json!({ "error": message }),
            None => panic!("{field}: the core refused the input for another field: {e:?}"),
        },
    }
}

/// The default region the mock's core reads phone numbers in: a till in
/// Germany, like the browser tests' data (`ui/tests/core/README.md`).
fn region() -> Option<Region> {
    Region::parse("DE")
}

/// A customer with only `field` set (and a name when `field` gives none).
fn customer(field: Field, value: &str) -> Value {
    let mut input = NewCustomer::default().with(field, value);
    if !field.spec().names_customer {
        input = input.with(Field::LastName, "Test");
    }
    let result =
        validation::validate(&input, region()).map(|v| v.fields.get(field).map(str::to_owned));
    verdict(field.name(), result)
}

/// A valid HubSpot endpoint (every setting applies) with one setting changed.
fn endpoint(setting: &str, value: &str) -> Value {
    let mut config = EndpointConfig {
        name: "crm".into(),
        kind: EndpointKind::Hubspot,
        base_url: "https://crm.example.com".into(),
        connectivity: Connectivity::OnlineOffline,
        priority: 10,
        settings: EndpointSettings {
            auth: AuthMethod::Token,
            ..Default::default()
        },
    };
    let v = Some(value.to_owned());
    match setting {
        "name" => config.name = value.into(),
        "base_url" => config.base_url = value.into(),
        "key_property" => config.settings.key_property = v,
        "client_id" => config.settings.client_id = v,
        "pull_country" => config.settings.pull_country = v,
        "pull_owner" => config.settings.pull_owner = v,
        other => panic!("inputs.json: no endpoint text setting {other}"),
    }
    verdict(setting, config.validate().map(|()| Some(value.to_owned())))
}

#[test]
fn export_core_answers() {
    let Ok(text) = std::fs::read_to_string(dir().join("inputs.json")) else {
        return; // a packaged crate without the UI
    };
    let inputs: Inputs =
        serde_json::from_str(&text).expect("inputs.json: {group: {field: [values]}}");
    let mut answers = serde_json::Map::new();
    for (group, fields) in &inputs {
        let mut out = serde_json::Map::new();
        for (name, values) in fields {
            let answer = |v: &str| match group.as_str() {
                "customer" => {
                    let field = Field::from_name(name)
                        .unwrap_or_else(|| panic!("inputs.json: no customer field {name}"));
                    customer(field, v)
                }
                "endpoint" => endpoint(name, v),
                other => panic!("inputs.json: no group {other}"),
            };
            let by_value: serde_json::Map<String, Value> =
                values.iter().map(|v| (v.clone(), answer(v))).collect();
            out.insert(name.clone(), Value::Object(by_value));
        }
        answers.insert(group.clone(), Value::Object(out));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(answers)).unwrap();
    text.push('\n');
    let path = dir().join("answers.json");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(&path, text).unwrap();
    }
}
