//! The `contact` table: its columns as metadata shows them, stored rows,
//! row versions, tombstones for change tracking, and per-record validation.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::{code, DvError};

/// The alternate key column (and the key's name) on contact.
pub const KEY_COLUMN: &str = "outpost_key";
/// The emulated application user, business unit and organization.
pub const USER_ID: &str = "00000000-0000-4000-8000-000000000001";
pub const BUSINESS_UNIT_ID: &str = "00000000-0000-4000-8000-000000000002";
pub const ORGANIZATION_ID: &str = "00000000-0000-4000-8000-000000000003";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uniqueidentifier,
    String,
    Picklist,
    DateTime,
    BigInt,
}

impl Kind {
    pub fn attribute_type(self) -> &'static str {
        match self {
            Kind::Uniqueidentifier => "Uniqueidentifier",
            Kind::String => "String",
            Kind::Picklist => "Picklist",
            Kind::DateTime => "DateTime",
            Kind::BigInt => "BigInt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    None,
    ApplicationRequired,
    SystemRequired,
}

impl Required {
    pub fn name(self) -> &'static str {
        match self {
            Required::None => "None",
            Required::ApplicationRequired => "ApplicationRequired",
            Required::SystemRequired => "SystemRequired",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub max_length: u32,
    pub required: Required,
    /// Set by the server, never by a client.
    pub system: bool,
}

const fn text(name: &'static str, max_length: u32) -> Column {
    Column {
        name,
        kind: Kind::String,
        max_length,
        required: Required::None,
        system: false,
    }
}

const fn system(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        max_length: 0,
        required: Required::None,
        system: true,
    }
}

/// `preferredcontactmethodcode`'s options (value, label), as in Dataverse.
pub const CONTACT_METHODS: [(i64, &str); 5] = [
    (1, "Any"),
    (2, "Email"),
    (3, "Phone"),
    (4, "Fax"),
    (5, "Mail"),
];
pub const PICKLIST: &str = "preferredcontactmethodcode";

/// Every column of contact. `firstname` is Business Required
/// (`ApplicationRequired`) so a form path sees one; the Web API does not
/// enforce that level. `lastname` is `SystemRequired` and enforced.
pub const COLUMNS: &[Column] = &[
    Column {
        name: "contactid",
        kind: Kind::Uniqueidentifier,
        max_length: 0,
        required: Required::SystemRequired,
        system: false,
    },
    Column {
        required: Required::ApplicationRequired,
        ..text("firstname", 50)
    },
    Column {
        required: Required::SystemRequired,
        ..text("lastname", 50)
    },
    text("emailaddress1", 100),
    text("telephone1", 50),
    text("mobilephone", 50),
    text("address1_line1", 250),
    text("address1_postalcode", 20),
    text("address1_city", 80),
    text("address1_country", 80),
    // A plain text column standing in for the company name (Dataverse's
    // own is the `parentcustomerid` lookup, which the emulator leaves out).
    text("company", 100),
    text(KEY_COLUMN, 100),
    Column {
        name: PICKLIST,
        kind: Kind::Picklist,
        max_length: 0,
        required: Required::None,
        system: false,
    },
    system("createdon", Kind::DateTime),
    system("modifiedon", Kind::DateTime),
    system("versionnumber", Kind::BigInt),
];

pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// A stable metadata id per column (Dataverse's `MetadataId`).
pub fn metadata_id(name: &str) -> String {
    let i = COLUMNS.iter().position(|c| c.name == name).unwrap_or(99);
    format!("00000000-0000-4000-9000-{:012}", i + 1)
}

/// One contact row. Values hold only the client-writable columns
/// (strings, and the picklist as a number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub values: BTreeMap<String, Value>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

impl Contact {
    pub fn key(&self) -> Option<&str> {
        self.values.get(KEY_COLUMN).and_then(Value::as_str)
    }

    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    pub fn value(&self, name: &str) -> Value {
        match name {
            "contactid" => json!(self.id),
            "createdon" => json!(stamp(self.created)),
            "modifiedon" => json!(stamp(self.modified)),
            "versionnumber" => json!(self.version),
            other => self.values.get(other).cloned().unwrap_or(Value::Null),
        }
    }

