//! Changes a person makes in the CRM itself, not through Outpost: the
//! control API's edit and delete (`POST /records/edit`, `/records/delete`)
//! and the race fault (a field changed between Outpost's read and its
//! write). Each change bumps the record's modification time and version as
//! the CRM's own UI would.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::hubspot::model::ObjectType;
use crate::api::hubspot::objects::{apply_update, now, persist};
use crate::api::rest::model::{self as rest_model, CustomerFields};
use crate::state::Api;
use crate::store::{Store, REST_KIND};

/// Which record a person changes. HubSpot records are found by a property
/// (`hs_object_id`, `email`, or the unique key property; default
/// `outpost_key`), REST records by their key.
#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub api: Api,
    /// The REST key, or the HubSpot property's value.
    pub key: String,
    /// HubSpot only: the property `key` is matched against.
    #[serde(default)]
    pub property: Option<String>,
    /// HubSpot only: `contacts` (default) or `companies`.
    #[serde(default)]
    pub object: Option<String>,
}

impl Target {
    /// A REST record by its key.
    pub fn rest(key: impl Into<String>) -> Self {
        Target {
            api: Api::Rest,
            key: key.into(),
            property: None,
            object: None,
        }
    }

    /// A HubSpot contact by its `outpost_key`.
    pub fn hubspot(key: impl Into<String>) -> Self {
        Target {
            api: Api::Hubspot,
            ..Target::rest(key)
        }
    }
}

/// The default property a HubSpot target is found by: Outpost's key.
const DEFAULT_HUBSPOT_PROPERTY: &str = "outpost_key";

fn object_type(t: &Target) -> Result<ObjectType, String> {
    let object = t.object.as_deref().unwrap_or("contacts");
    ObjectType::from_path(object).ok_or_else(|| format!("unknown object type {object:?}"))
}

fn hubspot_id(store: &Store, t: &Target, ty: ObjectType) -> Option<u64> {
    let property = t.property.as_deref().unwrap_or(DEFAULT_HUBSPOT_PROPERTY);
    store.hubspot.table(ty).find_by(property, &t.key)
}

/// Sets `fields` (HubSpot property names, or the REST contract's field
/// names; `null` clears) on the target. `Ok(false)`: no such record.
pub fn edit(store: &mut Store, t: &Target, fields: &Map<String, Value>) -> Result<bool, String> {
    match t.api {
        Api::Hubspot => {
            let ty = object_type(t)?;
            let Some(id) = hubspot_id(store, t, ty) else {
                return Ok(false);
            };
            let mut props = BTreeMap::new();
            for (k, v) in fields {
                let text = match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                props.insert(k.clone(), text);
            }
            edit_hubspot(store, ty, id, props);
            Ok(true)
        }
        Api::Rest => edit_rest(store, &t.key, fields),
    }
}

/// Deletes the target as a person in the CRM would. `false`: no such record.
pub fn delete(store: &mut Store, t: &Target) -> Result<bool, String> {
    match t.api {
        Api::Hubspot => {
            let ty = object_type(t)?;
            let Some(id) = hubspot_id(store, t, ty) else {
                return Ok(false);
            };
            Ok(crate::api::hubspot::objects::archive_object(store, ty, id))
        }
        Api::Rest => Ok(store.delete_rest_customer(&t.key)),
    }
}

pub(crate) fn edit_hubspot(
    store: &mut Store,
    ty: ObjectType,
    id: u64,
    props: BTreeMap<String, String>,
) {
    let changed = store
        .hubspot
        .table_mut(ty)
        .update(id, |obj| apply_update(obj, ty, props, now()))
        .unwrap_or(false);
    if changed {
        persist(store, ty, id);
    }
}

pub(crate) fn edit_rest(
    store: &mut Store,
    key: &str,
    fields: &Map<String, Value>,
) -> Result<bool, String> {
    let Some(current) = store.rest.customers.get(key) else {
        return Ok(false);
    };
    let mut merged = match serde_json::to_value(&current.fields) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("fields serialize to an object"),
    };
    merged.extend(fields.clone());
    let bytes = serde_json::to_vec(&Value::Object(merged)).expect("json serializes");
    let parsed = CustomerFields::parse(&bytes, &store.rest.custom_fields)
        .map_err(|e| format!("invalid REST fields: {}", e.message))?;
    let c = store.rest.customers.get_mut(key).expect("looked up above");
    if c.fields != parsed {
        c.fields = parsed;
        c.updated_at = rest_model::now();
        c.version += 1;
        let customer = c.clone();
        store.put(REST_KIND, key, &customer);
    }
    Ok(true)
}
