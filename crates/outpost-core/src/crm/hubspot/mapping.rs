//! Outpost's customer ↔ HubSpot contact properties.
//!
//! HubSpot has no standard contact property for a tax id or free notes; they
//! are not sent unless an admin maps them to a property of the portal
//! (see docs/connectors/hubspot.md).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::crm::connector::RemoteCustomer;
use crate::crm::field_check::{CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::crm::form::{CrmForm, FieldKind, FieldOption, FormField};
use crate::customer::{Customer, Field};

/// Outpost's fields as HubSpot's standard contact properties.
pub const DEFAULT_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "firstname", Conversion::Text),
    MapEntry::both(Field::LastName, "lastname", Conversion::Text),
    MapEntry::both(Field::Company, "company", Conversion::Text),
    MapEntry::both(Field::Email, "email", Conversion::Email),
    MapEntry::both(Field::Phone, "phone", Conversion::PhoneAsTyped),
    MapEntry::send(Field::Street, "address", Conversion::Text),
    MapEntry::both(Field::City, "city", Conversion::Text),
    MapEntry::send(Field::PostalCode, "zip", Conversion::Text),
    MapEntry::both(Field::Country, "country", Conversion::CountryCode),
];

/// The contact's properties: the mapped fields, CRM-specific fields
/// (lifecycle stage, lead status...) under their own names, and the key.
pub fn properties(c: &Customer, map: &FieldMap, key_property: &str) -> Value {
    let mut m = map.outgoing(c);
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
    field_type: String,
    #[serde(default)]
    options: Vec<PropertyOption>,
    #[serde(default)]
    form_field: bool,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    modification_metadata: Option<ModificationMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModificationMetadata {
    #[serde(default)]
    read_only_value: bool,
}

#[derive(Debug, Clone, Deserialize)]
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
pub fn form(properties: Vec<Property>, map: &FieldMap) -> CrmForm {
    let fields = properties
        .into_iter()
        .filter(|p| p.kind == "enumeration" && p.form_field && !p.hidden)
        .filter(|p| p.options.iter().any(|o| !o.hidden))
        .map(|p| {
            let customer_field = map.outpost_field(&p.name);
            FormField {
                name: customer_field.map_or(p.name.clone(), |f| f.name().to_owned()),
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
                max_len: None,
            }
        })
        .collect();
    CrmForm {
        required_one_of: Vec::new(),
        fields,
    }
}

/// Every contact property, for checking the field map against: its type
/// (HubSpot's `type`, refined by `fieldType`) and whether a value may be
/// written (`modificationMetadata.readOnlyValue`).
pub fn field_list(properties: &[Property]) -> FieldList {
    let fields = properties
        .iter()
        .map(|p| CrmField {
            name: p.name.clone(),
            label: p.label.clone(),
            kind: match (p.kind.as_str(), p.field_type.as_str()) {
                ("string", "textarea") => CrmFieldType::Multiline,
                ("string", _) => CrmFieldType::Text,
                ("phone_number", _) => CrmFieldType::Phone,
                ("enumeration", "booleancheckbox") | ("bool", _) => CrmFieldType::Boolean,
                ("enumeration", _) => CrmFieldType::Picklist,
                ("number", _) => CrmFieldType::Number,
                ("date", _) => CrmFieldType::Date,
                ("datetime", _) => CrmFieldType::DateTime,
                _ => CrmFieldType::Other,
            },
            writable: !p
                .modification_metadata
                .as_ref()
                .is_some_and(|m| m.read_only_value),
            options: p
                .options
                .iter()
                .filter(|o| !o.hidden)
                .map(|o| FieldOption {
                    value: o.value.clone(),
                    label: o.label.clone(),
                })
                .collect(),
        })
        .collect();
    FieldList {
        crm: "HubSpot".into(),
        noun: "contact property".into(),
        fixed: false,
        fields,
    }
}

/// The Outpost field a HubSpot property maps to (for error messages).
pub fn outpost_field(map: &FieldMap, property: &str) -> String {
    map.outpost_field(property)
        .map_or_else(|| property.to_owned(), |f| f.name().to_owned())
}

pub fn read_property_list(map: &FieldMap, key_property: &str) -> Vec<String> {
    map.crm_fields_read()
        .map(str::to_owned)
        .chain([key_property.to_owned(), "lastmodifieddate".into()])
        .collect()
}

pub fn read_properties(map: &FieldMap, key_property: &str) -> String {
    read_property_list(map, key_property).join(",")
}

pub fn remote(
    id: String,
    p: &Map<String, Value>,
    key_property: &str,
    map: &FieldMap,
) -> RemoteCustomer {
    let s = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (fields, received) = map.incoming_json(p);
    RemoteCustomer {
        crm_id: id,
        key: s(key_property).and_then(|k| k.parse().ok()),
        fields,
        received,
        updated_at: s("lastmodifieddate").and_then(|t| t.parse::<DateTime<Utc>>().ok()),
        version: s("lastmodifieddate"),
    }
}