    /// The row as the Web API shows it; `select` limits the columns (the
    /// primary id and `@odata.etag` are always there).
    pub fn render(&self, select: Option<&[String]>) -> Value {
        let mut m = Map::new();
        m.insert("@odata.etag".into(), json!(self.etag()));
        match select {
            Some(cols) => {
                for c in cols {
                    m.insert(c.clone(), self.value(c));
                }
            }
            None => {
                for c in COLUMNS {
                    m.insert(c.name.into(), self.value(c.name));
                }
            }
        }
        m.insert("contactid".into(), json!(self.id));
        Value::Object(m)
    }
}

/// Dataverse shows datetimes with second precision and `Z`.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Lower-case hyphenated GUID, or `None`.
pub fn parse_guid(s: &str) -> Option<String> {
    let s = s.trim_start_matches('{').trim_end_matches('}');
    uuid::Uuid::parse_str(s)
        .ok()
        .filter(|_| s.len() == 36)
        .map(|u| u.hyphenated().to_string())
}

/// What one write undid, so a failed change set can roll back.
#[derive(Debug, Clone)]
pub enum Undo {
    /// The contact's previous row (`None`: it did not exist).
    Row(String, Option<Contact>),
    Tombstone,
}

/// All Dataverse data.
#[derive(Debug, Default)]
pub struct DynamicsData {
    pub contacts: HashMap<String, Contact>,
    /// Alternate key value → contact id.
    pub by_key: HashMap<String, String>,
    /// Deleted contacts as (row version at deletion, id), oldest first.
    pub tombstones: Vec<(u64, String)>,
    /// The last row version handed out (Dataverse's `versionnumber` is
    /// one counter per organization).
    pub version: u64,
    /// Undo records while a change set runs.
    pub journal: Option<Vec<Undo>>,
}

impl DynamicsData {
    pub fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    pub fn by_key(&self, key: &str) -> Option<&Contact> {
        self.by_key.get(key).and_then(|id| self.contacts.get(id))
    }

    /// Stores a row (new or changed), keeping the key index.
    pub fn put(&mut self, c: Contact) {
        let old = self.contacts.get(&c.id).cloned();
        if let Some(k) = old.as_ref().and_then(Contact::key) {
            self.by_key.remove(k);
        }
        if let Some(k) = c.key() {
            self.by_key.insert(k.to_string(), c.id.clone());
        }
        if let Some(j) = &mut self.journal {
            j.push(Undo::Row(c.id.clone(), old));
        }
        self.contacts.insert(c.id.clone(), c);
    }

    /// Removes a row and leaves a tombstone for change tracking.
    pub fn remove(&mut self, id: &str) -> Option<Contact> {
        let old = self.contacts.remove(id)?;
        if let Some(k) = old.key() {
            self.by_key.remove(k);
        }
        let v = self.next_version();
        self.tombstones.push((v, id.to_string()));
        if let Some(j) = &mut self.journal {
            j.push(Undo::Row(id.to_string(), Some(old.clone())));
            j.push(Undo::Tombstone);
        }
        Some(old)
    }

