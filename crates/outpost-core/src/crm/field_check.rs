//! The endpoint's field map held against the CRM's own field list, in one
//! place for every connector: a mapped field or form extra the CRM does not
//! have, of a type Outpost cannot fill, or read-only is a [`MapProblem`]; and
//! the form extras an admin added (`--map +store_id`) become fields of the
//! creation form from the same list. Connectors only list their CRM's fields
//! ([`crate::crm::CrmConnector::fields`]).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::field_map::FieldMap;
use super::form::{CrmForm, FieldKind, FieldOption, FormField};
use crate::customer::FieldType;
use crate::error::FieldError;

/// The settings field every mapping problem is reported against (the CLI's
/// `--map`, the Settings screen's field map).
pub const MAP_FIELD: &str = "map";

/// What a CRM field holds, as far as Outpost cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CrmFieldType {
    Text,
    Multiline,
    Email,
    Phone,
    /// One of a list of options.
    Picklist,
    Number,
    Date,
    DateTime,
    Boolean,
    /// Anything else (a reference, a file...).
    Other,
}

impl CrmFieldType {
    /// Whether an Outpost field of `kind` can be stored in it. Every
    /// Outpost field is text of some kind; a picklist takes any of them
    /// because the creation form offers only its options.
    pub fn holds(self, kind: FieldType) -> bool {
        match self {
            CrmFieldType::Text | CrmFieldType::Multiline | CrmFieldType::Picklist => true,
            CrmFieldType::Email => kind == FieldType::Email,
            CrmFieldType::Phone => kind == FieldType::Phone,
            _ => false,
        }
    }

    /// The kind of form field a form extra of this type becomes, if any.
    pub fn form_kind(self) -> Option<FieldKind> {
        match self {
            CrmFieldType::Text => Some(FieldKind::Text),
            CrmFieldType::Multiline => Some(FieldKind::Multiline),
            CrmFieldType::Email => Some(FieldKind::Email),
            CrmFieldType::Phone => Some(FieldKind::Phone),
            CrmFieldType::Picklist => Some(FieldKind::Picklist),
            _ => None,
        }
    }

    fn words(self) -> &'static str {
        match self {
            CrmFieldType::Text => "holds text",
            CrmFieldType::Multiline => "holds text",
            CrmFieldType::Email => "holds email addresses",
            CrmFieldType::Phone => "holds phone numbers",
            CrmFieldType::Picklist => "holds one of a list of options",
            CrmFieldType::Number => "holds numbers",
            CrmFieldType::Date => "holds dates",
            CrmFieldType::DateTime => "holds dates and times",
            CrmFieldType::Boolean => "holds yes/no values",
            CrmFieldType::Other => "holds values Outpost cannot fill in",
        }
    }
}

/// One field of the CRM's customer record (a HubSpot contact property, a
/// field of the generic REST contract's `GET /metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CrmField {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: CrmFieldType,
    /// False when the CRM computes the value (HubSpot's `readOnlyValue`).
    pub writable: bool,
    /// A picklist's options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldOption>>", optional)]
    pub options: Vec<FieldOption>,
}

/// The CRM's customer fields, with the words its messages use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldList {
    /// The CRM as messages name it ("HubSpot").
    pub crm: String,
    /// What the CRM calls one field ("contact property").
    pub noun: String,
    /// The CRM's fields cannot be added to by an admin (BottleCRM).
    pub fixed: bool,
    pub fields: Vec<CrmField>,
}

impl FieldList {
    pub fn get(&self, name: &str) -> Option<&CrmField> {
        self.fields.iter().find(|f| f.name == name)
    }

    fn missing(&self, name: &str) -> String {
        let mut msg = format!("{} has no {} {name}", self.crm, self.noun);
        if let Some(near) = self
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
        {
            msg.push_str(&format!(" (did you mean {}?)", near.name));
        }
        msg
    }

    fn fixed_note(&self) -> String {
        if !self.fixed {
            return String::new();
        }
        let names: Vec<&str> = self
            .fields
            .iter()
            .filter(|f| f.writable)
            .map(|f| f.name.as_str())
            .collect();
        format!(" Its {}s are fixed: {}.", self.noun, names.join(", "))
    }
}

/// One mapped field or form extra that does not fit the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MapProblem {
    /// What it is about, as `--map` spells it: an Outpost field (`notes`)
    /// or a form extra (`+store_id`).
    pub subject: String,
    /// The CRM field it names.
    pub crm_field: String,
    pub message: String,
}

impl MapProblem {
    pub fn to_field_error(&self) -> FieldError {
        FieldError::new(MAP_FIELD, self.message.clone())
    }
}

