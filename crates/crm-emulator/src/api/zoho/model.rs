//! Zoho CRM's data: the two modules (`Contacts`, `Leads`), their field
//! definitions as `GET /settings/fields` shows them, records with
//! second-precision times, the recycle bin, and the value checks of a write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The custom key field Outpost upserts by.
pub const KEY_FIELD: &str = "Outpost_Key";

/// First record id: 19 digits, like Zoho's `4876876000000123001`.
pub const FIRST_ID: u64 = 4_876_876_000_000_100_001;

/// The one CRM user every token acts as.
pub const USER_ID: &str = "4876876000000090001";
pub const USER_NAME: &str = "Outpost Integration";
pub const USER_EMAIL: &str = "integration@outpost.example";
pub const ORG_ID: &str = "60000000001";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Module {
    Contacts,
    Leads,
}

impl Module {
    pub const ALL: [Module; 2] = [Module::Contacts, Module::Leads];

    /// Module names are matched case-insensitively, as Zoho does.
    pub fn from_name(s: &str) -> Option<Module> {
        Module::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    pub fn name(self) -> &'static str {
        match self {
            Module::Contacts => "Contacts",
            Module::Leads => "Leads",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Module::Contacts => "Contact",
            Module::Leads => "Lead",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Module::Contacts => "4876876000000002179",
            Module::Leads => "4876876000000002175",
        }
    }
}

/// One field as the emulator checks and describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub api_name: String,
    pub label: String,
    /// Zoho's `data_type`: `text`, `email`, `phone`, `textarea`, `picklist`,
    /// `datetime`, `ownerlookup`, `bigint`, `boolean`, `integer`.
    pub data_type: String,
    pub length: u32,
    pub system_mandatory: bool,
    /// "Do not allow duplicate values".
    pub unique: bool,
    pub custom: bool,
    pub read_only: bool,
    /// Picklist values (with `-None-` first).
    pub picklist: Vec<String>,
    /// A value outside `picklist` is refused (`INVALID_DATA`); off: stored as sent.
    pub restricted: bool,
    pub id: u64,
}

impl FieldDef {
    fn new(api_name: &str, data_type: &str, length: u32, id: u64) -> Self {
        FieldDef {
            api_name: api_name.to_string(),
            label: api_name.replace('_', " "),
            data_type: data_type.to_string(),
            length,
            system_mandatory: false,
            unique: false,
            custom: false,
            read_only: false,
            picklist: Vec::new(),
            restricted: false,
            id,
        }
    }

    pub fn custom(api_name: &str, data_type: &str, length: u32, unique: bool, id: u64) -> Self {
        FieldDef {
            custom: true,
            unique,
            ..FieldDef::new(api_name, data_type, length, id)
        }
    }

    /// Zoho's `json_type` for the data type.
    pub fn json_type(&self) -> &'static str {
        match self.data_type.as_str() {
            "ownerlookup" | "lookup" => "jsonobject",
            "boolean" => "boolean",
            "integer" => "integer",
            "multiselectpicklist" => "jsonarray",
            _ => "string",
        }
    }

    /// Values a client sends are strings for these types.
    pub fn is_text(&self) -> bool {
        self.json_type() == "string" && self.data_type != "datetime" && self.data_type != "bigint"
    }

    /// Fields the server stamps; a write ignores them.
    pub fn is_system(&self) -> bool {
        matches!(
            self.api_name.as_str(),
            "id" | "Created_Time" | "Modified_Time" | "Created_By" | "Modified_By"
        )
    }

    /// The field as `GET /settings/fields` lists it.
    pub fn describe(&self) -> Value {
        let mut f = json!({
            "api_name": self.api_name,
            "field_label": self.label,
            "display_label": self.label,
            "data_type": self.data_type,
            "json_type": self.json_type(),
            "length": self.length,
            "system_mandatory": self.system_mandatory,
            "custom_field": self.custom,
            "read_only": self.read_only,
            "field_read_only": self.read_only,
            "visible": true,
            "sortable": true,
            "searchable": true,
            "filterable": true,
            "id": self.id.to_string(),
            "pick_list_values": self.picklist.iter().enumerate().map(|(n, v)| json!({
                "display_value": v,
                "actual_value": v,
                "sequence_number": n + 1,
                "id": (self.id + 500_000 + n as u64).to_string(),
            })).collect::<Vec<_>>(),
        });
        if self.unique {
            f["unique"] = json!({"casesensitive": "false"});
        }
        if self.data_type == "picklist" {
            f["pick_list_values_sorted_lexically"] = json!(false);
        }
        f
    }
}

