//! HubSpot object and property model shared by the HubSpot handlers and the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// CRM object types the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    Contacts,
    Companies,
}

impl ObjectType {
    pub const ALL: [ObjectType; 2] = [ObjectType::Contacts, ObjectType::Companies];

    /// Path segment: `/crm/v3/objects/{path}`.
    pub fn path(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contacts",
            ObjectType::Companies => "companies",
        }
    }

    pub fn from_path(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.path() == s)
    }

    /// Used in messages: "Contact already exists", "Could not get some CONTACT objects".
    pub fn upper(self) -> &'static str {
        match self {
            ObjectType::Contacts => "CONTACT",
            ObjectType::Companies => "COMPANY",
        }
    }

    /// Companies name their modification stamp differently from contacts.
    pub fn modified_property(self) -> &'static str {
        match self {
            ObjectType::Contacts => "lastmodifieddate",
            ObjectType::Companies => "hs_lastmodifieddate",
        }
    }

    /// Properties returned when a request names none (HubSpot's documented defaults).
    pub fn default_returned(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &[
                "createdate",
                "email",
                "firstname",
                "hs_object_id",
                "lastmodifieddate",
                "lastname",
            ],
            ObjectType::Companies => &[
                "createdate",
                "domain",
                "hs_lastmodifieddate",
                "hs_object_id",
                "name",
            ],
        }
    }

    /// Properties a free-text search `query` looks at.
    pub fn text_search_properties(self) -> &'static [&'static str] {
        match self {
            ObjectType::Contacts => &[
                "firstname",
                "lastname",
                "email",
                "phone",
                "mobilephone",
                "company",
            ],
            ObjectType::Companies => &["name", "domain", "website", "phone"],
        }
    }

    pub fn read_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.objects.contacts.read",
            ObjectType::Companies => "crm.objects.companies.read",
        }
    }

    pub fn write_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.objects.contacts.write",
            ObjectType::Companies => "crm.objects.companies.write",
        }
    }

    pub fn schema_read_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.schemas.contacts.read",
            ObjectType::Companies => "crm.schemas.companies.read",
        }
    }

    pub fn schema_write_scope(self) -> &'static str {
        match self {
            ObjectType::Contacts => "crm.schemas.contacts.write",
            ObjectType::Companies => "crm.schemas.companies.write",
        }
    }

    /// Store kind of this type's objects and of its property definitions.
    pub fn object_kind(self) -> &'static str {
        match self {
            ObjectType::Contacts => "hubspot_contacts",
            ObjectType::Companies => "hubspot_companies",
        }
    }

    pub fn property_kind(self) -> &'static str {
        match self {
            ObjectType::Contacts => "hubspot_property_contacts",
            ObjectType::Companies => "hubspot_property_companies",
        }
    }

    /// A subset of HubSpot's default properties: enough for Outpost's mapping.
    pub fn default_properties(self, unique: Option<&str>) -> BTreeMap<String, PropertyDef> {
        let (group, defs): (&str, &[(&str, &str, &str)]) = match self {
            ObjectType::Contacts => (
                "contactinformation",
                &[
                    ("email", "Email", "string"),
                    ("firstname", "First Name", "string"),
                    ("lastname", "Last Name", "string"),
                    ("phone", "Phone Number", "string"),
                    ("mobilephone", "Mobile Phone Number", "string"),
                    ("company", "Company Name", "string"),
                    ("jobtitle", "Job Title", "string"),
                    ("website", "Website URL", "string"),
                    ("address", "Street Address", "string"),
                    ("city", "City", "string"),
                    ("state", "State/Region", "string"),
                    ("zip", "Postal Code", "string"),
                    ("country", "Country/Region", "string"),
                    ("lifecyclestage", "Lifecycle Stage", "enumeration"),
                    ("hs_lead_status", "Lead Status", "enumeration"),
                    ("hubspot_owner_id", "Contact owner", "enumeration"),
                    ("message", "Message", "string"),
                    ("createdate", "Create Date", "datetime"),
                    ("lastmodifieddate", "Last Modified Date", "datetime"),
                    ("hs_object_id", "Record ID", "number"),
                ],
            ),
            ObjectType::Companies => (
                "companyinformation",
                &[
                    ("name", "Company name", "string"),
                    ("domain", "Company Domain Name", "string"),
                    ("website", "Website URL", "string"),
                    ("phone", "Phone Number", "string"),
                    ("address", "Street Address", "string"),
                    ("city", "City", "string"),
                    ("zip", "Postal Code", "string"),
                    ("country", "Country/Region", "string"),
                    ("industry", "Industry", "string"),
                    ("createdate", "Create Date", "datetime"),
                    ("hs_lastmodifieddate", "Last Modified Date", "datetime"),
                    ("hs_object_id", "Record ID", "number"),
                ],
            ),
        };
        let mut map: BTreeMap<String, PropertyDef> = defs
            .iter()
            .map(|(name, label, kind)| {
                let def = PropertyDef::new(name, label, kind, group, true, false);
                (name.to_string(), def)
            })
            .collect();
        if self == ObjectType::Contacts {
            for (name, options) in [
                ("lifecyclestage", LIFECYCLE_STAGES.as_slice()),
                ("hs_lead_status", LEAD_STATUSES.as_slice()),
            ] {
                if let Some(def) = map.get_mut(name) {
                    def.options = enumeration_options(options);
                }
            }
        }
        if let (ObjectType::Contacts, Some(name)) = (self, unique) {
            let def = PropertyDef::new(name, "Outpost key", "string", group, false, true);
            map.insert(name.to_string(), def);
        }
        map
    }
}

