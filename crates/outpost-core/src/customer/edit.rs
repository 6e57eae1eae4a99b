//! An edit of a stored customer as a person asked for it (the edit form, the
//! CLI): per field a new value or "clear it"; fields not named stay as they
//! are. Untrusted like [`NewCustomer`]: unknown keys are refused, and the
//! customer as it would be after the edit is validated as a creation is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Customer, Field, NewCustomer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerEdit {
    /// `Some(value)` sets the field (blank clears it), `None` clears it.
    pub fields: BTreeMap<Field, Option<String>>,
    /// The CRM's extra form fields, by name; `None` (or blank) removes one.
    pub attributes: BTreeMap<String, Option<String>>,
}

impl CustomerEdit {
    /// Sets one field, builder style.
    pub fn set(mut self, field: Field, value: impl Into<String>) -> Self {
        self.fields.insert(field, Some(value.into()));
        self
    }

    /// Clears one field, builder style.
    pub fn clear(mut self, field: Field) -> Self {
        self.fields.insert(field, None);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.attributes.is_empty()
    }

    /// The customer with this edit applied, as input for validation: what
    /// the create form would have been given for it.
    pub fn applied_to(&self, current: &Customer) -> NewCustomer {
        let mut fields = current.fields.clone();
        for (&field, value) in &self.fields {
            *fields.slot(field) = value.clone();
        }
        let mut attributes = current.attributes.clone();
        for (name, value) in &self.attributes {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(_) => {
                    attributes.insert(name.clone(), value.clone().unwrap_or_default());
                }
                None => {
                    attributes.remove(name);
                }
            }
        }
        NewCustomer {
            fields,
            attributes: (!attributes.is_empty()).then_some(attributes),
        }
    }
}

/// `{"phone": "030 2", "notes": null, "attributes": {"lead_source": "web"}}`.
impl Serialize for CustomerEdit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (field, value) in &self.fields {
            map.serialize_entry(field.name(), value)?;
        }
        if !self.attributes.is_empty() {
            map.serialize_entry("attributes", &self.attributes)?;
        }
        map.end()
    }
}

/// By hand, like [`NewCustomer`]'s: a typo must never drop a change silently,
/// and `null` must mean "clear", not "not given".
impl<'de> Deserialize<'de> for CustomerEdit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        let mut out = CustomerEdit::default();
        for (key, value) in raw {
            if key == "attributes" {
                if !value.is_null() {
                    out.attributes = serde_json::from_value(value).map_err(|e| {
                        D::Error::custom(format!("invalid type for `attributes`: {e}"))
                    })?;
                }
                continue;
            }
            let Some(field) = Field::from_name(&key) else {
                let expected: Vec<String> = Field::ALL
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .chain(["`attributes`".to_owned()])
                    .collect();
                return Err(D::Error::custom(format!(
                    "unknown field `{key}`, expected one of {}",
                    expected.join(", ")
                )));
            };
            let value = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s),
                other => {
                    return Err(D::Error::custom(format!(
                        "invalid type: {} for `{key}`, expected a string or null",
                        super::json_kind(&other)
                    )))
                }
            };
            out.fields.insert(field, value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_clears_absent_keeps_and_unknown_keys_are_refused() {
        let e: CustomerEdit = serde_json::from_str(
            r#"{"phone": "030 2", "notes": null, "attributes": {"lead_source": null}}"#,
        )
        .unwrap();
        assert_eq!(e.fields[&Field::Phone].as_deref(), Some("030 2"));
        assert_eq!(e.fields[&Field::Notes], None);
        assert!(!e.fields.contains_key(&Field::Email));
        assert_eq!(e.attributes["lead_source"], None);
        assert_eq!(
            serde_json::from_value::<CustomerEdit>(serde_json::to_value(&e).unwrap()).unwrap(),
            e
        );
        let err = serde_json::from_str::<CustomerEdit>(r#"{"phnoe": "1"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `phnoe`"), "{err}");
        let err = serde_json::from_str::<CustomerEdit>(r#"{"phone": 1}"#).unwrap_err();
        assert!(err.to_string().contains("for `phone`"), "{err}");
    }
}
