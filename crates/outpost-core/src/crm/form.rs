//! The creation form as the CRM wants it: required fields and option lists
//! (country, lead source, lifecycle stage...), fetched when online, cached in
//! the store with its fetch time, and used offline both to build the form and
//! to check a new customer before it is queued, so the CRM does not refuse it
//! days later. Without a cached copy (first run offline) the built-in form
//! applies, with a note saying so.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::customer::{Field, NewCustomer};
use crate::error::{FieldError, ValidationErrors};
use crate::template::fill;

/// The words of the CRM form's rules (exported to the UI's model).
pub mod messages {
    pub const REQUIRED: &str = "{label} is required.";
    pub const NOT_AN_OPTION: &str = "Choose one of the {label} options.";
    pub const UNKNOWN_FIELD: &str = "The CRM has no field \"{name}\".";
    pub const TOO_LONG_FOR_CRM: &str = "The CRM takes at most {max} characters for {label}.";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    Text,
    Email,
    Phone,
    /// One of `options`.
    Picklist,
    Multiline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FormField {
    /// A customer field (`country`) or, when `attribute`, a CRM-specific one.
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    #[serde(default)]
    pub options: Vec<FieldOption>,
    /// Stored in the customer's `attributes`, sent to the CRM under `name`.
    #[serde(default)]
    pub attribute: bool,
    /// The most characters the CRM's field takes, where it is fewer than
    /// Outpost's own limit (Salesforce's `FirstName` takes 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_len: Option<u32>,
}

/// One field of a CRM's own metadata (Salesforce's describe, Dataverse's
/// attributes, Zoho's `settings/fields`), in the terms the form needs.
pub struct DescribedField<'a> {
    /// The customer field the field map makes it, if any.
    pub customer_field: Option<Field>,
    /// The CRM's name: an unmapped field is an attribute under it, in
    /// lower case.
    pub crm_name: &'a str,
    pub label: String,
    /// True when the CRM offers a list of values for it.
    pub picklist: bool,
    pub options: Vec<FieldOption>,
    /// The CRM refuses a record without it.
    pub required: bool,
    /// The most characters it takes, when the CRM says.
    pub length: Option<u32>,
}

impl DescribedField<'_> {
    /// Its entry in the form: a picklist with values, a mapped text field
    /// that takes fewer characters than Outpost allows (checked before
    /// queueing instead of refused days later), or a requirement Outpost
    /// can fill. Anything else adds nothing to the built-in form (a
    /// required field Outpost cannot fill is the admin's to map: the field
    /// list and "Test connection" show it).
    pub fn form_field(self) -> Option<FormField> {
        let picklist = self.picklist && !self.options.is_empty();
        let c = self.customer_field;
        let max_len = c
            .zip(self.length)
            .filter(|(c, len)| *len > 0 && (*len as usize) < c.spec().max_len)
            .map(|(_, len)| len);
        if !(picklist || max_len.is_some() || (self.required && c.is_some())) {
            return None;
        }
        Some(FormField {
            name: c.map_or_else(
                || self.crm_name.to_ascii_lowercase(),
                |c| c.name().to_owned(),
            ),
            attribute: c.is_none(),
            label: self.label,
            kind: match c {
                _ if picklist => FieldKind::Picklist,
                Some(c) => form_kind(c),
                None => FieldKind::Text,
            },
            required: self.required,
            options: if picklist { self.options } else { Vec::new() },
            max_len,
        })
    }
}

/// How the form shows a customer field.
pub fn form_kind(f: Field) -> FieldKind {
    use crate::customer::FieldType;
    match f.spec().kind {
        FieldType::Email => FieldKind::Email,
        FieldType::Phone => FieldKind::Phone,
        FieldType::Multiline => FieldKind::Multiline,
        FieldType::Text | FieldType::Country => FieldKind::Text,
    }
}

/// What the CRM says about its form; what a connector returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmForm {
    /// At least one of these must be filled.
    pub required_one_of: Vec<String>,
    /// Fields with something to add to the built-in form: requirements,
    /// option lists, or CRM-specific fields.
    pub fields: Vec<FormField>,
}

/// The form the UI builds, and the rules a new customer is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FormMetadata {
    /// The endpoint it came from; `None` for the built-in form.
    pub endpoint: Option<String>,
    /// When it was fetched from the CRM (RFC 3339).
    pub fetched_at: Option<String>,
    /// Shown above the form when it is not the CRM's (first run offline).
    pub note: Option<String>,
    pub required_one_of: Vec<String>,
    /// The CRM-specific fields and the customer fields it constrains.
    pub fields: Vec<FormField>,
}

impl FormMetadata {
    /// The form without any CRM metadata: a name or company is required,
    /// everything else is free text.
    pub fn built_in(note: Option<String>) -> Self {
        FormMetadata {
            endpoint: None,
            fetched_at: None,
            note,
            required_one_of: Field::naming().map(|f| f.name().to_owned()).collect(),
            fields: Vec::new(),
        }
    }

    pub fn from_crm(endpoint: &str, fetched_at: String, form: CrmForm) -> Self {
        let mut required_one_of = form.required_one_of;
        if required_one_of.is_empty() {
            required_one_of = Self::built_in(None).required_one_of;
        }
        FormMetadata {
            endpoint: Some(endpoint.to_owned()),
            fetched_at: Some(fetched_at),
            note: None,
            required_one_of,
            fields: form.fields,
        }
    }