const LEAD_SOURCES: [&str; 15] = [
    "-None-",
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Sales Email Alias",
    "Seminar Partner",
    "Internal Seminar",
    "Trade Show",
    "Web Download",
    "Web Research",
    "Chat",
];

const LEAD_STATUSES: [&str; 9] = [
    "-None-",
    "Attempted to Contact",
    "Contact in Future",
    "Contacted",
    "Junk Lead",
    "Lost Lead",
    "Not Contacted",
    "Pre-Qualified",
    "Not Qualified",
];

/// The default fields of a module.
pub fn default_fields(m: Module) -> Vec<FieldDef> {
    let base: u64 = match m {
        Module::Contacts => 4_876_876_000_000_002_500,
        Module::Leads => 4_876_876_000_000_003_500,
    };
    let mut n = 0;
    let mut f = |name: &str, ty: &str, len: u32| {
        n += 1;
        FieldDef::new(name, ty, len, base + n)
    };
    let mut out = vec![
        FieldDef {
            read_only: true,
            ..f("id", "bigint", 18)
        },
        f("Owner", "ownerlookup", 120),
        f("First_Name", "text", 40),
        FieldDef {
            system_mandatory: true,
            ..f("Last_Name", "text", 80)
        },
        f("Email", "email", 100),
        f("Phone", "phone", 30),
        f("Mobile", "phone", 30),
    ];
    match m {
        Module::Contacts => out.extend([
            f("Mailing_Street", "text", 250),
            f("Mailing_City", "text", 100),
            f("Mailing_Zip", "text", 30),
            f("Mailing_Country", "text", 100),
            // A plain text stand-in for Zoho's lookup to Accounts.
            f("Account_Name", "text", 200),
        ]),
        Module::Leads => out.extend([
            FieldDef {
                system_mandatory: true,
                ..f("Company", "text", 200)
            },
            f("Street", "text", 250),
            f("City", "text", 100),
            f("Zip_Code", "text", 30),
            f("Country", "text", 100),
            FieldDef {
                picklist: LEAD_STATUSES.iter().map(|s| s.to_string()).collect(),
                ..f("Lead_Status", "picklist", 120)
            },
        ]),
    }
    out.extend([
        FieldDef {
            picklist: LEAD_SOURCES.iter().map(|s| s.to_string()).collect(),
            ..f("Lead_Source", "picklist", 120)
        },
        f("Description", "textarea", 32000),
        FieldDef {
            read_only: true,
            ..f("Created_Time", "datetime", 120)
        },
        FieldDef {
            read_only: true,
            ..f("Modified_Time", "datetime", 120)
        },
        FieldDef {
            read_only: true,
            ..f("Created_By", "ownerlookup", 120)
        },
        FieldDef {
            read_only: true,
            ..f("Modified_By", "ownerlookup", 120)
        },
    ]);
    n += 1;
    out.push(FieldDef::custom(KEY_FIELD, "text", 255, true, base + n));
    out
}

/// One live record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZRecord {
    pub id: u64,
    pub module: Module,
    /// Field values by api name (no system fields).
    pub values: BTreeMap<String, Value>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A deleted record in the recycle bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: u64,
    pub module: Module,
    pub display_name: String,
    pub deleted_time: DateTime<Utc>,
    pub created_by: bool,
}

/// Module settings an admin can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleState {
    /// The user's profile may create and edit records in the module.
    pub creatable: bool,
}

#[derive(Debug, Clone)]
pub struct ZohoData {
    /// Private so every write goes through [`ZohoData::put`],
    /// [`ZohoData::modify`] or [`ZohoData::remove`], which keep the index.
    records: BTreeMap<u64, ZRecord>,
    /// Ids by lowercased value, per (module, field) looked up so far: an
    /// upsert's duplicate check would otherwise read every record for
    /// every record it carries (a 10,000-record flush then measures the
    /// emulator, not the client). Built on a field's first lookup.
    index: HashMap<(Module, String), HashMap<String, BTreeSet<u64>>>,
    pub deleted: BTreeMap<u64, Deleted>,
    pub fields: BTreeMap<Module, Vec<FieldDef>>,
    pub modules: BTreeMap<Module, ModuleState>,
    pub next_id: u64,
}