/// Every way the map (defaults and overrides) and the form extras do not
/// fit the CRM's fields, in map order, then the extras.
pub fn check(map: &FieldMap, extras: &[String], list: &FieldList) -> Vec<MapProblem> {
    let mut problems = Vec::new();
    for m in map.mappings() {
        let how = if m.overridden {
            format!("{} is mapped to it", m.field)
        } else {
            format!("{} is mapped to it by default", m.field)
        };
        let kind = m.field.spec().kind;
        let message = match list.get(&m.crm) {
            None => Some(format!(
                "{} ({how}).{}",
                list.missing(&m.crm),
                list.fixed_note()
            )),
            Some(f) if !f.kind.holds(kind) => Some(format!(
                "{}'s {} {} {}, but {} is {}: map it to a {} that holds text.",
                list.crm,
                list.noun,
                f.name,
                f.kind.words(),
                m.field,
                outpost_words(kind),
                list.noun
            )),
            Some(f) if m.direction.sends() && !f.writable => Some(format!(
                "{}'s {} {} is read-only, so {} cannot be sent to it.",
                list.crm, list.noun, f.name, m.field
            )),
            Some(_) => None,
        };
        if let Some(message) = message {
            problems.push(MapProblem {
                subject: m.field.name().to_owned(),
                crm_field: m.crm.clone(),
                message,
            });
        }
    }
    for extra in extras {
        let message = match list.get(extra) {
            None => Some(format!(
                "{} (added to the form as +{extra}).{}",
                list.missing(extra),
                list.fixed_note()
            )),
            Some(f) if f.kind.form_kind().is_none() => Some(format!(
                "{}'s {} {} {}: the form can add text, email, phone and picklist fields.",
                list.crm,
                list.noun,
                f.name,
                f.kind.words()
            )),
            Some(f) if !f.writable => Some(format!(
                "{}'s {} {} is read-only, so the form cannot fill it in.",
                list.crm, list.noun, f.name
            )),
            Some(_) => None,
        };
        if let Some(message) = message {
            problems.push(MapProblem {
                subject: format!("+{extra}"),
                crm_field: extra.clone(),
                message,
            });
        }
    }
    problems
}

fn outpost_words(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Text | FieldType::Multiline => "text",
        FieldType::Email => "an email address",
        FieldType::Phone => "a phone number",
        FieldType::Country => "a country code",
    }
}

/// The creation form with what the CRM's field list adds to it: each form
/// extra the CRM can take (a picklist with its options, else a free-text
/// field of its kind; free text when the CRM lists no fields), and the
/// options of picklists that mapped fields go to, where the connector's own
/// form did not already constrain them. Extras the CRM lacks or cannot take
/// are left out (the check reports them).
pub fn compose(
    mut form: CrmForm,
    list: Option<&FieldList>,
    map: &FieldMap,
    extras: &[String],
) -> CrmForm {
    for extra in extras {
        let present = form.fields.iter().any(|f| f.attribute && &f.name == extra);
        if present {
            continue;
        }
        let field = match list.map(|l| l.get(extra)) {
            None => Some(FormField {
                name: extra.clone(),
                label: label_for(extra),
                kind: FieldKind::Text,
                required: false,
                options: Vec::new(),
                attribute: true,
                max_len: None,
            }),
            Some(None) => None,
            Some(Some(f)) if !f.writable => None,
            Some(Some(f)) => f.kind.form_kind().map(|kind| FormField {
                name: extra.clone(),
                label: f.label.clone(),
                // A picklist without options is free text.
                kind: if kind == FieldKind::Picklist && f.options.is_empty() {
                    FieldKind::Text
                } else {
                    kind
                },
                required: false,
                options: f.options.clone(),
                attribute: true,
                max_len: None,
            }),
        };
        form.fields.extend(field);
    }
    let Some(list) = list else { return form };
    for m in map.mappings().iter().filter(|m| m.direction.sends()) {
        let Some(crm) = list.get(&m.crm) else {
            continue;
        };
        let constrained = form
            .fields
            .iter()
            .any(|f| !f.attribute && f.name == m.field.name());
        if crm.kind == CrmFieldType::Picklist && !crm.options.is_empty() && !constrained {
            form.fields.push(FormField {
                name: m.field.name().to_owned(),
                label: m.field.spec().label.to_owned(),
                kind: FieldKind::Picklist,
                required: false,
                options: crm.options.clone(),
                attribute: false,
                max_len: None,
            });
        }
    }
    form
}

