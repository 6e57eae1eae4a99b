//! The customer as stored locally and as it crosses the IPC boundary. Its
//! fields are defined once, in [`fields`].

pub mod country;
pub mod edit;
pub mod fields;
pub mod phone;
pub mod validation;

pub use edit::CustomerEdit;
pub use fields::{CustomerFields, Field, FieldSet, FieldSpec, FieldType, SearchIndex};

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// The client-generated key of a customer. It is the customer's identity
/// everywhere: locally, in the outbox, and as the external id in every CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "string")]
pub struct CustomerId(pub Uuid);

impl CustomerId {
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for CustomerId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(CustomerId)
    }
}

/// Where a customer stands with the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyncState {
    /// Stored locally, its outbox message not yet delivered.
    Pending,
    /// The CRM confirmed it; `crm_id` is known.
    Synced,
    /// The CRM refused it for a reason a person must look at.
    NeedsAttention,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Synced => "synced",
            SyncState::NeedsAttention => "needs_attention",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(SyncState::Pending),
            "synced" => Some(SyncState::Synced),
            "needs_attention" => Some(SyncState::NeedsAttention),
            _ => None,
        }
    }
}

/// Where a stored customer came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Origin {
    /// Created on this device (it has, or had, an outbox message).
    #[default]
    Local,
    /// Came from the CRM: the working-set pull or an online lookup.
    Crm,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Local => "local",
            Origin::Crm => "crm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(Origin::Local),
            "crm" => Some(Origin::Crm),
            _ => None,
        }
    }
}

/// CRM-specific fields the form metadata adds (lead source, lifecycle
/// stage...): field name → option value.
pub type Attributes = BTreeMap<String, String>;

/// The CRM's version of a customer that changed there while this device had
/// an unsent change of its own. Both stay visible until the local change is
/// delivered (the CRM then holds the local version).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CrmVersion {
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: CustomerFields,
    /// When the CRM changed it (RFC 3339), if it said.
    pub updated_at: Option<String>,
}

/// What a person typed into the create form or the CLI. Untrusted: every field
/// is optional here and [`validation::validate`] decides what is acceptable.
/// Unknown fields are rejected so a typo in a caller never silently drops data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct NewCustomer {
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: CustomerFields,
    /// Values for the CRM's extra picklist fields (see the form metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "Record<string, string>")]
    pub attributes: Option<Attributes>,
}

impl NewCustomer {
    /// Sets one field, builder style.
    pub fn with(mut self, field: Field, value: impl Into<String>) -> Self {
        self.fields = self.fields.with(field, value);
        self
    }
}

/// By hand rather than derived: serde cannot refuse unknown keys of a
/// flattened struct, and a typo must never drop a value silently.
impl<'de> Deserialize<'de> for NewCustomer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = BTreeMap::<String, Option<serde_json::Value>>::deserialize(d)?;
        let mut out = NewCustomer::default();
        for (key, value) in raw {
            if key == "attributes" {
                out.attributes = value
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(|e| D::Error::custom(format!("invalid type for `attributes`: {e}")))?;
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
            *out.fields.slot(field) = match value {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(other) => {
                    return Err(D::Error::custom(format!(
                        "invalid type: {} for `{key}`, expected a string",
                        json_kind(&other)
                    )))
                }
            };
        }
        Ok(out)
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "sequence",
        serde_json::Value::Object(_) => "map",
    }
}

/// A stored customer. Field names are part of the CLI's `--json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Customer {
    /// The client key (UUIDv7 by default).
    pub id: CustomerId,
    #[serde(flatten)]
    #[ts(flatten)]
    pub fields: CustomerFields,
    /// The phone in E.164 ("+491511234567"), derived from `phone`; `None`
    /// when there is no phone or it could not be read.
    #[serde(default)]
    pub phone_e164: Option<String>,
    /// The CRM's own id, once the CRM has confirmed the customer.
    pub crm_id: Option<String>,
    pub sync_state: SyncState,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub origin: Origin,
    #[serde(default)]
    #[ts(type = "Record<string, string>")]
    pub attributes: Attributes,
    /// When the CRM last changed it, for pulled customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub crm_updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub crm_version: Option<CrmVersion>,
    /// The CRM's version token of the record as it last returned it (a
    /// version, etag or `updatedAt`): the precondition of an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub crm_version_tag: Option<String>,
    /// An edit made here waits for delivery (a `customer.update` message not
    /// yet sent): the badge "edited, not yet sent". `sync_state` still says
    /// where the customer itself stands with the CRM.
    #[serde(default)]
    pub pending_edit: bool,
    /// When the CRM deleted (or archived) this customer while an edit made
    /// here was unsent: it is kept, "deleted in the CRM", for a person to
    /// discard or create again as a new customer. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub crm_deleted_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// The name a person would read: "First Last", else the company.
    pub fn display_name(&self) -> String {
        let f = &self.fields;
        let person = [f.first_name.as_deref(), f.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if person.is_empty() {
            f.company.clone().unwrap_or_default()
        } else {
            person
        }
    }
}
