//! Customer record of the generic REST API and its validation.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RestError;

/// The writable customer fields, in the contract's order.
pub const FIELDS: [&str; 12] = [
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "country",
    "tax_id",
    "notes",
    "lead_source",
];

/// The `lead_source` picklist (value, label), as `GET /metadata` lists it.
pub const LEAD_SOURCES: [(&str, &str); 5] = [
    ("walk_in", "Walk-in"),
    ("phone", "Phone"),
    ("web", "Website"),
    ("referral", "Referral"),
    ("event", "Event"),
];

/// Longest accepted field value, in characters (documented in the contract).
pub const MAX_FIELD_CHARS: usize = 10_000;

/// A field an admin added to the CRM's customer record (control API
/// `POST /rest/fields`, [`crate::Emulator::define_rest_field`]): accepted in
/// PUT bodies, returned in records, listed by `GET /metadata`. None exist
/// by default, so an unknown field is refused as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    pub name: String,
    /// `string` (default), `text`, `email`, `phone`, `picklist`, `number`,
    /// `date`, `datetime` or `boolean`.
    #[serde(rename = "type", default = "string_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A read-only field is listed but refused in a PUT (`read_only`).
    #[serde(default = "yes")]
    pub writable: bool,
    /// A picklist's options; a value outside them is `invalid_option`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PicklistOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PicklistOption {
    pub value: String,
    pub label: String,
}

fn string_type() -> String {
    "string".into()
}

fn yes() -> bool {
    true
}

/// The types `GET /metadata` may give a field.
pub const FIELD_TYPES: [&str; 9] = [
    "string", "text", "email", "phone", "picklist", "number", "date", "datetime", "boolean",
];

impl CustomField {
    /// A name the contract's other fields do not use, of a known type.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = self.name.starts_with(|c: char| c.is_ascii_lowercase())
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            return Err(format!(
                "field name {:?} must start with a lower-case letter and use only a-z, 0-9 and _ (at most 64)",
                self.name
            ));
        }
        if FIELDS.contains(&self.name.as_str())
            || ["id", "key", "created_at", "updated_at"].contains(&self.name.as_str())
        {
            return Err(format!(
                "{:?} is one of the contract's own fields",
                self.name
            ));
        }
        if !FIELD_TYPES.contains(&self.kind.as_str()) {
            return Err(format!(
                "unknown field type {:?}; use one of {}",
                self.kind,
                FIELD_TYPES.join(", ")
            ));
        }
        Ok(())
    }

    /// Checks one value of this field.
    fn check(&self, value: &str) -> Result<(), RestError> {
        let name = &self.name;
        if !self.writable {
            return Err(
                RestError::bad_request("read_only", format!("{name} is read-only"))
                    .with_field(name.clone()),
            );
        }
        let well_typed = match self.kind.as_str() {
            "number" => value.trim().parse::<f64>().is_ok(),
            "boolean" => matches!(value, "true" | "false"),
            "date" => NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
            "datetime" => DateTime::parse_from_rfc3339(value).is_ok(),
            "email" => value.is_empty() || is_valid_email(value),
            _ => true,
        };
        if !well_typed {
            return Err(RestError::bad_request(
                "invalid_type",
                format!("{value:?} is not a valid {} for {name}", self.kind),
            )
            .with_field(name.clone()));
        }
        if self.kind == "picklist"
            && !self.options.is_empty()
            && !self.options.iter().any(|o| o.value == value)
        {
            let values: Vec<&str> = self.options.iter().map(|o| o.value.as_str()).collect();
            return Err(RestError::bad_request(
                "invalid_option",
                format!(
                    "{value:?} is not an option of {name}; use one of {}",
                    values.join(", ")
                ),
            )
            .with_field(name.clone()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub tax_id: Option<String>,
    pub notes: Option<String>,
    /// One of [`LEAD_SOURCES`]' values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_source: Option<String>,
    /// Values of custom fields ([`CustomField`]), by name, beside the others.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
}

impl CustomerFields {
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "first_name" => &mut self.first_name,
            "last_name" => &mut self.last_name,
            "company" => &mut self.company,
            "email" => &mut self.email,
            "phone" => &mut self.phone,
            "street" => &mut self.street,
            "city" => &mut self.city,
            "postal_code" => &mut self.postal_code,
            "country" => &mut self.country,
            "tax_id" => &mut self.tax_id,
            "notes" => &mut self.notes,
            "lead_source" => &mut self.lead_source,
            _ => return None,
        })
    }

    /// Parses and validates a PUT body, naming the offending field on error;
    /// `custom` are the custom fields the CRM has.
    pub fn parse(body: &[u8], custom: &BTreeMap<String, CustomField>) -> Result<Self, RestError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            RestError::bad_request(
                "invalid_json",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = value else {
            return Err(RestError::bad_request(
                "invalid_json",
                "request body must be a JSON object",
            ));
        };
        let mut fields = CustomerFields::default();
        for (name, v) in map {
            let mut custom_value = None;
            let slot = match (fields.slot(&name), custom.get(&name)) {
                (Some(slot), _) => slot,
                (None, Some(_)) => &mut custom_value,
                (None, None) => {
                    let allowed: Vec<&str> = FIELDS
                        .iter()
                        .copied()
                        .chain(custom.keys().map(String::as_str))
                        .collect();
                    return Err(RestError::bad_request(
                        "unknown_field",
                        format!("unknown field {name:?}; allowed: {}", allowed.join(", ")),
                    )
                    .with_field(name));
                }
            };
            *slot = match v {
                Value::Null => None,
                Value::String(s) if s.chars().count() > MAX_FIELD_CHARS => {
                    return Err(RestError::bad_request(
                        "too_long",
                        format!("{name} is longer than {MAX_FIELD_CHARS} characters"),
                    )
                    .with_field(name))
                }
                Value::String(s) => Some(s),
                _ => {
                    return Err(RestError::bad_request(
                        "invalid_type",
                        format!("{name} must be a string or null"),
                    )
                    .with_field(name))
                }
            };
            if let (Some(def), Some(value)) = (custom.get(&name), custom_value) {
                def.check(&value)?;
                fields.custom.insert(name, value);
            }
        }
        let named = [&fields.first_name, &fields.last_name, &fields.company]
            .iter()
            .any(|f| f.as_deref().is_some_and(|s| !s.trim().is_empty()));
        if !named {
            return Err(RestError::bad_request(
                "required",
                "at least one of first_name, last_name or company is required",
            )
            .with_field("last_name"));
        }
        if let Some(email) = fields.email.as_deref().filter(|e| !e.is_empty()) {
            if !is_valid_email(email) {
                return Err(RestError::bad_request(
                    "invalid_email",
                    format!("{email:?} is not a valid email address"),
                )
                .with_field("email"));
            }
        }
        if let Some(source) = fields.lead_source.as_deref() {
            if !LEAD_SOURCES.iter().any(|(v, _)| *v == source) {
                let values: Vec<&str> = LEAD_SOURCES.iter().map(|(v, _)| *v).collect();
                return Err(RestError::bad_request(
                    "invalid_option",
                    format!(
                        "{source:?} is not a lead source; use one of {}",
                        values.join(", ")
                    ),
                )
                .with_field("lead_source"));
            }
        }
        Ok(fields)
    }

    /// Text the `q` search looks at.
    pub fn searchable(&self) -> [Option<&str>; 5] {
        [
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.company.as_deref(),
            self.email.as_deref(),
            self.phone.as_deref(),
        ]
    }
}

