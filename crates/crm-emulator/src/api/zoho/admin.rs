//! What the control API and the in-process handle change in the Zoho
//! emulation: budgets, data centre, refresh tokens, field definitions,
//! module permissions, page tokens and seeded records.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{self, FieldDef, Module, ZRecord};
use crate::state::Shared;

/// Everything `GET /zoho/settings` shows.
pub fn settings(shared: &Shared) -> Value {
    let mut v = shared.zoho().settings();
    let store = shared.store();
    v["modules"] = Module::ALL
        .into_iter()
        .map(|m| {
            let custom: Vec<Value> = store
                .zoho
                .fields(m)
                .iter()
                .filter(|f| f.custom)
                .map(|f| json!({"api_name": f.api_name, "unique": f.unique, "data_type": f.data_type, "length": f.length}))
                .collect();
            (
                m.name().to_string(),
                json!({"creatable": store.zoho.modules[&m].creatable, "custom_fields": custom}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    v
}

/// The switches `POST /zoho/settings` takes (all optional).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettingsChange {
    pub data_centre: Option<String>,
    /// `page` reaches only the first 2,000 records.
    pub page_limit: Option<bool>,
    /// 400 (default) or 429: the status of `LIMIT_EXCEEDED` for credits.
    pub credit_limit_status: Option<u16>,
    /// The 10-per-10-minutes minting limit.
    pub mint_limit: Option<bool>,
    pub request_cost_ms: Option<u64>,
    /// Lifetime (`expires_in`) of access tokens minted from now on.
    pub token_lifetime_s: Option<u64>,
}

pub fn change_settings(shared: &Shared, c: SettingsChange) -> Result<(), String> {
    if c.credit_limit_status.is_some_and(|s| s != 400 && s != 429) {
        return Err("credit_limit_status must be 400 or 429".into());
    }
    if c.data_centre.as_deref().is_some_and(str::is_empty) {
        return Err("data_centre must not be empty".into());
    }
    let mut rt = shared.zoho();
    if let Some(dc) = c.data_centre {
        rt.data_centre = dc;
    }
    if let Some(p) = c.page_limit {
        rt.page_limit = p;
    }
    if let Some(s) = c.credit_limit_status {
        rt.credit_limit_status = s;
    }
    if let Some(m) = c.mint_limit {
        rt.mint_limit = m;
    }
    if let Some(s) = c.token_lifetime_s {
        rt.token_lifetime = Duration::from_secs(s);
    }
    if let Some(ms) = c.request_cost_ms {
        rt.request_cost = Duration::from_millis(ms);
    }
    Ok(())
}

/// Sets the credit budget (0: off); `used` sets the credits already spent.
pub fn set_credits(shared: &Shared, max: u64, used: Option<u64>) {
    shared.zoho().set_credits(max, used);
}

pub fn set_concurrency(shared: &Shared, max: u32) {
    shared.zoho().concurrency = max;
}

/// A new refresh token of `data_centre` (default: the emulator's own).
pub fn issue_refresh_token(shared: &Shared, data_centre: Option<&str>) -> String {
    let mut rt = shared.zoho();
    let dc = data_centre.map_or_else(|| rt.data_centre.clone(), str::to_string);
    let token = format!(
        "1000.{}.{}",
        dc.replace('.', ""),
        uuid::Uuid::new_v4().simple()
    );
    rt.refresh.insert(
        token.clone(),
        super::RefreshState {
            data_centre: dc,
            ..Default::default()
        },
    );
    token
}

/// A grant code for `grant_type=authorization_code` (one use).
pub fn issue_grant_code(shared: &Shared) -> String {
    let code = format!("1000.{}", uuid::Uuid::new_v4().simple());
    shared.zoho().grant_codes.insert(code.clone());
    code
}

pub fn expire_page_tokens(shared: &Shared) -> usize {
    let mut rt = shared.zoho();
    rt.page_tokens
        .values_mut()
        .map(|c| c.expired = true)
        .count()
}

fn module(name: &str) -> Result<Module, String> {
    Module::from_name(name).ok_or_else(|| format!("unknown Zoho module {name:?}"))
}

const FIELD_TYPES: [&str; 6] = ["text", "email", "phone", "textarea", "picklist", "boolean"];

/// Adds a custom field (an admin in Setup).
pub fn define_field(
    shared: &Shared,
    module_name: &str,
    api_name: &str,
    data_type: &str,
    length: u32,
    unique: bool,
) -> Result<(), String> {
    let m = module(module_name)?;
    if api_name.is_empty()
        || !api_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!("invalid api name {api_name:?}"));
    }
    if !FIELD_TYPES.contains(&data_type) {
        return Err(format!("data_type must be one of {FIELD_TYPES:?}"));
    }
    let mut store = shared.store();
    if store.zoho.field(m, api_name).is_some() {
        return Err(format!("{} already has a field {api_name:?}", m.name()));
    }
    let id = store.zoho.fields(m).iter().map(|f| f.id).max().unwrap_or(0) + 1;
    store
        .zoho
        .fields
        .get_mut(&m)
        .expect("every module")
        .push(FieldDef::custom(api_name, data_type, length, unique, id));
    store.persist_zoho_module(m);
    Ok(())
}

/// Removes a custom field; `false`: no such custom field.
pub fn remove_field(shared: &Shared, module_name: &str, api_name: &str) -> Result<bool, String> {
    let m = module(module_name)?;
    let mut store = shared.store();
    let fields = store.zoho.fields.get_mut(&m).expect("every module");
    let before = fields.len();
    fields.retain(|f| !(f.custom && f.api_name == api_name));
    let removed = fields.len() != before;
    store.persist_zoho_module(m);
    Ok(removed)
}

/// Flips a field's "Do not allow duplicate values" and picklist restriction.
pub fn set_field_flags(
    shared: &Shared,
    module_name: &str,
    api_name: &str,
    unique: Option<bool>,
    restricted: Option<bool>,
) -> Result<Value, String> {
    let m = module(module_name)?;
    let mut store = shared.store();
    let f = store
        .zoho
        .field_mut(m, api_name)
        .ok_or_else(|| format!("{} has no field {api_name:?}", m.name()))?;
    if let Some(u) = unique {
        f.unique = u;
    }
    if let Some(r) = restricted {
        f.restricted = r;
    }
    let v = json!({"module": m.name(), "api_name": f.api_name, "unique": f.unique, "restricted": f.restricted});
    store.persist_zoho_module(m);
    Ok(v)
}

/// The profile may (or may not) create, edit and delete records of a module.
pub fn set_creatable(shared: &Shared, module_name: &str, creatable: bool) -> Result<(), String> {
    let m = module(module_name)?;
    let mut store = shared.store();
    store
        .zoho
        .modules
        .get_mut(&m)
        .expect("every module")
        .creatable = creatable;
    store.persist_zoho_module(m);
    Ok(())
}

/// Stores records directly (no HTTP, no validation; fields by api name,
/// strings); returns their ids.
pub fn seed(
    shared: &Shared,
    module_name: &str,
    records: Vec<BTreeMap<String, String>>,
) -> Result<Vec<String>, String> {
    let m = module(module_name)?;
    let mut store = shared.store();
    let at = model::now();
    let mut ids = Vec::with_capacity(records.len());
    for values in records {
        let id = store.zoho.next_id();
        let values = values
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        store.zoho.put(ZRecord {
            id,
            module: m,
            values,
            created: at,
            modified: at,
        });
        super::records::persist(&store, id);
        ids.push(id.to_string());
    }
    Ok(ids)
}
