//! Outpost's customer ↔ HubSpot contact properties.
//!
//! HubSpot has no standard contact property for a tax id or free notes; they
//! are not sent (see docs/connectors/hubspot.md).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::customer::Customer;
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
    m.insert(key_property.into(), Value::String(c.id.to_string()));
    Value::Object(m)
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
