//! Outpost's customer ↔ a Salesforce Contact or Lead, and what the
//! object's describe says (the form, the field list, field names).
//!
//! A Contact has no company of its own (that is its Account, which
//! Outpost does not create), so `company` is not sent to a Contact unless
//! an admin maps it. A Lead requires `Company`: a customer without one
//! sends [`NO_COMPANY`], Salesforce's own placeholder for web leads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::crm::connector::RemoteCustomer;
use crate::crm::field_check::{CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::crm::form::{CrmForm, DescribedField, FieldOption};
use crate::customer::{Customer, Field};

/// What a Lead's required `Company` gets when the customer has none.
pub const NO_COMPANY: &str = "[not provided]";
/// Salesforce's modification stamp: the pull's order, an edit's base.
pub const MODIFIED: &str = "LastModifiedDate";
pub const SYSTEM_STAMP: &str = "SystemModstamp";

/// The sObject the customers are (`--object`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SObject {
    Contact,
    Lead,
}

impl SObject {
    pub fn name(self) -> &'static str {
        match self {
            SObject::Contact => "Contact",
            SObject::Lead => "Lead",
        }
    }

    pub fn default_map(self) -> &'static [MapEntry] {
        match self {
            SObject::Contact => CONTACT_MAP,
            SObject::Lead => LEAD_MAP,
        }
    }

    /// The field the country filter of the working set compares.
    pub fn country_field(self) -> &'static str {
        match self {
            SObject::Contact => "MailingCountry",
            SObject::Lead => "Country",
        }
    }
}

pub const CONTACT_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "FirstName", Conversion::Text),
    MapEntry::both(Field::LastName, "LastName", Conversion::Text),
    MapEntry::both(Field::Email, "Email", Conversion::Email),
    MapEntry::both(Field::Phone, "Phone", Conversion::PhoneAsTyped),
    MapEntry::both(Field::Street, "MailingStreet", Conversion::Text),
    MapEntry::both(Field::PostalCode, "MailingPostalCode", Conversion::Text),
    MapEntry::both(Field::City, "MailingCity", Conversion::Text),
    MapEntry::both(Field::Country, "MailingCountry", Conversion::CountryCode),
    MapEntry::both(Field::Notes, "Description", Conversion::Text),
];

pub const LEAD_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "FirstName", Conversion::Text),
    MapEntry::both(Field::LastName, "LastName", Conversion::Text),
    MapEntry::both(Field::Company, "Company", Conversion::Text),
    MapEntry::both(Field::Email, "Email", Conversion::Email),
    MapEntry::both(Field::Phone, "Phone", Conversion::PhoneAsTyped),
    MapEntry::both(Field::Street, "Street", Conversion::Text),
    MapEntry::both(Field::PostalCode, "PostalCode", Conversion::Text),
    MapEntry::both(Field::City, "City", Conversion::Text),
    MapEntry::both(Field::Country, "Country", Conversion::CountryCode),
    MapEntry::both(Field::Notes, "Description", Conversion::Text),
];

/// The record's fields for a create or upsert: the mapped fields, the
/// CRM-specific ones (attributes, renamed to the object's own spelling),
/// and the key. A Lead always has a `Company`.
pub fn record(
    c: &Customer,
    map: &FieldMap,
    object: SObject,
    key_field: &str,
    names: &Names,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (name, value) in map.outgoing(c) {
        m.insert(names.api_name(&name), value);
    }
    if object == SObject::Lead {
        let company = map
            .crm_field(Field::Company)
            .unwrap_or("Company")
            .to_owned();
        m.entry(company)
            .or_insert_with(|| Value::String(NO_COMPANY.into()));
    }
    m.insert(key_field.into(), Value::String(c.id.to_string()));
    m
}

/// The fields a read asks for: the mapped ones, the key, the stamps.
pub fn read_fields(map: &FieldMap, key_field: &str) -> Vec<String> {
    let mut out: Vec<String> = vec!["Id".into()];
    for f in map.crm_fields_read().map(str::to_owned).chain([
        key_field.to_owned(),
        MODIFIED.into(),
        SYSTEM_STAMP.into(),
    ]) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&f)) {
            out.push(f);
        }
    }
    out
}

