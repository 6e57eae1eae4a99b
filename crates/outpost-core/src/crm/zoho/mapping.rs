//! Outpost's customer ↔ a Zoho Contact or Lead: the default field maps
//! (API names), an upsert's record, the `fields` of a read, and a record
//! as a [`RemoteCustomer`]. A Contact's company is its `Account_Name`, a
//! lookup to an Account that Outpost does not create, so `company` is not
//! sent to a Contact unless an admin maps it (`--map company=...`). A Lead
//! requires `Company`: a customer without one sends [`NO_COMPANY`].
//! Zoho stamps `Modified_Time` in whole seconds (`2026-12-04T10:00:00+00:00`);
//! it is the pull's order and an edit's version.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::crm::connector::RemoteCustomer;
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::customer::{Customer, Field};

pub const ID: &str = "id";
pub const MODIFIED: &str = "Modified_Time";
/// What a Lead's required `Company` gets when the customer has none.
pub const NO_COMPANY: &str = "[not provided]";

pub const CONTACTS_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "First_Name", Conversion::Text),
    MapEntry::both(Field::LastName, "Last_Name", Conversion::Text),
    MapEntry::both(Field::Email, "Email", Conversion::Email),
    MapEntry::both(Field::Phone, "Phone", Conversion::PhoneAsTyped),
    MapEntry::both(Field::Street, "Mailing_Street", Conversion::Text),
    MapEntry::both(Field::City, "Mailing_City", Conversion::Text),
    MapEntry::both(Field::PostalCode, "Mailing_Zip", Conversion::Text),
    MapEntry::both(Field::Country, "Mailing_Country", Conversion::CountryName),
    MapEntry::both(Field::Notes, "Description", Conversion::Text),
];

pub const LEADS_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "First_Name", Conversion::Text),
    MapEntry::both(Field::LastName, "Last_Name", Conversion::Text),
    MapEntry::both(Field::Company, "Company", Conversion::Text),
    MapEntry::both(Field::Email, "Email", Conversion::Email),
    MapEntry::both(Field::Phone, "Phone", Conversion::PhoneAsTyped),
    MapEntry::both(Field::Street, "Street", Conversion::Text),
    MapEntry::both(Field::City, "City", Conversion::Text),
    MapEntry::both(Field::PostalCode, "Zip_Code", Conversion::Text),
    MapEntry::both(Field::Country, "Country", Conversion::CountryName),
    MapEntry::both(Field::Notes, "Description", Conversion::Text),
];

/// The module customers become (`--module`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    Contacts,
    Leads,
}

impl Module {
    pub fn name(self) -> &'static str {
        match self {
            Module::Contacts => "Contacts",
            Module::Leads => "Leads",
        }
    }

    pub fn default_map(self) -> &'static [MapEntry] {
        match self {
            Module::Contacts => CONTACTS_MAP,
            Module::Leads => LEADS_MAP,
        }
    }

    /// `Contacts`, `contacts`, `Contact`, `lead`...
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "contacts" | "contact" => Some(Module::Contacts),
            "leads" | "lead" => Some(Module::Leads),
            _ => None,
        }
    }
}

/// A Zoho API name: letters, digits and `_`.
pub fn is_api_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An upsert's record: the mapped fields, the CRM-specific ones, the key
/// (and a Lead's placeholder company).
pub fn record(c: &Customer, map: &FieldMap, module: Module, key_field: &str) -> Map<String, Value> {
    let mut m = map.outgoing(c);
    if module == Module::Leads {
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

/// The `fields` a read asks for: the mapped ones, the key and the stamp
/// (Zoho always adds `id`).
pub fn fields(map: &FieldMap, key_field: &str, extra: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    for f in map
        .crm_fields_read()
        .map(str::to_owned)
        .chain(extra.iter().cloned())
        .chain([key_field.to_owned(), MODIFIED.into()])
    {
        if is_api_name(&f) && !out.contains(&f) {
            out.push(f);
        }
    }
    out.join(",")
}

/// A record as a listing, a search or a GET returns it. Zoho's ids are
/// numbers in strings; a number is taken too.
pub fn remote(row: &Map<String, Value>, key_field: &str, map: &FieldMap) -> Option<RemoteCustomer> {
    let s = |k: &str| match row.get(k)? {
        Value::String(v) if !v.is_empty() => Some(v.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (fields, received) = map.incoming_json(row);
    let modified = s(MODIFIED);
    Some(RemoteCustomer {
        crm_id: s(ID)?,
        key: s(key_field).and_then(|k| k.parse().ok()),
        fields,
        received,
        updated_at: modified.as_deref().and_then(parse_time),
        version: modified,
    })
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An `If-Modified-Since` value as Zoho's docs write it (`2019-07-25T15:26:49+05:30`).
pub fn zoho_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Backslash before `(`, `)`, `,` and `\`: a value inside a Zoho search
/// `criteria` (`(Field:equals:value)`) can then end neither the value nor
/// the condition.
pub fn criteria_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '(' | ')' | ',' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `(field:equals:value)`, the value escaped; `None` for a field name that
/// is not an API name.
pub fn criteria_equals(field: &str, value: &str) -> Option<String> {
    is_api_name(field).then(|| format!("({field}:equals:{})", criteria_escape(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_values_are_escaped() {
        assert_eq!(criteria_escape("plain"), "plain");
        assert_eq!(criteria_escape(r"a(b)c,d\e"), r"a\(b\)c\,d\\e");
        // A hostile value cannot close the condition and add another.
        let c = criteria_equals("Email", "x)or(Last_Name:starts_with:a").unwrap();
        assert_eq!(c, r"(Email:equals:x\)or\(Last_Name:starts_with:a)");
        let c = criteria_equals("Outpost_Key", r"\)").unwrap();
        assert_eq!(c, r"(Outpost_Key:equals:\\\))");
        assert!(criteria_equals("Email)or(x", "v").is_none());
        assert_eq!(criteria_escape("ünïcødé, ok"), r"ünïcødé\, ok");
    }

    #[test]
    fn records_and_reads() {
        let map = FieldMap::new(CONTACTS_MAP);
        let f = fields(
            &map,
            "Outpost_Key",
            &["bad,name".into(), "Lead_Source".into()],
        );
        assert!(f.starts_with("First_Name,Last_Name,Email"), "{f}");
        assert!(f.ends_with("Lead_Source,Outpost_Key,Modified_Time"), "{f}");
        let row = serde_json::json!({
            "id": "4876876000000123001", "Last_Name": "Lee", "Email": "Ann@Example.com",
            "Mailing_Country": "Germany", "Modified_Time": "2026-12-04T10:00:00+01:00",
            "Outpost_Key": "not a key", "Owner": {"id": "1", "name": "x"}
        });
        let r = remote(row.as_object().unwrap(), "Outpost_Key", &map).unwrap();
        assert_eq!(r.crm_id, "4876876000000123001");
        assert_eq!(r.fields.email.as_deref(), Some("ann@example.com"));
        assert_eq!(r.fields.country.as_deref(), Some("DE"));
        assert_eq!(r.version.as_deref(), Some("2026-12-04T10:00:00+01:00"));
        assert_eq!(
            zoho_time(r.updated_at.unwrap()),
            "2026-12-04T09:00:00+00:00"
        );
        assert!(r.key.is_none());
        assert_eq!(Module::parse("Leads"), Some(Module::Leads));
        assert_eq!(Module::parse("contact"), Some(Module::Contacts));
        assert_eq!(Module::parse("Deals"), None);
    }
}