/// HubSpot's default contact lifecycle stages (internal value, label).
const LIFECYCLE_STAGES: [(&str, &str); 8] = [
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
];

/// HubSpot's default lead statuses.
const LEAD_STATUSES: [(&str, &str); 8] = [
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
];

/// Options in the Properties API's shape.
fn enumeration_options(options: &[(&str, &str)]) -> Vec<Value> {
    options
        .iter()
        .enumerate()
        .map(|(i, (value, label))| {
            json!({"label": label, "value": value, "description": "", "displayOrder": i, "hidden": false})
        })
        .collect()
}

/// Properties the server maintains; writes to them are ignored.
pub fn is_read_only(name: &str) -> bool {
    matches!(
        name,
        "hs_object_id" | "createdate" | "lastmodifieddate" | "hs_lastmodifieddate"
    )
}

/// A property definition as the Properties API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDef {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub field_type: String,
    pub group_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub options: Vec<Value>,
    #[serde(default)]
    pub has_unique_value: bool,
    #[serde(default)]
    pub hubspot_defined: bool,
    #[serde(default)]
    pub form_field: bool,
    #[serde(default)]
    pub hidden: bool,
}

impl PropertyDef {
    /// The definition as the Properties API renders it, with
    /// `modificationMetadata` (derived: HubSpot-defined definitions are
    /// read-only and not archivable; the values the server maintains are
    /// read-only).
    pub fn api_view(&self) -> Value {
        let mut v = serde_json::to_value(self).expect("properties serialize");
        v["modificationMetadata"] = json!({
            "archivable": !self.hubspot_defined,
            "readOnlyDefinition": self.hubspot_defined,
            "readOnlyValue": is_read_only(&self.name),
        });
        v
    }

    pub fn new(
        name: &str,
        label: &str,
        kind: &str,
        group: &str,
        hubspot_defined: bool,
        unique: bool,
    ) -> Self {
        let field_type = match kind {
            "datetime" => "date",
            "number" => "number",
            "enumeration" => "select",
            _ => "text",
        };
        PropertyDef {
            name: name.to_string(),
            label: label.to_string(),
            kind: kind.to_string(),
            field_type: field_type.to_string(),
            group_name: group.to_string(),
            description: String::new(),
            options: Vec::new(),
            has_unique_value: unique,
            hubspot_defined,
            form_field: !is_read_only(name),
            hidden: false,
        }
    }
}

/// One stored CRM object. Property values are strings, as HubSpot returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HsObject {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once archived (deleted): the object then only shows in the
    /// `archived=true` listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
}

/// HubSpot's timestamp format: RFC 3339 with milliseconds and `Z`.
pub fn hs_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl HsObject {
    /// The object as the API renders it, with `wanted` properties (or the defaults).
    pub fn render(&self, ty: ObjectType, wanted: Option<&[String]>) -> Value {
        let props: serde_json::Map<String, Value> = match wanted {
            Some(names) if !names.is_empty() => names
                .iter()
                .map(|n| {
                    let v = self.properties.get(n).map_or(Value::Null, |v| json!(v));
                    (n.clone(), v)
                })
                .collect(),
            _ => ty
                .default_returned()
                .iter()
                .map(|n| {
                    let v = self.properties.get(*n).map_or(Value::Null, |v| json!(v));
                    (n.to_string(), v)
                })
                .collect(),
        };
        let mut out = json!({
            "id": self.id.to_string(),
            "properties": props,
            "createdAt": hs_time(self.created_at),
            "updatedAt": hs_time(self.updated_at),
            "archived": self.archived_at.is_some(),
        });
        if let Some(at) = self.archived_at {
            out["archivedAt"] = json!(hs_time(at));
        }
        out
    }
}

