//! The per-field merge every connector applies to a `customer.update`
//! before it writes: the CRM's value now decides, for each changed field,
//! whether ours is sent, is already there, or is a conflict. A device clock
//! never decides (docs/sync-engine.md, "Edits").

use crate::crm::connector::{merge_field_by, FieldConflict, FieldMerge, OutgoingUpdate};
use crate::crm::field_map::{Conversion, FieldMap};
use crate::customer::{phone, Field};
use crate::outbox::FieldChange;

/// The CRM's value of a field now, by the CRM's field name (`None`: it
/// holds none).
pub type TheirValue<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What to write and what to leave for a person.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MergePlan {
    /// `(CRM field name, value in the CRM's form)`; `None` clears the field.
    pub writes: Vec<(String, Option<String>)>,
    pub conflicts: Vec<FieldConflict>,
}

impl MergePlan {
    /// Nothing to write: every field is settled or in conflict.
    pub fn nothing_to_write(&self) -> bool {
        self.writes.is_empty()
    }
}

/// The CRM field names an update touches, for a read of just those.
pub fn crm_names(u: &OutgoingUpdate, map: &FieldMap) -> Vec<String> {
    let mut names: Vec<String> = u
        .change
        .fields
        .keys()
        .filter_map(|f| map.sent(*f).map(|m| m.crm.clone()))
        .chain(u.change.attributes.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Merges `u` against the CRM's record. `theirs(crm_name)` is the CRM's
/// value of a field now (`None` when it holds none); without it (`None`:
/// the CRM was not read, its precondition guards the bases) every changed
/// field is written. Values are compared in Outpost's form, so a
/// conversion (a country name, an email's case) is not a change.
pub fn plan(u: &OutgoingUpdate, map: &FieldMap, theirs: Option<TheirValue<'_>>) -> MergePlan {
    let mut out = MergePlan::default();
    for (field, change) in &u.change.fields {
        // A field the map does not send has nowhere to go.
        let Some(m) = map.sent(*field) else { continue };
        let incoming = |v: &str| m.conversion.incoming(v);
        let send = change
            .new
            .as_deref()
            .map(|v| m.conversion.outgoing(v, &u.customer));
        decide(
            &mut out,
            field.name(),
            &m.crm,
            change,
            send,
            theirs.map(|t| t(&m.crm).and_then(|v| incoming(&v))),
            &|a, b| same_value(Some(*field), m.conversion, a, b),
        );
    }
    for (name, change) in &u.change.attributes {
        decide(
            &mut out,
            name,
            name,
            change,
            change.new.clone(),
            theirs.map(|t| t(name)),
            &|a, b| same_value(None, Conversion::Text, a, b),
        );
    }
    out
}

/// One field: `theirs` is `None` when the CRM was not read, `Some(None)`
/// when it holds no value.
fn decide(
    out: &mut MergePlan,
    name: &str,
    crm: &str,
    change: &FieldChange,
    send: Option<String>,
    theirs: Option<Option<String>>,
    same: &dyn Fn(&str, &str) -> bool,
) {
    let decision = match &theirs {
        None => FieldMerge::Send,
        Some(t) => merge_field_by(
            change.base.as_deref(),
            change.new.as_deref(),
            t.as_deref(),
            same,
        ),
    };
    match decision {
        FieldMerge::Send => out.writes.push((crm.to_owned(), send)),
        FieldMerge::Settled => {}
        FieldMerge::Conflict => out.conflicts.push(FieldConflict {
            field: name.to_owned(),
            ours: change.new.clone(),
            theirs: theirs.flatten(),
            base: change.base.clone(),
        }),
    }
}

/// Whether two values (Outpost's form) mean the same to the customer's
/// record: emails ignore case, phones compare as numbers where both read
/// as one, the rest ignore surrounding spaces.
fn same_value(field: Option<Field>, conversion: Conversion, a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    match (field, conversion) {
        (_, Conversion::Email) | (Some(Field::Email), _) => a.eq_ignore_ascii_case(b),
        (Some(Field::Phone), _) => {
            match (phone::e164_lenient(a, None), phone::e164_lenient(b, None)) {
                (Some(x), Some(y)) => x == y,
                _ => digits(a) == digits(b),
            }
        }
        _ => false,
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{Customer, CustomerFields, Origin, SyncState};
    use crate::outbox::UpdatePayload;

    fn customer() -> Customer {
        let now = chrono::Utc::now();
        Customer {
            id: crate::customer::CustomerId(uuid::Uuid::now_v7()),
            fields: CustomerFields::default(),
            phone_e164: None,
            crm_id: Some("1".into()),
            sync_state: SyncState::Synced,
            created_at: now,
            updated_at: now,
            origin: Origin::default(),
            attributes: Default::default(),
            crm_updated_at: None,
            crm_version: None,
            crm_version_tag: None,
            pending_edit: true,
            crm_deleted_at: None,
        }
    }

    fn update(changes: &[(Field, Option<&str>, Option<&str>)]) -> OutgoingUpdate {
        let mut change = UpdatePayload::default();
        for (f, base, new) in changes {
            change.fields.insert(
                *f,
                FieldChange {
                    base: base.map(str::to_owned),
                    new: new.map(str::to_owned),
                },
            );
        }
        OutgoingUpdate {
            customer: customer(),
            change,
            earlier_attempts: 0,
        }
    }

    fn map() -> FieldMap {
        FieldMap::new(crate::crm::hubspot::DEFAULT_MAP)
    }

    #[test]
    fn a_field_still_at_its_base_is_written_one_already_ours_is_not() {
        let u = update(&[
            (Field::City, Some("Bonn"), Some("Köln")),
            (Field::Company, Some("Old"), Some("New")),
        ]);
        let crm = |name: &str| match name {
            "city" => Some("Bonn".to_owned()),
            "company" => Some("New".to_owned()),
            _ => None,
        };
        let p = plan(&u, &map(), Some(&crm));
        assert_eq!(p.writes, vec![("city".into(), Some("Köln".into()))]);
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn a_third_value_is_a_conflict_that_keeps_both() {
        let u = update(&[(Field::City, Some("Bonn"), Some("Köln"))]);
        let crm = |_: &str| Some("Berlin".to_owned());
        let p = plan(&u, &map(), Some(&crm));
        assert!(p.nothing_to_write());
        assert_eq!(
            p.conflicts,
            vec![FieldConflict {
                field: "city".into(),
                ours: Some("Köln".into()),
                theirs: Some("Berlin".into()),
                base: Some("Bonn".into()),
            }]
        );
    }

    #[test]
    fn conversions_and_spelling_are_not_changes() {
        // The CRM holds the email in capitals and the phone spaced differently.
        let u = update(&[
            (Field::Email, Some("a@example.com"), Some("b@example.com")),
            (Field::Phone, Some("+49 30 1234567"), Some("+49 30 7654321")),
        ]);
        let crm = |name: &str| match name {
            "email" => Some("A@Example.com".to_owned()),
            "phone" => Some("+4930 123 4567".to_owned()),
            _ => None,
        };
        let p = plan(&u, &map(), Some(&crm));
        assert_eq!(p.writes.len(), 2, "{p:?}");
        assert!(p.conflicts.is_empty());
    }

    #[test]
    fn without_a_read_every_change_is_written_and_a_cleared_field_is_none() {
        let u = update(&[(Field::City, Some("Bonn"), None)]);
        let p = plan(&u, &map(), None);
        assert_eq!(p.writes, vec![("city".into(), None)]);
    }

    #[test]
    fn an_unmapped_field_is_skipped_and_names_are_the_crms() {
        let u = update(&[
            (Field::TaxId, None, Some("DE1")),
            (Field::FirstName, None, Some("Ada")),
        ]);
        assert_eq!(crm_names(&u, &map()), vec!["firstname".to_owned()]);
        assert_eq!(plan(&u, &map(), None).writes.len(), 1);
    }
}