/// `local@domain.tld` without spaces: the syntax check both APIs apply.
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain
            .split_once('.')
            .is_some_and(|(host, tld)| !host.is_empty() && !tld.is_empty())
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// Keys are what Outpost generates (UUIDs) plus common id characters.
pub fn validate_key(key: &str) -> Result<(), RestError> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(RestError::bad_request(
            "invalid_key",
            "key must be 1-128 characters of A-Z a-z 0-9 - _ . :",
        )
        .with_field("key"))
    }
}

/// A stored customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub key: String,
    #[serde(flatten)]
    pub fields: CustomerFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Goes up by one with every change; a conditional PATCH names it in
    /// `If-Match`. Records persisted before versions existed read as 1.
    #[serde(default = "first_version")]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

impl Customer {
    /// The version as `If-Match` and `ETag` carry it (a strong entity tag).
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    pub fn format_id(seq: u64) -> String {
        format!("cus_{seq:06}")
    }

    /// The numeric part of the id; orders ids past `cus_999999` correctly.
    pub fn seq(&self) -> u64 {
        self.id
            .strip_prefix("cus_")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// What is left of a deleted customer: `GET /customers/deleted` lists these
/// so a client can drop its copy. Creating the key again removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub key: String,
    pub id: String,
    pub deleted_at: DateTime<Utc>,
}

/// Timestamps are kept at microsecond precision so they round-trip through JSON.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A remembered answer to an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentReply {
    /// The request it answered: path key plus normalized body.
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_valid_email("a@b.co"));
        assert!(!is_valid_email("a@b"));
        assert!(!is_valid_email("a b@c.de"));
        assert!(!is_valid_email("@c.de"));
        assert!(!is_valid_email("a@@c.de"));
    }

    #[test]
    fn parse_rejects_unknown_and_nameless() {
        let none = BTreeMap::new();
        let e = CustomerFields::parse(br#"{"last_name":"x","age":"3"}"#, &none).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("unknown_field", Some("age")));
        let e = CustomerFields::parse(br#"{"email":"a@b.co"}"#, &none).unwrap_err();
        assert_eq!(e.code, "required");
        let e = CustomerFields::parse(br#"{"company":1}"#, &none).unwrap_err();
        assert_eq!(e.code, "invalid_type");
        assert!(CustomerFields::parse(br#"{"company":"ACME"}"#, &none).is_ok());
    }

    #[test]
    fn custom_fields_are_accepted_once_defined() {
        let field = |name: &str, kind: &str, writable: bool| CustomField {
            name: name.into(),
            kind: kind.into(),
            label: None,
            writable,
            options: vec![PicklistOption {
                value: "berlin".into(),
                label: "Berlin".into(),
            }],
        };
        let custom: BTreeMap<String, CustomField> = [
            field("vat_number", "string", true),
            field("store_id", "picklist", true),
            field("score", "number", false),
        ]
        .into_iter()
        .map(|f| (f.name.clone(), f))
        .collect();
        let f = CustomerFields::parse(
            br#"{"last_name":"x","vat_number":"DE1","store_id":"berlin","notes":null}"#,
            &custom,
        )
        .unwrap();
        assert_eq!(f.custom["vat_number"], "DE1");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json["store_id"], "berlin",
            "custom values sit beside the others"
        );
        let back: CustomerFields = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        let e =
            CustomerFields::parse(br#"{"last_name":"x","store_id":"paris"}"#, &custom).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_option", Some("store_id"))
        );
        let e = CustomerFields::parse(br#"{"last_name":"x","score":"1"}"#, &custom).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("read_only", Some("score")));
        assert!(field("last_name", "string", true).validate().is_err());
        assert!(field("x", "money", true).validate().is_err());
    }
}
