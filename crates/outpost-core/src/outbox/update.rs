//! The `customer.update` message's payload: only the fields an edit changed,
//! each with its base (the value it had when the edit began) and its new
//! value, so a connector can write exactly those fields and only where the
//! CRM still holds the base. Several edits before delivery merge into one
//! payload that keeps the first base of each field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::customer::Field;

/// One changed value: `None` is "empty" (cleared, or never set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub base: Option<String>,
    pub new: Option<String>,
}

/// `{"base_version": "7", "fields": {"phone": {"base": "030 1", "new": "030 2"}},
/// "attributes": {"lead_source": {"base": null, "new": "web"}}}`; empty maps and
/// an unknown version are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePayload {
    /// The CRM's version tag of the record (`customers.crm_version_tag`)
    /// when the first of the merged edits began: the bases belong to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<Field, FieldChange>,
    /// CRM-specific fields of the form (lead source...), by the CRM's name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, FieldChange>,
}

impl UpdatePayload {
    /// Nothing left to send: every field is back at its base.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.attributes.is_empty()
    }

    /// Folds a later edit into this one: a field already here keeps its
    /// first base and takes the later value; a field back at its base drops
    /// out (there is nothing to send for it). The first edit's version
    /// stays: the bases kept are its values.
    pub fn merge(&mut self, later: UpdatePayload) {
        merge_map(&mut self.fields, later.fields);
        merge_map(&mut self.attributes, later.attributes);
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("an update payload always serializes")
    }
}

fn merge_map<K: Ord>(into: &mut BTreeMap<K, FieldChange>, later: BTreeMap<K, FieldChange>) {
    for (key, change) in later {
        let merged = match into.remove(&key) {
            Some(first) => FieldChange {
                base: first.base,
                new: change.new,
            },
            None => change,
        };
        if merged.base != merged.new {
            into.insert(key, merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(base: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            base: base.map(str::to_owned),
            new: new.map(str::to_owned),
        }
    }

    fn one(field: Field, base: Option<&str>, new: Option<&str>) -> UpdatePayload {
        UpdatePayload {
            fields: [(field, change(base, new))].into(),
            ..Default::default()
        }
    }

    #[test]
    fn merging_keeps_the_first_base_and_drops_fields_back_at_base() {
        let mut p = one(Field::Phone, Some("030 1"), Some("030 2"));
        p.merge(one(Field::Phone, Some("030 2"), Some("030 3")));
        p.merge(one(Field::Email, None, Some("a@example.com")));
        assert_eq!(
            p.fields[&Field::Phone],
            change(Some("030 1"), Some("030 3"))
        );
        p.merge(one(Field::Phone, Some("030 3"), Some("030 1")));
        assert!(!p.fields.contains_key(&Field::Phone));
        p.merge(one(Field::Email, Some("a@example.com"), None));
        assert!(p.is_empty());
    }

    #[test]
    fn the_payload_reads_as_documented() {
        let p = UpdatePayload {
            base_version: Some("7".into()),
            ..one(Field::Phone, Some("030 1"), None)
        };
        assert_eq!(
            p.to_json(),
            serde_json::json!({"base_version": "7", "fields": {"phone": {"base": "030 1", "new": null}}})
        );
        let back: UpdatePayload = serde_json::from_value(p.to_json()).unwrap();
        assert_eq!(back, p);
    }
}
