//! Changes a person makes in the CRM itself, not through Outpost: the
//! control API's edit and delete (`POST /records/edit`, `/records/delete`)
//! and the race fault (a field changed between Outpost's read and its
//! write). Each change bumps the record's modification time and version as
//! the CRM's own UI would.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::dynamics::model as dv_model;
use crate::api::hubspot::model::ObjectType;
use crate::api::hubspot::objects::{apply_update, now, persist};
use crate::api::rest::model::{self as rest_model, CustomerFields};
use crate::api::salesforce::model::{self as sf_model, SObject};
use crate::api::zoho::model as zoho_model;
use crate::state::Api;
use crate::store::{Store, REST_KIND};

/// Which record a person changes. HubSpot records are found by a property
/// (`hs_object_id`, `email`, or the unique key property; default
/// `outpost_key`), REST records by their key, Salesforce records by a field
/// (default `Outpost_Key__c`) of `object` `Contact` (default) or `Lead`,
/// Zoho records by a field (default `Outpost_Key`; `id`, `Email`) of
/// `object` `Contacts` (default) or `Leads`.
#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub api: Api,
    /// The REST key, or the HubSpot property's value.
    pub key: String,
    /// HubSpot and Salesforce: the property (field) `key` is matched against.
    #[serde(default)]
    pub property: Option<String>,
    /// HubSpot: `contacts` (default) or `companies`; Salesforce: `Contact` (default) or `Lead`.
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

    /// A Salesforce Contact by its `Outpost_Key__c`.
    pub fn salesforce(key: impl Into<String>) -> Self {
        Target {
            api: Api::Salesforce,
            ..Target::rest(key)
        }
    }

    /// A Salesforce Lead by its `Outpost_Key__c`.
    pub fn salesforce_lead(key: impl Into<String>) -> Self {
        Target {
            object: Some("Lead".into()),
            ..Target::salesforce(key)
        }
    }

    /// Finds the record by another field instead (`Id`, `Email`, ...).
    pub fn by(mut self, property: impl Into<String>) -> Self {
        self.property = Some(property.into());
        self
    }

    /// A Dataverse contact by its `outpost_key` (`.by("contactid")` or
    /// `.by("emailaddress1")` to find it otherwise).
    pub fn dynamics(key: impl Into<String>) -> Self {
        Target {
            api: Api::Dynamics,
            ..Target::rest(key)
        }
    }

    /// A Zoho Contact by its `Outpost_Key` (`.by("id")` or `.by("Email")`
    /// to find it otherwise).
    pub fn zoho(key: impl Into<String>) -> Self {
        Target {
            api: Api::Zoho,
            ..Target::rest(key)
        }
    }

    /// A Zoho Lead by its `Outpost_Key`.
    pub fn zoho_lead(key: impl Into<String>) -> Self {
        Target {
            object: Some("Leads".into()),
            ..Target::zoho(key)
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
        Api::Salesforce => {
            let Some(id) = salesforce_id(store, t)? else {
                return Ok(false);
            };
            edit_salesforce(store, &id, fields)?;
            Ok(true)
        }
        Api::Dynamics => {
            let Some(id) = dynamics_id(store, t)? else {
                return Ok(false);
            };
            edit_dynamics(store, &id, fields)?;
            Ok(true)
        }
        Api::Zoho => {
            let Some((m, id)) = zoho_id(store, t)? else {
                return Ok(false);
            };
            edit_zoho(store, m, id, fields)?;
            Ok(true)
        }
    }
}

/// The live Zoho record a target names: `object` `Contacts` (default) or
/// `Leads`, matched on `property` (default `Outpost_Key`; `id`, `Email`, any field).
fn zoho_id(store: &mut Store, t: &Target) -> Result<Option<(zoho_model::Module, u64)>, String> {
    let name = t.object.as_deref().unwrap_or("Contacts");
    let m = zoho_model::Module::from_name(name)
        .ok_or_else(|| format!("unknown Zoho module {name:?}"))?;
    let property = t.property.as_deref().unwrap_or(zoho_model::KEY_FIELD);
    if property != "id" && store.zoho.field(m, property).is_none() {
        return Err(format!("{} has no field {property:?}", m.name()));
    }
    Ok(store
        .zoho
        .find_by(m, property, &t.key)
        .into_iter()
        .next()
        .map(|id| (m, id)))
}

/// A person's edit of a Zoho record: fields by api name, `null` clears;
/// types and lengths are checked, mandatory and unique fields are not.
/// `Modified_Time` becomes now (second precision; it does not move when
/// the edit falls in the same second, as in Zoho).
pub(crate) fn edit_zoho(
    store: &mut Store,
    m: zoho_model::Module,
    id: u64,
    fields: &Map<String, Value>,
) -> Result<(), String> {
    let changes = zoho_model::check_values(store.zoho.fields(m), fields, 0)
        .map_err(|e| format!("{}: {}", e.code, e.details))?;
    store
        .zoho
        .modify(id, |r| {
            zoho_model::apply(&mut r.values, changes);
            r.modified = zoho_model::now();
        })
        .ok_or("no such record")?;
    crate::api::zoho::records::persist(store, id);
    Ok(())
}