/// "store_id" → "Store id".
pub fn label_for(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::crm::field_map::{Conversion, MapEntry};
    use crate::customer::Field;

    const DEFAULTS: &[MapEntry] = &[
        MapEntry::both(Field::FirstName, "firstname", Conversion::Text),
        MapEntry::both(Field::Email, "email", Conversion::Email),
        MapEntry::send(Field::PostalCode, "zip", Conversion::Text),
    ];

    fn field(name: &str, kind: CrmFieldType, writable: bool) -> CrmField {
        CrmField {
            name: name.into(),
            label: label_for(name),
            kind,
            writable,
            options: Vec::new(),
        }
    }

    fn list(fields: Vec<CrmField>) -> FieldList {
        FieldList {
            crm: "HubSpot".into(),
            noun: "contact property".into(),
            fixed: false,
            fields,
        }
    }

    fn hubspot() -> FieldList {
        let mut store = field("store_id", CrmFieldType::Picklist, true);
        store.options = vec![FieldOption {
            value: "berlin".into(),
            label: "Berlin".into(),
        }];
        list(vec![
            field("firstname", CrmFieldType::Text, true),
            field("email", CrmFieldType::Text, true),
            field("zip", CrmFieldType::Text, true),
            field("vat_number", CrmFieldType::Text, true),
            field("createdate", CrmFieldType::DateTime, false),
            field("hs_object_id", CrmFieldType::Number, false),
            field("hs_calculated", CrmFieldType::Text, false),
            field("mobilephone", CrmFieldType::Phone, true),
            store,
        ])
    }

    fn map(overrides: &[(Field, &str)]) -> FieldMap {
        let o: BTreeMap<Field, String> = overrides
            .iter()
            .map(|(f, c)| (*f, (*c).to_owned()))
            .collect();
        FieldMap::with_overrides(DEFAULTS, &o)
    }

    #[test]
    fn a_map_that_fits_has_no_problems() {
        let m = map(&[(Field::TaxId, "vat_number")]);
        assert!(check(&m, &["store_id".into()], &hubspot()).is_empty());
    }

    #[test]
    fn unknown_wrong_type_and_read_only_fields_are_named() {
        let m = map(&[
            (Field::TaxId, "vat_nummer"),
            (Field::Notes, "createdate"),
            (Field::City, "hs_calculated"),
            (Field::Email, "mobilephone"),
        ]);
        let problems = check(&m, &["shoe_size".into(), "hs_object_id".into()], &hubspot());
        let by_subject: BTreeMap<&str, &str> = problems
            .iter()
            .map(|p| (p.subject.as_str(), p.message.as_str()))
            .collect();
        let taxid = Field::TaxId.name();
        assert_eq!(
            by_subject[taxid],
            format!("HubSpot has no contact property vat_nummer ({taxid} is mapped to it).")
        );
        assert!(
            by_subject["notes"].contains("holds dates and times"),
            "{problems:?}"
        );
        assert!(by_subject["city"].contains("read-only"), "{problems:?}");
        assert!(
            by_subject["email"].contains("holds phone numbers"),
            "{problems:?}"
        );
        assert!(by_subject["+shoe_size"].starts_with("HubSpot has no contact property shoe_size"));
        assert!(by_subject["+hs_object_id"].contains("holds numbers"));
        assert!(problems.iter().all(|p| p.to_field_error().field == "map"));
    }

    #[test]
    fn defaults_are_checked_too_and_say_so() {
        let mut l = hubspot();
        l.fields.retain(|f| f.name != "zip");
        let problems = check(&map(&[]), &[], &l);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].message,
            "HubSpot has no contact property zip (postal_code is mapped to it by default)."
        );
    }

    #[test]
    fn a_fixed_field_list_is_named_and_near_misses_suggested() {
        let mut l = hubspot();
        l.fixed = true;
        let problems = check(&map(&[(Field::TaxId, "VAT_NUMBER")]), &[], &l);
        assert!(problems[0].message.contains("did you mean vat_number?"));
        assert!(problems[0].message.contains("are fixed: firstname"));
    }

    #[test]
    fn form_extras_become_form_fields_of_their_kind() {
        let mut l = hubspot();
        l.fields.push(field("loyalty_no", CrmFieldType::Text, true));
        let form = compose(
            CrmForm::default(),
            Some(&l),
            &map(&[]),
            &["store_id".into(), "loyalty_no".into(), "nope".into()],
        );
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["store_id", "loyalty_no"],
            "the unknown extra is left out"
        );
        assert_eq!(form.fields[0].kind, FieldKind::Picklist);
        assert_eq!(form.fields[0].options[0].value, "berlin");
        assert_eq!(form.fields[1].kind, FieldKind::Text);
        assert!(form.fields.iter().all(|f| f.attribute));

        let offline = compose(CrmForm::default(), None, &map(&[]), &["store_id".into()]);
        assert_eq!(
            offline.fields[0].kind,
            FieldKind::Text,
            "no list: free text"
        );
    }

    #[test]
    fn a_mapped_field_sent_to_a_picklist_is_offered_its_options() {
        let form = compose(
            CrmForm::default(),
            Some(&hubspot()),
            &map(&[(Field::City, "store_id")]),
            &[],
        );
        assert_eq!(form.fields.len(), 1);
        assert_eq!(form.fields[0].name, "city");
        assert!(!form.fields[0].attribute);
    }
}