impl Default for ZohoData {
    fn default() -> Self {
        ZohoData {
            records: BTreeMap::new(),
            index: HashMap::new(),
            deleted: BTreeMap::new(),
            fields: Module::ALL
                .into_iter()
                .map(|m| (m, default_fields(m)))
                .collect(),
            modules: Module::ALL
                .into_iter()
                .map(|m| (m, ModuleState { creatable: true }))
                .collect(),
            next_id: FIRST_ID,
        }
    }
}

impl ZohoData {
    pub fn fields(&self, m: Module) -> &[FieldDef] {
        &self.fields[&m]
    }

    pub fn field(&self, m: Module, name: &str) -> Option<&FieldDef> {
        self.fields[&m].iter().find(|f| f.api_name == name)
    }

    pub fn field_mut(&mut self, m: Module, name: &str) -> Option<&mut FieldDef> {
        self.fields
            .get_mut(&m)
            .and_then(|fs| fs.iter_mut().find(|f| f.api_name == name))
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn live(&self, m: Module, id: u64) -> Option<&ZRecord> {
        self.records.get(&id).filter(|r| r.module == m)
    }

    /// Every live record, by id.
    pub fn records(&self) -> impl Iterator<Item = &ZRecord> {
        self.records.values()
    }

    pub fn record(&self, id: u64) -> Option<&ZRecord> {
        self.records.get(&id)
    }

    /// Stores a record (new, or replacing the one with its id).
    pub fn put(&mut self, r: ZRecord) {
        self.unindex(r.id);
        let id = r.id;
        self.records.insert(id, r);
        self.reindex(id);
    }

    /// Changes a record in place; `None` when there is no such record.
    pub fn modify<T>(&mut self, id: u64, f: impl FnOnce(&mut ZRecord) -> T) -> Option<T> {
        self.unindex(id);
        let out = self.records.get_mut(&id).map(f);
        self.reindex(id);
        out
    }

    pub fn remove(&mut self, id: u64) -> Option<ZRecord> {
        self.unindex(id);
        self.records.remove(&id)
    }

    fn index_key(r: &ZRecord, field: &str) -> Option<String> {
        r.values
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    }

    fn unindex(&mut self, id: u64) {
        let Some(r) = self.records.get(&id) else {
            return;
        };
        for ((m, field), by_value) in &mut self.index {
            if *m != r.module {
                continue;
            }
            if let Some(k) = Self::index_key(r, field) {
                if let Some(ids) = by_value.get_mut(&k) {
                    ids.remove(&id);
                }
            }
        }
    }

    fn reindex(&mut self, id: u64) {
        let Some(r) = self.records.get(&id) else {
            return;
        };
        for ((m, field), by_value) in &mut self.index {
            if *m != r.module {
                continue;
            }
            if let Some(k) = Self::index_key(r, field) {
                by_value.entry(k).or_default().insert(id);
            }
        }
    }

    /// Live records of `m` whose `field` equals `value` (case-insensitive), by id.
    pub fn find_by(&mut self, m: Module, field: &str, value: &str) -> Vec<u64> {
        if field == "id" {
            return value
                .parse()
                .ok()
                .filter(|id| self.live(m, *id).is_some())
                .into_iter()
                .collect();
        }
        let key = (m, field.to_owned());
        if !self.index.contains_key(&key) {
            let mut by_value: HashMap<String, BTreeSet<u64>> = HashMap::new();
            for r in self.records.values().filter(|r| r.module == m) {
                if let Some(k) = Self::index_key(r, field) {
                    by_value.entry(k).or_default().insert(r.id);
                }
            }
            self.index.insert(key.clone(), by_value);
        }
        self.index[&key]
            .get(&value.to_ascii_lowercase())
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Now, at second precision (Zoho's times have no fraction).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// `2026-12-04T10:00:00+00:00`.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// RFC 3339 with an offset (`2019-07-25T15:26:49+05:30`) or `Z`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn user_ref() -> Value {
    json!({"name": USER_NAME, "id": USER_ID, "email": USER_EMAIL})
}

impl ZRecord {
    /// The record as Zoho shows it; `fields` limits the keys (`id` always stays).
    pub fn render(&self, defs: &[FieldDef], fields: Option<&[String]>) -> Value {
        let want = |n: &str| n == "id" || fields.is_none_or(|fs| fs.iter().any(|f| f == n));
        let mut out = Map::new();
        for d in defs {
            let name = d.api_name.as_str();
            if !want(name) {
                continue;
            }
            let v = match name {
                "id" => json!(self.id.to_string()),
                "Created_Time" => json!(fmt_time(self.created)),
                "Modified_Time" => json!(fmt_time(self.modified)),
                "Created_By" | "Modified_By" => user_ref(),
                "Owner" => self.values.get(name).cloned().unwrap_or_else(user_ref),
                _ => self.values.get(name).cloned().unwrap_or(Value::Null),
            };
            out.insert(name.to_string(), v);
        }
        Value::Object(out)
    }

    pub fn display_name(&self) -> String {
        let get = |k: &str| self.values.get(k).and_then(Value::as_str).unwrap_or("");
        format!("{} {}", get("First_Name"), get("Last_Name"))
            .trim()
            .to_string()
    }
}

/// One per-record failure of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub code: &'static str,
    pub message: &'static str,
    pub details: Value,
}

impl RecordError {
    pub fn body(&self) -> Value {
        json!({"code": self.code, "details": self.details, "message": self.message, "status": "error"})
    }

    fn invalid(api_name: &str, path: &str, d: &FieldDef, too_long: bool) -> Self {
        let mut details = json!({
            "api_name": api_name,
            "json_path": path,
            "expected_data_type": d.data_type,
        });
        if too_long {
            details["maximum_length"] = json!(d.length);
        }
        RecordError {
            code: "INVALID_DATA",
            message: "invalid data",
            details,
        }
    }

    pub fn mandatory(api_name: &str, path: &str) -> Self {
        RecordError {
            code: "MANDATORY_NOT_FOUND",
            message: "required field not found",
            details: json!({"api_name": api_name, "json_path": path}),
        }
    }
}

/// Checks one record of a write: known, writable fields get type, length,
/// e-mail and picklist checks; unknown fields and system fields are
/// ignored. Returns the changes (`Null`: clear).
pub fn check_values(
    defs: &[FieldDef],
    input: &Map<String, Value>,
    index: usize,
) -> Result<BTreeMap<String, Value>, RecordError> {
    let mut out = BTreeMap::new();
    for (k, v) in input {
        let Some(d) = defs.iter().find(|d| &d.api_name == k) else {
            continue;
        };
        if d.is_system() {
            continue;
        }
        let path = format!("$.data[{index}].{k}");
        if v.is_null() {
            out.insert(k.clone(), Value::Null);
            continue;
        }
        if d.data_type == "ownerlookup" {
            let ok = v.get("id").and_then(Value::as_str) == Some(USER_ID);
            if !ok {
                return Err(RecordError::invalid(k, &path, d, false));
            }
            out.insert(k.clone(), user_ref());
            continue;
        }
        if d.data_type == "boolean" {
            if !v.is_boolean() {
                return Err(RecordError::invalid(k, &path, d, false));
            }
            out.insert(k.clone(), v.clone());
            continue;
        }
        let Some(s) = v.as_str() else {
            return Err(RecordError::invalid(k, &path, d, false));
        };
        if s.chars().count() > d.length as usize {
            return Err(RecordError::invalid(k, &path, d, true));
        }
        if d.data_type == "email" && !s.is_empty() && !plausible_email(s) {
            return Err(RecordError::invalid(k, &path, d, false));
        }
        if d.data_type == "picklist" && d.restricted && !d.picklist.iter().any(|p| p == s) {
            return Err(RecordError::invalid(k, &path, d, false));
        }
        if s.is_empty() {
            out.insert(k.clone(), Value::Null);
        } else {
            out.insert(k.clone(), Value::String(s.to_string()));
        }
    }
    Ok(out)
}

fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

/// Applies changes to a record's values (`Null` removes).
pub fn apply(values: &mut BTreeMap<String, Value>, changes: BTreeMap<String, Value>) {
    for (k, v) in changes {
        if v.is_null() {
            values.remove(&k);
        } else {
            values.insert(k, v);
        }
    }
}
