//! The values, not only the types, that the UI needs from the core: the
//! customer fields with their labels and limits, the messages of the rules
//! the form hints at, the country list, each kind of endpoint with its
//! defaults and sign-in methods, the secret rule, the settings' ranges, the regions phone
//! numbers can be read in. A
//! test writes them to `ui/src/bindings/model.ts` next to ts-rs's types, so
//! the UI (and the browser tests' mock of the IPC) never holds a copy of a
//! rule. What needs the core's logic (email syntax, phone parsing) the UI
//! asks the core for (`check_customer`).

use serde_json::{json, Map, Value};

use crate::admin::{self, AdminError};
use crate::app_settings::REGION_INVALID;
use crate::crm::form::messages as form_messages;
use crate::customer::phone::{self, Region};
use crate::customer::validation::{limits, messages};
use crate::customer::{country, Field};
use crate::endpoint::{self, kinds, EndpointKind};
use crate::status::Interception;

/// The TypeScript module, deterministic so the CI's staleness check holds.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from outpost-core by `cargo test` (ui_model.rs): do not edit.\n\n\
         import type { AuthSpec } from './AuthSpec';\n\
         import type { FieldSpec } from './FieldSpec';\n\
         import type { Interception } from './Interception';\n\
         import type { KindSpec } from './KindSpec';\n\
         import type { Range } from './Range';\n\
         import type { SecretRule } from './SecretRule';\n\
         import type { SecretSpec } from './SecretSpec';\n\n",
    );
    let mut constant = |doc: &str, name: &str, ty: &str, value: Value| {
        let value = serde_json::to_string_pretty(&value).expect("JSON values serialize");
        out.push_str(&format!(
            "/** {doc} */\nexport const {name}: {ty} = {value};\n\n"
        ));
    };
    let fields: Vec<_> = Field::ALL.iter().map(|f| f.spec()).collect();
    constant(
        "Every customer field, in form order.",
        "FIELDS",
        "readonly FieldSpec[]",
        json!(fields),
    );
    let countries: Vec<_> = country::all()
        .into_iter()
        .map(|(code, name)| json!({"code": code, "name": name}))
        .collect();
    constant(
        "ISO 3166-1 alpha-2 codes with English names, by code.",
        "COUNTRIES",
        "readonly { readonly code: string; readonly name: string }[]",
        json!(countries),
    );
    let (ty, value) = record(
        "number",
        [
            ("phone_min_digits", json!(limits::PHONE_MIN_DIGITS)),
            ("phone_max_digits", json!(limits::PHONE_MAX_DIGITS)),
            ("attributes", json!(limits::ATTRIBUTES)),
            ("attribute_value", json!(limits::ATTRIBUTE_VALUE)),
        ],
    );
    constant(
        "Bounds that are not one field's length.",
        "LIMITS",
        &ty,
        value,
    );
    let (ty, value) = record(
        "string",
        [
            ("name_required", json!(messages::NAME_REQUIRED)),
            ("too_long", json!(messages::TOO_LONG)),
            ("control_characters", json!(messages::CONTROL_CHARACTERS)),
            ("not_a_country", json!(messages::NOT_A_COUNTRY)),
            ("too_many_attributes", json!(messages::TOO_MANY_ATTRIBUTES)),
            ("form_required", json!(form_messages::REQUIRED)),
            ("form_not_an_option", json!(form_messages::NOT_AN_OPTION)),
            ("form_unknown_field", json!(form_messages::UNKNOWN_FIELD)),
            ("phone_needs_region", json!(phone::NEEDS_REGION)),
            ("default_region_invalid", json!(REGION_INVALID)),
        ],
    );
    constant(
        "The customer rules' words; fill `{...}` with `fill` (ui/src/lib/model.ts).",
        "MESSAGES",
        &ty,
        value,
    );
    let words: Map<String, Value> = Interception::ALL
        .iter()
        .map(|&i| {
            let key = serde_json::to_value(i).expect("an interception serializes");
            (
                key.as_str().expect("a plain name").to_owned(),
                json!(i.words()),
            )
        })
        .collect();
    constant(
        "What the status bar and the Sync screen say while the CRM's answers are intercepted.",
        "CONNECTION_MESSAGES",
        "Readonly<Record<Interception, string>>",
        Value::Object(words),
    );
    constant(
        "What a failed save says when the local disk is full (the create form shows the core's words).",
        "STORAGE_MESSAGES",
        "{ readonly disk_full: string }",
        json!({ "disk_full": crate::error::Error::DiskFull.to_string() }),
    );
    constant(
        "Each kind of endpoint with its connector's defaults and sign-in methods.",
        "ENDPOINT_KINDS",
        "readonly KindSpec[]",
        json!(kinds::kinds()),
    );
    constant(
        "Zoho's data centres, the default first: the Settings form offers them by region.",
        "ZOHO_DATA_CENTRES",
        "ReadonlyArray<{ readonly region: string; readonly accounts: string; readonly api_domain: string; readonly token_url: string }>",
        Value::Array(
            crate::crm::zoho::DATA_CENTRES
                .iter()
                .map(|d| {
                    let mut v = json!(d);
                    v["token_url"] = json!(d.token_url());
                    v
                })
                .collect(),
        ),
    );
    constant(
        "Each sign-in method with the secrets it keeps in the keyring.",
        "AUTH_METHODS",
        "readonly AuthSpec[]",
        json!(kinds::auth_methods()),
    );
    constant(
        "Every secret an endpoint may keep.",
        "SECRETS",
        "readonly SecretSpec[]",
        json!(kinds::secret_specs()),
    );
    constant(
        "What every secret must be.",
        "SECRET_RULE",
        "SecretRule",
        json!(kinds::secret_rule()),
    );
    let phone_regions: Vec<_> = Region::all()
        .into_iter()
        .map(|r| json!({"code": r.code(), "calling_code": r.calling_code()}))
        .collect();
    constant(
        "The regions phone numbers can be read in, with their calling codes.",
        "PHONE_REGIONS",
        "readonly { readonly code: string; readonly calling_code: number }[]",
        json!(phone_regions),
    );
    let l = |r: crate::template::Range| json!(r);
    let (ty, value) = record(
        "Range",
        [
            ("priority", l(endpoint::limits::PRIORITY)),
            ("batch_size", l(endpoint::limits::BATCH_SIZE)),
            ("rate_limit", l(endpoint::limits::RATE_LIMIT)),
            ("rate_window_secs", l(endpoint::limits::RATE_WINDOW_SECS)),
            (
                "pull_modified_within_days",
                l(endpoint::limits::PULL_MODIFIED_WITHIN_DAYS),
            ),
            ("key_shop", l(endpoint::limits::KEY_SHOP)),
            ("concurrency", l(endpoint::limits::CONCURRENCY)),
        ],
    );
    constant(
        "The ranges of the endpoint's whole-number settings.",
        "ENDPOINT_LIMITS",
        &ty,
        value,
    );
    let (ty, value) = record("number", [("priority", json!(endpoint::DEFAULT_PRIORITY))]);
    constant(
        "A new endpoint's settings when none are given.",
        "ENDPOINT_DEFAULTS",
        &ty,
        value,
    );
    let (ty, value) = record(
        "string",
        [
            ("url_rule", json!(endpoint::URL_RULE)),
            ("client_id_required", json!(endpoint::CLIENT_ID_REQUIRED)),
        ],
    );
    constant(
        "The endpoint settings' words.",
        "ENDPOINT_MESSAGES",
        &ty,
        value,
    );
    let (ty, value) = object([
        ("passphrase_min_chars", "number", json!(admin::MIN_LENGTH)),
        ("passphrase_max_chars", "number", json!(admin::MAX_LENGTH)),
        ("idle_lock_secs", "number", json!(admin::IDLE_LOCK_SECS)),
        ("weak", "string", json!(AdminError::Weak.to_string())),
        ("wrong", "string", json!(AdminError::Wrong.to_string())),
    ]);
    constant(
        "The admin passphrase's bounds, the settings' idle lock, and their words.",
        "ADMIN",
        &ty,
        value,
    );
    // Each kind's own field map, shown as the default of each override.
    let field_maps: Map<String, Value> = EndpointKind::ALL
        .iter()
        .map(|&kind| {
            let map = crate::crm::field_map::FieldMap::new(crate::crm::default_map(kind));
            (kind.as_str().to_owned(), json!(map.as_names()))
        })
        .collect();
    constant(
        "Each kind of endpoint's own field map (Outpost field to CRM field), before an admin's overrides.",
        "DEFAULT_FIELD_MAPS",
        "Readonly<Record<string, Readonly<Record<string, string>>>>",
        json!(field_maps),
    );
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// A JSON object and its TypeScript type, a record of exactly these keys
/// (so a key the UI reads and the core drops fails the type check).
fn record<const N: usize>(value_type: &str, entries: [(&str, Value); N]) -> (String, Value) {
    object(entries.map(|(k, v)| (k, value_type, v)))
}

/// Like [`record`], with a type per key.
fn object<const N: usize>(entries: [(&str, &str, Value); N]) -> (String, Value) {
    let fields: Vec<String> = entries
        .iter()
        .map(|(k, ty, _)| format!("readonly {k}: {ty}"))
        .collect();
    let ty = format!("{{ {} }}", fields.join("; "));
    let map: Map<String, Value> = entries
        .into_iter()
        .map(|(k, _, v)| (k.to_owned(), v))
        .collect();
    (ty, Value::Object(map))
}

#[cfg(test)]
mod tests {
    /// Writes the module where ts-rs writes the bindings (`cargo test`
    /// regenerates both; CI fails when the committed copy is stale).
    #[test]
    fn export_ui_model() {
        let Ok(dir) = std::env::var("TS_RS_EXPORT_DIR") else {
            return;
        };
        let path = std::path::Path::new(&dir).join("model.ts");
        std::fs::create_dir_all(&dir).unwrap();
        let text = super::typescript();
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap();
        }
    }
}

#[cfg(test)]
mod answers;
