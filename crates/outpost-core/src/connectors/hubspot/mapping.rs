//! Outpost's customer ↔ HubSpot contact properties.
//!
//! HubSpot has no standard contact property for a tax id or free notes; they
//! are not sent (see docs/connectors/hubspot.md).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::customer::Customer;
use crate::form::{CrmForm, FieldKind, FieldOption, FormField};
use crate::sync::connector::RemoteCustomer;

/// (Outpost field, HubSpot property).
const FIELDS: [(&str, &str); 9] = [
    ("first_name", "firstname"),
    ("last_name", "lastname"),
    ("company", "company"),
    ("email", "email"),
    ("phone", "phone"),
    ("street", "address"),
    ("city", "city"),
    ("postal_code", "zip"),
    ("country", "country"),
];

pub fn properties(c: &Customer, key_property: &str) -> Value {
    let mut m = Map::new();
    let values = [
        &c.first_name,
        &c.last_name,
        &c.company,
        &c.email,
        &c.phone,
        &c.street,
        &c.city,
        &c.postal_code,
        &c.country,
    ];
    for ((_, prop), value) in FIELDS.iter().zip(values) {
        if let Some(v) = value {
            m.insert((*prop).into(), Value::String(v.clone()));
        }
    }
    // CRM-specific fields (lifecycle stage, lead status...) are HubSpot
    // properties of the same name.
    for (k, v) in &c.attributes {
        m.entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    m.insert(key_property.into(), Value::String(c.id.to_string()));
    Value::Object(m)
}

/// A contact property as the Properties API lists it (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    name: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    options: Vec<PropertyOption>,
    #[serde(default)]
    form_field: bool,
    #[serde(default)]
    hidden: bool,
}

#[derive(Debug, Deserialize)]
pub struct PropertyOption {
    label: String,
    value: String,
    #[serde(default)]
    hidden: bool,
}

/// The form from the contact properties: every visible form property with
/// options becomes a picklist (stored as an attribute unless Outpost maps
/// it to a customer field). HubSpot marks no contact property as required
/// through this API, so the name rule stays Outpost's.
pub fn form(properties: Vec<Property>) -> CrmForm {
    let fields = properties
        .into_iter()
        .filter(|p| p.kind == "enumeration" && p.form_field && !p.hidden)
        .filter(|p| p.options.iter().any(|o| !o.hidden))
        .map(|p| {
            let customer_field = FIELDS.iter().find(|(_, prop)| *prop == p.name);
            FormField {
                name: customer_field.map_or(p.name.clone(), |(f, _)| (*f).to_owned()),
                attribute: customer_field.is_none(),
                label: p.label,
                kind: FieldKind::Picklist,
                required: false,
                options: p
                    .options
                    .into_iter()
                    .filter(|o| !o.hidden)
                    .map(|o| FieldOption {
                        value: o.value,
                        label: o.label,
                    })
                    .collect(),
            }
        })
        .collect();
    CrmForm {
        required_one_of: Vec::new(),
        fields,
    }
}

/// The Outpost field a HubSpot property maps to (for error messages).
pub fn outpost_field(property: &str) -> String {
    FIELDS
        .iter()
        .find(|(_, p)| *p == property)
        .map_or(property, |(f, _)| f)
        .to_owned()
}

pub fn read_property_list(key_property: &str) -> Vec<String> {
    FIELDS
        .iter()
        .map(|(_, p)| (*p).to_owned())
        .chain([key_property.to_owned(), "lastmodifieddate".into()])
        .collect()
}

pub fn read_properties(key_property: &str) -> String {
    read_property_list(key_property).join(",")
}

pub fn remote(id: String, p: &Map<String, Value>, key_property: &str) -> RemoteCustomer {
    let s = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    RemoteCustomer {
        crm_id: id,
        key: s(key_property).and_then(|k| k.parse().ok()),
        first_name: s("firstname"),
        last_name: s("lastname"),
        company: s("company"),
        email: s("email"),
        phone: s("phone"),
        city: s("city"),
        country: s("country"),
        updated_at: s("lastmodifieddate").and_then(|t| t.parse::<DateTime<Utc>>().ok()),
    }
}