/// The Dataverse contact a target names, by `property` (default
/// `outpost_key`; `contactid`, or any text column).
fn dynamics_id(store: &Store, t: &Target) -> Result<Option<String>, String> {
    let property = t.property.as_deref().unwrap_or(dv_model::KEY_COLUMN);
    let data = &store.dynamics;
    if property == "contactid" {
        let id = dv_model::parse_guid(&t.key);
        return Ok(id.filter(|id| data.contacts.contains_key(id)));
    }
    if dv_model::column(property).is_none() {
        return Err(format!("contact has no column {property:?}"));
    }
    let mut ids: Vec<&String> = data
        .contacts
        .values()
        .filter(|c| c.values.get(property).and_then(Value::as_str) == Some(t.key.as_str()))
        .map(|c| &c.id)
        .collect();
    ids.sort();
    Ok(ids.first().map(|s| s.to_string()))
}

/// A person's edit of a Dataverse contact: columns by logical name, `null`
/// clears; types, lengths and options are checked, required levels are not.
/// `modifiedon` moves by at least a second and the row version goes up.
pub(crate) fn edit_dynamics(
    store: &mut Store,
    id: &str,
    fields: &Map<String, Value>,
) -> Result<(), String> {
    let (changes, _) = dv_model::parse_body(fields).map_err(|e| e.message)?;
    let data = &mut store.dynamics;
    let mut row = data.contacts[id].clone();
    dv_model::apply(&mut row.values, changes);
    row.version = data.next_version();
    row.modified = dv_model::now().max(row.modified + chrono::Duration::seconds(1));
    data.put(row);
    crate::api::dynamics::records::persist(store, id);
    Ok(())
}

/// The live Salesforce record a target names: `object` `Contact` (default)
/// or `Lead`, matched on `property` (default `Outpost_Key__c`; `Id`, `Email`...).
fn salesforce_id(store: &mut Store, t: &Target) -> Result<Option<String>, String> {
    let name = t.object.as_deref().unwrap_or("Contact");
    let o =
        SObject::from_name(name).ok_or_else(|| format!("unknown Salesforce object {name:?}"))?;
    let data = &mut store.salesforce;
    let property = t.property.as_deref().unwrap_or(sf_model::KEY_FIELD);
    let field = data
        .def(o)
        .field(property)
        .cloned()
        .ok_or_else(|| format!("{} has no field {property:?}", o.name()))?;
    if field.name == "Id" {
        return Ok(data.live(o, &t.key).map(|r| r.id.clone()));
    }
    Ok(data.find_by(o, &field, &t.key).into_iter().next())
}

/// A person's edit: fields by Salesforce name, `null` clears; no validation
/// beyond the field existing. The stamps move by at least a second (they
/// have second precision), so an edit is always visible to
/// `If-Unmodified-Since` and to a `SystemModstamp` cursor.
pub(crate) fn edit_salesforce(
    store: &mut Store,
    id: &str,
    fields: &Map<String, Value>,
) -> Result<(), String> {
    let data = &mut store.salesforce;
    let o = data.get(id).ok_or("no such record")?.object;
    let mut changes = Vec::new();
    for (k, v) in fields {
        let f = data
            .def(o)
            .field(k)
            .filter(|f| !f.is_system())
            .ok_or_else(|| format!("{} has no writable field {k:?}", o.name()))?;
        let text = match v {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        changes.push((f.name.clone(), text));
    }
    data.modify(id, |r| {
        for (k, v) in changes {
            match v {
                Some(v) => r.values.insert(k, v),
                None => r.values.remove(&k),
            };
        }
        r.modified = sf_model::now().max(r.modified + chrono::Duration::seconds(1));
    });
    crate::api::salesforce::objects::persist(store, id);
    Ok(())
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
        Api::Salesforce => {
            let Some(id) = salesforce_id(store, t)? else {
                return Ok(false);
            };
            let r = store.salesforce.get(&id).expect("found above");
            let o = r.object;
            let at = sf_model::now().max(r.modified + chrono::Duration::seconds(1));
            Ok(crate::api::salesforce::objects::delete_record(
                store, o, &id, at,
            ))
        }
        Api::Dynamics => {
            let Some(id) = dynamics_id(store, t)? else {
                return Ok(false);
            };
            store.dynamics.remove(&id);
            crate::api::dynamics::records::persist(store, &id);
            Ok(true)
        }
        Api::Zoho => {
            let Some((m, id)) = zoho_id(store, t)? else {
                return Ok(false);
            };
            Ok(crate::api::zoho::records::remove(store, m, id))
        }
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