/// A record as a query, a search or a GET returns it.
pub fn remote(
    record: &Map<String, Value>,
    key_field: &str,
    map: &FieldMap,
) -> Option<RemoteCustomer> {
    let s = |k: &str| {
        record
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (fields, received) = map.incoming_json(record);
    let modified = s(MODIFIED);
    Some(RemoteCustomer {
        crm_id: s("Id")?,
        key: s(key_field).and_then(|k| k.parse().ok()),
        fields,
        received,
        updated_at: s(SYSTEM_STAMP)
            .or_else(|| modified.clone())
            .and_then(|t| parse_time(&t)),
        version: modified,
    })
}

/// Salesforce's `2026-12-01T08:15:30.000+0000` (no colon in the offset),
/// or RFC 3339.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One field of `sobjects/{Object}/describe` (the parts used).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Described {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default = "yes")]
    pub nillable: bool,
    /// A text field's most characters (0 for other types).
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Describe {
    #[serde(default)]
    pub createable: Option<bool>,
    pub fields: Vec<Described>,
}

impl Described {
    /// Salesforce refuses a record without it: not nillable, createable,
    /// and no default.
    pub fn required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create && self.kind != "boolean"
    }

    fn options(&self) -> Vec<FieldOption> {
        self.picklist_values
            .iter()
            .filter(|p| p.active)
            .map(|p| FieldOption {
                value: p.value.clone(),
                label: p.label.clone().unwrap_or_else(|| p.value.clone()),
            })
            .collect()
    }
}

/// Field names as the object spells them, found from any spelling: an
/// attribute is stored in lower case (`leadsource`), Salesforce's name is
/// `LeadSource`.
#[derive(Debug, Clone, Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    pub fn from_describe(d: &Describe) -> Self {
        Names(
            d.fields
                .iter()
                .map(|f| (f.name.to_ascii_lowercase(), f.name.clone()))
                .collect(),
        )
    }

    pub fn api_name(&self, name: &str) -> String {
        self.0
            .get(&name.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }
}

/// The form from the describe: the required fields, and every createable
/// picklist with its active values (a customer field's list where Outpost
/// maps it, otherwise a CRM-specific field stored as an attribute under
/// its lower-case name).
pub fn form(d: &Describe, map: &FieldMap, object: SObject, key_field: &str) -> CrmForm {
    let mut fields = Vec::new();
    for f in d.fields.iter().filter(|f| f.createable) {
        if f.name.eq_ignore_ascii_case(key_field) {
            continue;
        }
        let customer_field = map.outpost_field(&f.name);
        // A Lead's Company is always filled (NO_COMPANY), so never required here.
        let lead_company = object == SObject::Lead && customer_field == Some(Field::Company);
        fields.extend(
            DescribedField {
                customer_field,
                crm_name: &f.name,
                label: if f.label.is_empty() {
                    f.name.clone()
                } else {
                    f.label.clone()
                },
                picklist: f.kind == "picklist",
                options: f.options(),
                required: f.required() && !lead_company,
                length: Some(f.length),
            }
            .form_field(),
        );
    }
    CrmForm {
        required_one_of: Vec::new(),
        fields,
    }
}

/// Every field of the object, for checking the field map against.
pub fn field_list(d: &Describe, object: SObject) -> FieldList {
    let fields = d
        .fields
        .iter()
        .map(|f| CrmField {
            name: f.name.clone(),
            label: f.label.clone(),
            kind: match f.kind.as_str() {
                "string" | "id" | "reference" => CrmFieldType::Text,
                "textarea" => CrmFieldType::Multiline,
                "email" => CrmFieldType::Email,
                "phone" => CrmFieldType::Phone,
                "picklist" | "multipicklist" => CrmFieldType::Picklist,
                "boolean" => CrmFieldType::Boolean,
                "double" | "int" | "currency" | "percent" => CrmFieldType::Number,
                "date" => CrmFieldType::Date,
                "datetime" => CrmFieldType::DateTime,
                _ => CrmFieldType::Other,
            },
            writable: f.createable || f.updateable,
            options: f.options(),
        })
        .collect();
    FieldList {
        crm: "Salesforce".into(),
        noun: format!("{} field", object.name()),
        fixed: false,
        fields,
    }
}

/// The Outpost field a Salesforce field maps to (for messages), else the
/// Salesforce name.
pub fn outpost_field(map: &FieldMap, crm: &str) -> String {
    map.mappings()
        .iter()
        .find(|m| m.crm.eq_ignore_ascii_case(crm))
        .map_or_else(|| crm.to_ascii_lowercase(), |m| m.field.name().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_times_parse() {
        let t = parse_time("2026-12-01T08:15:30.000+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:15:30+00:00");
        assert!(parse_time("2026-12-01T08:15:30Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn attribute_names_take_the_objects_spelling() {
        let d: Describe = serde_json::from_value(serde_json::json!({
            "fields": [{"name": "LeadSource"}, {"name": "Store_Id__c"}]
        }))
        .unwrap();
        let names = Names::from_describe(&d);
        assert_eq!(names.api_name("leadsource"), "LeadSource");
        assert_eq!(names.api_name("store_id__c"), "Store_Id__c");
        assert_eq!(names.api_name("unknown"), "unknown");
    }
}