/// The objects and property definitions of one type.
#[derive(Debug, Clone, Default)]
pub struct ObjectTable {
    pub objects: BTreeMap<u64, HsObject>,
    /// Archived (deleted) objects, by id: not read, searched or listed
    /// except by `GET ...?archived=true`.
    pub archived: BTreeMap<u64, HsObject>,
    pub properties: BTreeMap<String, PropertyDef>,
    /// (property, value) → ids, so look-ups by email or a unique property stay
    /// O(1) with 100,000 contacts (a scan made the emulator the bottleneck of
    /// the sync benchmarks). Kept in step by `insert`, `update` and `remove`.
    index: HashMap<(String, String), BTreeSet<u64>>,
}

impl ObjectTable {
    /// Finds the object whose `prop` equals `value` (emails compare
    /// case-insensitively); the lowest id wins, as a scan in id order would.
    pub fn find_by(&self, prop: &str, value: &str) -> Option<u64> {
        if prop == "hs_object_id" {
            let id = value.parse().ok()?;
            return self.objects.contains_key(&id).then_some(id);
        }
        self.index
            .get(&index_key(prop, value))
            .and_then(|ids| ids.iter().next().copied())
    }

    pub fn insert(&mut self, obj: HsObject) {
        if obj.archived_at.is_some() {
            self.archived.insert(obj.id, obj);
            return;
        }
        self.index_object(&obj, true);
        self.objects.insert(obj.id, obj);
    }

    pub fn remove(&mut self, id: u64) -> Option<HsObject> {
        let obj = self.objects.remove(&id)?;
        self.index_object(&obj, false);
        Some(obj)
    }

    /// Archives a live object at `at`; the archived copy is returned.
    pub fn archive(&mut self, id: u64, at: DateTime<Utc>) -> Option<&HsObject> {
        let mut obj = self.remove(id)?;
        obj.archived_at = Some(at);
        Some(self.archived.entry(id).or_insert(obj))
    }

    /// Changes an object through `change`, keeping the index in step.
    pub fn update<R>(&mut self, id: u64, change: impl FnOnce(&mut HsObject) -> R) -> Option<R> {
        let mut obj = self.objects.remove(&id)?;
        self.index_object(&obj, false);
        let r = change(&mut obj);
        self.index_object(&obj, true);
        self.objects.insert(id, obj);
        Some(r)
    }

    fn index_object(&mut self, obj: &HsObject, add: bool) {
        for (prop, value) in &obj.properties {
            let key = index_key(prop, value);
            if add {
                self.index.entry(key).or_default().insert(obj.id);
            } else if let Some(ids) = self.index.get_mut(&key) {
                ids.remove(&obj.id);
                if ids.is_empty() {
                    self.index.remove(&key);
                }
            }
        }
    }
}

fn index_key(prop: &str, value: &str) -> (String, String) {
    let value = if prop == "email" {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    };
    (prop.to_owned(), value)
}

/// All HubSpot data of the emulator.
#[derive(Debug, Clone, Default)]
pub struct HubSpotData {
    pub contacts: ObjectTable,
    pub companies: ObjectTable,
    /// Next numeric id; shared by all types like HubSpot's portal-wide ids.
    pub next_id: u64,
}

impl HubSpotData {
    pub const FIRST_ID: u64 = 1001;

    pub fn new(unique: Option<&str>) -> Self {
        HubSpotData {
            contacts: ObjectTable {
                properties: ObjectType::Contacts.default_properties(unique),
                ..ObjectTable::default()
            },
            companies: ObjectTable {
                properties: ObjectType::Companies.default_properties(None),
                ..ObjectTable::default()
            },
            next_id: Self::FIRST_ID,
        }
    }

    pub fn table(&self, ty: ObjectType) -> &ObjectTable {
        match ty {
            ObjectType::Contacts => &self.contacts,
            ObjectType::Companies => &self.companies,
        }
    }

    pub fn table_mut(&mut self, ty: ObjectType) -> &mut ObjectTable {
        match ty {
            ObjectType::Contacts => &mut self.contacts,
            ObjectType::Companies => &mut self.companies,
        }
    }
}
