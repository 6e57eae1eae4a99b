//! The contact table's metadata: `EntityDefinitions(LogicalName='contact')`
//! attributes (required levels, the string columns' lengths through the
//! `StringAttributeMetadata` cast, picklists with `$expand=OptionSet` and
//! their labels in the user's language), turned into the creation form
//! and the field list, and kept for [`FRESH`] so the form, the field list
//! and the upserts' picklist values share three requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{odata, Dynamics};
use crate::crm::error::ConnectorError;
use crate::crm::field_check::{CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::FieldMap;
use crate::crm::form::{CrmForm, DescribedField, FieldOption};

/// How long metadata is used before it is fetched again (an admin's new
/// option shows within this).
pub const FRESH: Duration = Duration::from_secs(10 * 60);
pub const ENTITY: &str = "EntityDefinitions(LogicalName='contact')";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Label {
    #[serde(default)]
    pub user_localized_label: Option<LocalizedLabel>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocalizedLabel {
    #[serde(default)]
    pub label: String,
}

impl Label {
    fn text(&self) -> Option<&str> {
        self.user_localized_label
            .as_ref()
            .map(|l| l.label.as_str())
            .filter(|l| !l.is_empty())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequiredLevel {
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub logical_name: String,
    #[serde(default)]
    pub attribute_type: String,
    #[serde(default)]
    pub required_level: RequiredLevel,
    #[serde(default)]
    pub is_valid_for_create: Option<bool>,
    #[serde(default)]
    pub is_valid_for_update: Option<bool>,
    #[serde(default)]
    pub display_name: Label,
    #[serde(default)]
    pub max_length: Option<u32>,
    #[serde(default)]
    pub option_set: Option<OptionSet>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OptionSet {
    #[serde(default)]
    pub options: Vec<OptionMetadata>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OptionMetadata {
    pub value: i64,
    #[serde(default)]
    pub label: Label,
}

#[derive(Deserialize)]
struct Listed<T> {
    value: Vec<T>,
}

/// The contact table as its metadata describes it.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub attributes: Vec<Attribute>,
}

impl Attribute {
    fn required(&self) -> bool {
        // ApplicationRequired ("Business Required") is not enforced by the
        // Web API, but the people entering customers should still fill it.
        matches!(
            self.required_level.value.as_str(),
            "ApplicationRequired" | "SystemRequired"
        )
    }

    fn createable(&self) -> bool {
        self.is_valid_for_create.unwrap_or(true)
    }

    fn options(&self) -> Vec<FieldOption> {
        self.option_set
            .iter()
            .flat_map(|o| &o.options)
            .map(|o| FieldOption {
                value: o.value.to_string(),
                label: o
                    .label
                    .text()
                    .map_or_else(|| o.value.to_string(), str::to_owned),
            })
            .collect()
    }

    fn label(&self) -> String {
        self.display_name
            .text()
            .map_or_else(|| self.logical_name.clone(), str::to_owned)
    }

    fn is_picklist(&self) -> bool {
        matches!(
            self.attribute_type.as_str(),
            "Picklist" | "State" | "Status"
        )
    }
}

impl Table {
    /// Whether a column takes whole numbers (a picklist's value).
    pub fn numeric(&self, column: &str) -> bool {
        self.attributes.iter().any(|a| {
            a.logical_name == column
                && (a.is_picklist() || matches!(a.attribute_type.as_str(), "Integer" | "BigInt"))
        })
    }

    /// The creation form: required mapped columns, shorter limits than
    /// Outpost's, and every createable picklist with its options.
    pub fn form(&self, map: &FieldMap, key_property: &str) -> CrmForm {
        let mut fields = Vec::new();
        for a in self.attributes.iter().filter(|a| a.createable()) {
            if a.logical_name == key_property {
                continue;
            }
            let customer_field = map.outpost_field(&a.logical_name);
            fields.extend(
                DescribedField {
                    customer_field,
                    crm_name: &a.logical_name,
                    label: a.label(),
                    picklist: a.is_picklist(),
                    options: a.options(),
                    required: a.required() && customer_field.is_some(),
                    length: a.max_length,
                }
                .form_field(),
            );
        }
        CrmForm {
            required_one_of: Vec::new(),
            fields,
        }
    }

    pub fn field_list(&self) -> FieldList {
        let fields = self
            .attributes
            .iter()
            .map(|a| CrmField {
                name: a.logical_name.clone(),
                label: a.label(),
                kind: match a.attribute_type.as_str() {
                    "String" | "Uniqueidentifier" | "Lookup" | "Customer" => CrmFieldType::Text,
                    "Memo" => CrmFieldType::Multiline,
                    "Picklist" | "State" | "Status" => CrmFieldType::Picklist,
                    "Boolean" => CrmFieldType::Boolean,
                    "Integer" | "BigInt" | "Decimal" | "Double" | "Money" => CrmFieldType::Number,
                    "DateTime" => CrmFieldType::DateTime,
                    _ => CrmFieldType::Other,
                },
                writable: a.createable() || a.is_valid_for_update.unwrap_or(true),
                options: a.options(),
            })
            .collect();
        FieldList {
            crm: "Dynamics 365".into(),
            noun: "contact column".into(),
            fixed: false,
            fields,
        }
    }
}

impl Dynamics {
    async fn listed<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        options: &[(&str, &str)],
    ) -> Result<Vec<T>, ConnectorError> {
        let url = odata::with_query(self.url(&format!("{ENTITY}/{path}")), options);
        let Some(found) = self.get_json(url, &[]).await? else {
            return Err(ConnectorError::Queue(
                crate::crm::error::QueueProblem::Misconfigured(
                    "Dynamics does not describe the contact table to this user".into(),
                ),
            ));
        };
        let listed: Listed<T> = serde_json::from_value(serde_json::Value::Object(found))
            .map_err(|e| ConnectorError::Protocol(format!("unreadable attribute metadata: {e}")))?;
        Ok(listed.value)
    }

    /// The table's metadata, fetched when the one kept is older than [`FRESH`].
    pub(super) async fn table(&self) -> Result<Arc<Table>, ConnectorError> {
        let mut kept = self.table.lock().await;
        if let Some((at, t)) = kept.as_ref() {
            if at.elapsed() < FRESH {
                return Ok(t.clone());
            }
        }
        let mut attributes: Vec<Attribute> = self
            .listed(
                "Attributes",
                &[(
                    "$select",
                    "LogicalName,AttributeType,RequiredLevel,IsValidForCreate,IsValidForUpdate,DisplayName",
                )],
            )
            .await?;
        let lengths: Vec<Attribute> = self
            .listed(
                "Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata",
                &[("$select", "LogicalName,MaxLength")],
            )
            .await?;
        let picklists: Vec<Attribute> = self
            .listed(
                "Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                &[("$select", "LogicalName"), ("$expand", "OptionSet")],
            )
            .await?;
        let lengths: HashMap<_, _> = lengths
            .into_iter()
            .map(|a| (a.logical_name, a.max_length))
            .collect();
        let mut options: HashMap<_, _> = picklists
            .into_iter()
            .map(|a| (a.logical_name, a.option_set))
            .collect();
        for a in &mut attributes {
            if let Some(len) = lengths.get(&a.logical_name) {
                a.max_length = *len;
            }
            if let Some(set) = options.remove(&a.logical_name) {
                a.option_set = set;
            }
        }
        let t = Arc::new(Table { attributes });
        *kept = Some((tokio::time::Instant::now(), t.clone()));
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_shows_required_short_and_picklist_columns() {
        let attributes: Vec<Attribute> = serde_json::from_value(serde_json::json!([
            {"LogicalName": "firstname", "AttributeType": "String", "RequiredLevel": {"Value": "ApplicationRequired"}, "MaxLength": 50},
            {"LogicalName": "lastname", "AttributeType": "String", "RequiredLevel": {"Value": "SystemRequired"}, "MaxLength": 50},
            {"LogicalName": "outpost_key", "AttributeType": "String", "RequiredLevel": {"Value": "None"}, "MaxLength": 100},
            {"LogicalName": "createdon", "AttributeType": "DateTime", "IsValidForCreate": false},
            {"LogicalName": "preferredcontactmethodcode", "AttributeType": "Picklist",
             "DisplayName": {"UserLocalizedLabel": {"Label": "Preferred Method of Contact"}},
             "OptionSet": {"Options": [{"Value": 1, "Label": {"UserLocalizedLabel": {"Label": "Any"}}}, {"Value": 2, "Label": {}}]}}
        ]))
        .unwrap();
        let table = Table { attributes };
        let map = FieldMap::new(super::super::DEFAULT_MAP);
        let form = table.form(&map, "outpost_key");
        let first = form.fields.iter().find(|f| f.name == "first_name").unwrap();
        assert!(first.required && first.max_len == Some(50) && !first.attribute);
        let pick = form
            .fields
            .iter()
            .find(|f| f.name == "preferredcontactmethodcode")
            .unwrap();
        assert!(pick.attribute && pick.kind == crate::crm::form::FieldKind::Picklist);
        assert_eq!(pick.label, "Preferred Method of Contact");
        assert_eq!(pick.options[0].value, "1");
        assert_eq!(pick.options[1].label, "2");
        assert!(!form.fields.iter().any(|f| f.name == "outpost_key"));
        assert!(table.numeric("preferredcontactmethodcode") && !table.numeric("firstname"));
        let list = table.field_list();
        assert_eq!(list.fields.len(), 5);
    }
}