    /// Checks a new customer against the CRM's rules, field by field.
    pub fn check(&self, input: &NewCustomer) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let attributes = input.attributes.clone().unwrap_or_default();
        let value = |f: &FormField| -> Option<String> {
            let v = if f.attribute {
                attributes.get(&f.name).cloned()
            } else {
                customer_field(input, &f.name)
            };
            v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        for f in &self.fields {
            match value(f) {
                None if f.required => errors.push(FieldError::new(
                    &f.name,
                    fill(messages::REQUIRED, &[("label", &f.label)]),
                )),
                Some(v)
                    if f.max_len
                        .is_some_and(|max| v.chars().count() > max as usize) =>
                {
                    let max = f.max_len.unwrap_or_default();
                    errors.push(FieldError::new(
                        &f.name,
                        fill(
                            messages::TOO_LONG_FOR_CRM,
                            &[("max", &max), ("label", &f.label)],
                        ),
                    ));
                }
                Some(v) if f.kind == FieldKind::Picklist && !f.options.is_empty() => {
                    let known = f.options.iter().any(|o| o.value.eq_ignore_ascii_case(&v));
                    if !known {
                        errors.push(FieldError::new(
                            &f.name,
                            fill(messages::NOT_AN_OPTION, &[("label", &f.label)]),
                        ));
                    }
                }
                _ => {}
            }
        }
        for name in attributes.keys() {
            if !self.fields.iter().any(|f| f.attribute && &f.name == name) {
                errors.push(FieldError::new(
                    name,
                    fill(messages::UNKNOWN_FIELD, &[("name", name)]),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

fn customer_field(c: &NewCustomer, name: &str) -> Option<String> {
    Field::from_name(name).and_then(|f| c.fields.get(f).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::CustomerFields;

    fn described(customer_field: Option<Field>, crm_name: &str) -> DescribedField<'_> {
        DescribedField {
            customer_field,
            crm_name,
            label: crm_name.to_owned(),
            picklist: false,
            options: Vec::new(),
            required: false,
            length: None,
        }
    }

    /// What a CRM's field adds to the form, whichever CRM described it.
    #[test]
    fn a_described_field_adds_a_picklist_a_shorter_limit_or_a_requirement_outpost_can_fill() {
        let first = described(Some(Field::FirstName), "FirstName");
        assert_eq!(
            DescribedField {
                length: Some(40),
                ..first
            }
            .form_field()
            .unwrap()
            .max_len,
            Some(40),
            "fewer characters than Outpost's limit"
        );
        let roomy = described(Some(Field::FirstName), "FirstName");
        assert!(
            DescribedField {
                length: Some(10_000),
                ..roomy
            }
            .form_field()
            .is_none(),
            "nothing to add"
        );
        let last = described(Some(Field::LastName), "LastName");
        let f = DescribedField {
            required: true,
            ..last
        }
        .form_field()
        .unwrap();
        assert!(f.required && !f.attribute && f.name == "last_name");
        let unmapped = described(None, "Region__c");
        assert!(
            DescribedField {
                required: true,
                ..unmapped
            }
            .form_field()
            .is_none(),
            "a requirement Outpost cannot fill is the admin's to map"
        );
        let source = described(None, "Lead_Source");
        let options = vec![FieldOption {
            value: "Web".into(),
            label: "Web".into(),
        }];
        let f = DescribedField {
            picklist: true,
            options,
            ..source
        }
        .form_field()
        .unwrap();
        assert!(f.attribute && f.kind == FieldKind::Picklist && f.name == "lead_source");
        let empty = described(None, "Rating");
        assert!(
            DescribedField {
                picklist: true,
                ..empty
            }
            .form_field()
            .is_none(),
            "a picklist without values is no picklist"
        );
    }

    fn form() -> FormMetadata {
        FormMetadata::from_crm(
            "crm",
            "2026-11-22T00:00:00Z".into(),
            CrmForm {
                required_one_of: vec![],
                fields: vec![
                    FormField {
                        name: "country".into(),
                        label: "Country".into(),
                        kind: FieldKind::Picklist,
                        required: false,
                        options: vec![FieldOption {
                            value: "DE".into(),
                            label: "Germany".into(),
                        }],
                        attribute: false,
                        max_len: None,
                    },
                    FormField {
                        name: "lead_source".into(),
                        label: "Lead source".into(),
                        kind: FieldKind::Picklist,
                        required: true,
                        options: vec![FieldOption {
                            value: "walk_in".into(),
                            label: "Walk-in".into(),
                        }],
                        attribute: true,
                        max_len: None,
                    },
                ],
            },
        )
    }

    #[test]
    fn picklists_and_required_crm_fields_are_checked_per_field() {
        let ok = NewCustomer {
            fields: CustomerFields {
                last_name: Some("Ito".into()),
                country: Some("de".into()),
                ..Default::default()
            },
            attributes: Some([("lead_source".to_string(), "walk_in".to_string())].into()),
        };
        form().check(&ok).unwrap();

        let bad = NewCustomer {
            fields: CustomerFields {
                last_name: Some("Ito".into()),
                country: Some("XX".into()),
                ..Default::default()
            },
            attributes: Some([("shoe_size".to_string(), "42".to_string())].into()),
        };
        let errors = form().check(&bad).unwrap_err().0;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["country", "lead_source", "shoe_size"]);
    }

    #[test]
    fn the_built_in_form_only_needs_a_name() {
        let f = FormMetadata::built_in(Some("offline".into()));
        assert!(
            f.check(&NewCustomer::default()).is_ok(),
            "names are checked by validation"
        );
        assert_eq!(f.required_one_of.len(), 3);
    }
}