    /// Undoes every write since `begin`; returns the ids whose rows changed.
    pub fn rollback(&mut self) -> Vec<String> {
        let Some(journal) = self.journal.take() else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        for undo in journal.into_iter().rev() {
            match undo {
                Undo::Tombstone => {
                    self.tombstones.pop();
                }
                Undo::Row(id, prev) => {
                    if let Some(k) = self.contacts.get(&id).and_then(Contact::key) {
                        let k = k.to_string();
                        self.by_key.remove(&k);
                    }
                    match prev {
                        Some(c) => {
                            if let Some(k) = c.key() {
                                self.by_key.insert(k.to_string(), id.clone());
                            }
                            self.contacts.insert(id.clone(), c);
                        }
                        None => {
                            self.contacts.remove(&id);
                        }
                    }
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// Another live contact with this email (duplicate detection's rule).
    pub fn email_taken(&self, email: &str, except: &str) -> bool {
        self.contacts.values().any(|c| {
            c.id != except
                && c.values
                    .get("emailaddress1")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }
}

/// Checks a create or update body against the columns: unknown properties,
/// types, lengths and option-set values. Returns the writable values
/// (`Value::Null` clears) and the body's `contactid`, if any.
pub fn parse_body(
    body: &Map<String, Value>,
) -> Result<(BTreeMap<String, Value>, Option<String>), DvError> {
    let mut out = BTreeMap::new();
    let mut id = None;
    for (k, v) in body {
        // Instance annotations (`@odata.etag`, `@odata.type`) are not columns.
        if k.starts_with('@') {
            continue;
        }
        let col = column(k).ok_or_else(|| DvError::unknown_property(k))?;
        if col.kind == Kind::Uniqueidentifier {
            let s = v.as_str().and_then(parse_guid).ok_or_else(|| {
                DvError::bad_request(
                    code::BAD_ARGUMENT,
                    format!("Cannot convert the literal '{v}' to the expected type 'Edm.Guid'."),
                )
            })?;
            id = Some(s);
            continue;
        }
        if col.system {
            // Dataverse ignores values sent for system columns.
            continue;
        }
        match (col.kind, v) {
            (_, Value::Null) => {}
            (Kind::String, Value::String(s)) => {
                let len = s.chars().count() as u32;
                if len > col.max_length {
                    return Err(DvError::bad_request(
                        code::TOO_LONG,
                        format!(
                            "A validation error occurred. The length of the '{}' attribute of the 'contact' entity exceeded the maximum allowed length of '{}'.",
                            col.name, col.max_length
                        ),
                    ));
                }
            }
            (Kind::Picklist, Value::Number(n)) => {
                let ok = n
                    .as_i64()
                    .is_some_and(|n| CONTACT_METHODS.iter().any(|(v, _)| *v == n));
                if !ok {
                    let accepted: Vec<String> =
                        CONTACT_METHODS.iter().map(|(v, _)| v.to_string()).collect();
                    return Err(DvError::bad_request(
                        code::BAD_OPTION,
                        format!(
                            "A validation error occurred. The value {n} of '{}' on record of type 'contact' is outside the valid range. Accepted Values: {}",
                            col.name,
                            accepted.join(",")
                        ),
                    ));
                }
            }
            (kind, other) => {
                let edm = if kind == Kind::Picklist {
                    "Edm.Int32"
                } else {
                    "Edm.String"
                };
                return Err(DvError::bad_request(
                    code::BAD_ARGUMENT,
                    format!(
                        "Cannot convert the literal '{other}' to the expected type '{edm}' of property '{}'.",
                        col.name
                    ),
                ));
            }
        }
        out.insert(k.clone(), v.clone());
    }
    Ok((out, id))
}

/// Applies parsed values to a row's values (`null` or `""` clears).
pub fn apply(values: &mut BTreeMap<String, Value>, changes: BTreeMap<String, Value>) {
    for (k, v) in changes {
        match v {
            Value::Null => {
                values.remove(&k);
            }
            Value::String(s) if s.is_empty() => {
                values.remove(&k);
            }
            v => {
                values.insert(k, v);
            }
        }
    }
}

/// `lastname` is SystemRequired: the row must end up with one.
pub fn check_required(values: &BTreeMap<String, Value>) -> Result<(), DvError> {
    for c in COLUMNS
        .iter()
        .filter(|c| c.required == Required::SystemRequired && !c.system)
    {
        if c.kind == Kind::Uniqueidentifier {
            continue;
        }
        if !values.contains_key(c.name) {
            return Err(DvError::bad_request(
                code::REQUIRED,
                format!(
                    "A validation error occurred. The '{}' attribute of the 'contact' entity is required (SystemRequired) and has no value.",
                    c.name
                ),
            ));
        }
    }
    Ok(())
}
