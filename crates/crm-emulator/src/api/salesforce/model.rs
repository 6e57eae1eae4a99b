//! Salesforce sObjects (`Contact`, `Lead`): field definitions as describe
//! shows them, stored records, ids, timestamps and per-record validation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::SfErr;
use crate::api::rest::model::is_valid_email;

/// The version used in `attributes.url` outside a request (e.g. `records()`).
pub const DEFAULT_VERSION: &str = "v62.0";
/// The custom external-id field both objects carry by default.
pub const KEY_FIELD: &str = "Outpost_Key__c";
/// The owner of every record that names none (the emulated integration user).
pub const DEFAULT_OWNER: &str = "005000000000001AAA";
pub const ORG_ID: &str = "00D000000000001EAA";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SObject {
    Contact,
    Lead,
}

impl SObject {
    pub const ALL: [SObject; 2] = [SObject::Contact, SObject::Lead];

    pub fn name(self) -> &'static str {
        match self {
            SObject::Contact => "Contact",
            SObject::Lead => "Lead",
        }
    }

    /// Object names are case-insensitive, as in Salesforce.
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
    }

    pub fn prefix(self) -> &'static str {
        match self {
            SObject::Contact => "003",
            SObject::Lead => "00Q",
        }
    }

    pub fn label_plural(self) -> &'static str {
        match self {
            SObject::Contact => "Contacts",
            SObject::Lead => "Leads",
        }
    }

    /// Store kind of this object's field definitions.
    pub fn field_kind(self) -> &'static str {
        match self {
            SObject::Contact => "salesforce_field_contact",
            SObject::Lead => "salesforce_field_lead",
        }
    }

    pub fn default_fields(self) -> Vec<FieldDef> {
        let mut f = vec![
            FieldDef::system("Id", "Contact ID", "id", 18),
            FieldDef::system("IsDeleted", "Deleted", "boolean", 0),
            FieldDef::picklist(
                "Salutation",
                "Salutation",
                &[
                    ("Mr.", true),
                    ("Ms.", true),
                    ("Mrs.", true),
                    ("Dr.", true),
                    ("Prof.", true),
                ],
                None,
            ),
            FieldDef::text("FirstName", "First Name", "string", 40),
            FieldDef {
                nillable: false,
                ..FieldDef::text("LastName", "Last Name", "string", 80)
            },
        ];
        if self == SObject::Lead {
            f[0].label = "Lead ID".into();
            f.push(FieldDef {
                nillable: false,
                ..FieldDef::text("Company", "Company", "string", 255)
            });
            f.push(FieldDef::text("Street", "Street", "textarea", 255));
            f.push(FieldDef::text("City", "City", "string", 40));
            f.push(FieldDef::text("State", "State/Province", "string", 80));
            f.push(FieldDef::text(
                "PostalCode",
                "Zip/Postal Code",
                "string",
                20,
            ));
            f.push(FieldDef::text("Country", "Country", "string", 80));
        } else {
            f.push(FieldDef::reference("AccountId", "Account ID", "Account"));
            f.push(FieldDef::text(
                "MailingStreet",
                "Mailing Street",
                "textarea",
                255,
            ));
            f.push(FieldDef::text("MailingCity", "Mailing City", "string", 40));
            f.push(FieldDef::text(
                "MailingState",
                "Mailing State/Province",
                "string",
                80,
            ));
            f.push(FieldDef::text(
                "MailingPostalCode",
                "Mailing Zip/Postal Code",
                "string",
                20,
            ));
            f.push(FieldDef::text(
                "MailingCountry",
                "Mailing Country",
                "string",
                80,
            ));
        }
        f.push(FieldDef::text("Phone", "Business Phone", "phone", 40));
        f.push(FieldDef::text("MobilePhone", "Mobile Phone", "phone", 40));
        f.push(FieldDef::text("Email", "Email", "email", 80));
        f.push(FieldDef::text(
            "Description",
            "Description",
            "textarea",
            32000,
        ));
        f.push(FieldDef::picklist(
            "LeadSource",
            "Lead Source",
            &[
                ("Web", true),
                ("Phone Inquiry", true),
                ("Partner Referral", true),
                ("Purchased List", true),
                ("Other", true),
                ("Trade Show", false),
            ],
            None,
        ));
        if self == SObject::Lead {
            f.push(FieldDef {
                nillable: false,
                defaulted_on_create: true,
                ..FieldDef::picklist(
                    "Status",
                    "Status",
                    &[
                        ("Open - Not Contacted", true),
                        ("Working - Contacted", true),
                        ("Closed - Converted", true),
                        ("Closed - Not Converted", true),
                    ],
                    Some("Open - Not Contacted"),
                )
            });
        }
        f.push(FieldDef {
            nillable: false,
            defaulted_on_create: true,
            ..FieldDef::reference("OwnerId", "Owner ID", "User")
        });
        f.push(FieldDef::system(
            "CreatedDate",
            "Created Date",
            "datetime",
            0,
        ));
        f.push(FieldDef::system(
            "LastModifiedDate",
            "Last Modified Date",
            "datetime",
            0,
        ));
        f.push(FieldDef::system(
            "SystemModstamp",
            "System Modstamp",
            "datetime",
            0,
        ));
        f.push(FieldDef::key_field());
        for (i, d) in f.iter_mut().enumerate() {
            d.position = i as u32;
        }
        f
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PicklistValue {
    pub value: String,
    pub label: String,
    pub active: bool,
    #[serde(rename = "defaultValue")]
    pub default_value: bool,
}

/// A field as describe lists it (a subset of Salesforce's members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    /// `id`, `string`, `textarea`, `email`, `phone`, `picklist`, `reference`,
    /// `datetime`, `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    pub length: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub external_id: bool,
    pub unique: bool,
    pub case_sensitive: bool,
    pub custom: bool,
    #[serde(default)]
    pub picklist: Vec<PicklistValue>,
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// Describe order.
    #[serde(default)]
    pub position: u32,
}

impl FieldDef {
    fn base(name: &str, label: &str, kind: &str, length: u32) -> Self {
        FieldDef {
            name: name.into(),
            label: label.into(),
            kind: kind.into(),
            length,
            nillable: true,
            createable: true,
            updateable: true,
            defaulted_on_create: false,
            external_id: false,
            unique: false,
            case_sensitive: false,
            custom: false,
            picklist: Vec::new(),
            reference_to: Vec::new(),
            position: 0,
        }
    }

    pub fn text(name: &str, label: &str, kind: &str, length: u32) -> Self {
        Self::base(name, label, kind, length)
    }

    /// Maintained by the server: not createable, not updateable, not nillable.
    fn system(name: &str, label: &str, kind: &str, length: u32) -> Self {
        FieldDef {
            nillable: false,
            createable: false,
            updateable: false,
            defaulted_on_create: kind != "id",
            ..Self::base(name, label, kind, length)
        }
    }

    fn reference(name: &str, label: &str, to: &str) -> Self {
        FieldDef {
            reference_to: vec![to.into()],
            ..Self::base(name, label, "reference", 18)
        }
    }

    fn picklist(name: &str, label: &str, values: &[(&str, bool)], default: Option<&str>) -> Self {
        FieldDef {
            picklist: values
                .iter()
                .map(|(v, active)| PicklistValue {
                    value: (*v).into(),
                    label: (*v).into(),
                    active: *active,
                    default_value: Some(*v) == default,
                })
                .collect(),
            ..Self::base(name, label, "picklist", 255)
        }
    }

    /// `Outpost_Key__c`: Text(36), External ID, Unique, case-insensitive.
    pub fn key_field() -> Self {
        FieldDef {
            external_id: true,
            unique: true,
            custom: true,
            ..Self::base(KEY_FIELD, "Outpost Key", "string", 36)
        }
    }

    /// A custom field an admin adds (`VAT_Number__c`, string 32).
    pub fn custom(name: &str, kind: &str, length: u32) -> Result<Self, String> {
        if !name.ends_with("__c") || name.len() < 4 {
            return Err(format!("custom field names end in __c: {name:?}"));
        }
        let stem = &name[..name.len() - 3];
        if !stem.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            || !stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || stem.contains("__")
        {
            return Err(format!("invalid custom field name {name:?}"));
        }
        let length = match kind {
            "string" | "textarea" | "email" | "phone" => {
                if length == 0 || length > 131_072 {
                    return Err(format!("invalid length {length}"));
                }
                length
            }
            "boolean" | "datetime" => 0,
            other => return Err(format!("unsupported field type {other:?}")),
        };
        Ok(FieldDef {
            custom: true,
            ..Self::base(name, &stem.replace('_', " "), kind, length)
        })
    }

    pub fn is_system(&self) -> bool {
        matches!(
            self.name.as_str(),
            "Id" | "IsDeleted" | "CreatedDate" | "LastModifiedDate" | "SystemModstamp"
        )
    }

    /// Required on create: not nillable, createable, no default.
    pub fn required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create && self.kind != "boolean"
    }

    /// Long text areas cannot be filtered or sorted on in SOQL.
    pub fn filterable(&self) -> bool {
        !(self.kind == "textarea" && self.length > 255)
    }

    pub fn restricted(&self) -> bool {
        self.kind == "picklist"
    }

    pub fn default_value(&self) -> Option<&str> {
        self.picklist
            .iter()
            .find(|p| p.default_value)
            .map(|p| p.value.as_str())
    }

    pub fn describe(&self) -> Value {
        let default = self.default_value();
        json!({
            "name": self.name,
            "label": self.label,
            "type": self.kind,
            "length": self.length,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create,
            "defaultValue": default,
            "externalId": self.external_id,
            "unique": self.unique,
            "caseSensitive": self.case_sensitive,
            "custom": self.custom,
            "idLookup": self.name == "Id" || self.external_id || self.kind == "email",
            "filterable": self.filterable(),
            "sortable": self.filterable(),
            "restrictedPicklist": self.restricted(),
            "picklistValues": self.picklist,
            "referenceTo": self.reference_to,
            "soapType": match self.kind.as_str() {
                "id" | "reference" => "tns:ID",
                "boolean" => "xsd:boolean",
                "datetime" => "xsd:dateTime",
                _ => "xsd:string",
            },
        })
    }
}

/// The fields of one object, in describe order.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectDef {
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// Field names are case-insensitive.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut FieldDef> {
        self.fields
            .iter_mut()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// One stored record. `values` holds every writable field by its canonical
/// name; the system fields live in the struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SfRecord {
    pub id: String,
    pub object: SObject,
    pub values: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    /// LastModifiedDate and SystemModstamp (they move together here).
    pub modified: DateTime<Utc>,
    /// In the recycle bin since then.
    pub deleted: Option<DateTime<Utc>>,
}

/// A field's typed value, for SOQL and rendering.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(Option<String>),
    Time(DateTime<Utc>),
    Bool(bool),
}

impl SfRecord {
    pub fn value(&self, def: &FieldDef) -> FieldValue {
        match def.name.as_str() {
            "Id" => FieldValue::Text(Some(self.id.clone())),
            "IsDeleted" => FieldValue::Bool(self.deleted.is_some()),
            "CreatedDate" => FieldValue::Time(self.created),
            "LastModifiedDate" | "SystemModstamp" => FieldValue::Time(self.modified),
            name => {
                let v = self.values.get(name).cloned();
                match def.kind.as_str() {
                    "boolean" => FieldValue::Bool(v.as_deref() == Some("true")),
                    "datetime" => match v.and_then(|s| parse_datetime(&s)) {
                        Some(t) => FieldValue::Time(t),
                        None => FieldValue::Text(None),
                    },
                    _ => FieldValue::Text(v),
                }
            }
        }
    }

    pub fn url(&self, version: &str) -> String {
        format!(
            "/services/data/{version}/sobjects/{}/{}",
            self.object.name(),
            self.id
        )
    }

    /// The record as GET renders it: `attributes` and the given fields
    /// (every field of the object when `None`).
    pub fn render(&self, def: &ObjectDef, fields: Option<&[&FieldDef]>, version: &str) -> Value {
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            json!({"type": self.object.name(), "url": self.url(version)}),
        );
        let all: Vec<&FieldDef> = def.fields.iter().collect();
        for f in fields.unwrap_or(&all) {
            m.insert(f.name.clone(), render_value(&self.value(f)));
        }
        Value::Object(m)
    }
}

pub fn render_value(v: &FieldValue) -> Value {
    match v {
        FieldValue::Text(None) => Value::Null,
        FieldValue::Text(Some(s)) => Value::String(s.clone()),
        FieldValue::Time(t) => Value::String(sf_time(*t)),
        FieldValue::Bool(b) => Value::Bool(*b),
    }
}

/// Salesforce stamps have second precision (documented choice: an
/// HTTP-date `If-Unmodified-Since` is second-precise too).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// `2026-12-01T08:15:30.000+0000`.
pub fn sf_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// `2026-12-01T08:15:30Z`, `...30.000+0000`, `...30+01:00`.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An 18-character id: prefix, 12 digits, and Salesforce's case-safe suffix.
pub fn make_id(prefix: &str, n: u64) -> String {
    let base = format!("{prefix}{n:012}");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let mut out = base.clone();
    for chunk in base.as_bytes().chunks(5) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out.push(alphabet[bits] as char);
    }
    out
}

/// The number inside one of our ids.
pub fn id_seq(id: &str) -> Option<u64> {
    id.get(3..15)?.parse().ok()
}

pub fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// All Salesforce data.
#[derive(Debug, Clone)]
pub struct SalesforceData {
    /// By id. Private so that every write goes through `put` / `modify`,
    /// which keep `index` current.
    records: BTreeMap<String, SfRecord>,
    pub defs: BTreeMap<SObject, ObjectDef>,
    pub next_id: u64,
    /// Field values to ids, built the first time a field is looked up by
    /// value (upsert keys, unique fields, the duplicate rule's email): a
    /// Collections upsert of 200 into 10,000 records was 700 ms of scans.
    index: HashMap<(SObject, String), HashMap<String, BTreeSet<String>>>,
}

impl Default for SalesforceData {
    fn default() -> Self {
        SalesforceData {
            records: BTreeMap::new(),
            defs: SObject::ALL
                .into_iter()
                .map(|o| {
                    (
                        o,
                        ObjectDef {
                            fields: o.default_fields(),
                        },
                    )
                })
                .collect(),
            next_id: 1,
            index: HashMap::new(),
        }
    }
}

/// The index's form of a value: lookups are case-insensitive unless the
/// field says otherwise, and those compare exactly after the index lookup.
fn index_form(v: &str) -> String {
    v.to_lowercase()
}

impl SalesforceData {
    pub fn def(&self, o: SObject) -> &ObjectDef {
        &self.defs[&o]
    }

    pub fn new_id(&mut self, o: SObject) -> String {
        let id = make_id(o.prefix(), self.next_id);
        self.next_id += 1;
        id
    }

    /// Every stored record (the recycle bin's too), in id order.
    pub fn records(&self) -> impl Iterator<Item = &SfRecord> {
        self.records.values()
    }

    /// A stored record by its full (18-character) id, deleted or not.
    pub fn get(&self, id: &str) -> Option<&SfRecord> {
        self.records.get(id)
    }

    /// Stores a new record or replaces one with the same id.
    pub fn put(&mut self, r: SfRecord) {
        if let Some(old) = self.records.remove(&r.id) {
            self.unindex(&old);
        }
        self.index_record(&r);
        self.records.insert(r.id.clone(), r);
    }

    /// Changes a stored record in place; `None` when there is none.
    pub fn modify<T>(&mut self, id: &str, change: impl FnOnce(&mut SfRecord) -> T) -> Option<T> {
        let mut r = self.records.remove(id)?;
        self.unindex(&r);
        let out = change(&mut r);
        self.put(r);
        Some(out)
    }

    fn index_record(&mut self, r: &SfRecord) {
        for ((o, field), by_value) in &mut self.index {
            if *o != r.object {
                continue;
            }
            if let Some(v) = r.values.get(field) {
                by_value
                    .entry(index_form(v))
                    .or_default()
                    .insert(r.id.clone());
            }
        }
    }

    fn unindex(&mut self, r: &SfRecord) {
        for ((o, field), by_value) in &mut self.index {
            if *o != r.object {
                continue;
            }
            if let Some(v) = r.values.get(field) {
                let form = index_form(v);
                if let Some(ids) = by_value.get_mut(&form) {
                    ids.remove(&r.id);
                    if ids.is_empty() {
                        by_value.remove(&form);
                    }
                }
            }
        }
    }

    /// A live (not deleted) record of `o` by id (15 or 18 characters).
    pub fn live(&self, o: SObject, id: &str) -> Option<&SfRecord> {
        self.find_any(o, id).filter(|r| r.deleted.is_none())
    }

    pub fn find_any(&self, o: SObject, id: &str) -> Option<&SfRecord> {
        let full = if id.len() == 15 {
            self.records
                .range(id.to_string()..)
                .next()
                .map(|(k, _)| k.clone())
                .filter(|k| k.starts_with(id))?
        } else {
            id.to_string()
        };
        self.records.get(&full).filter(|r| r.object == o)
    }

    /// Live records of `o` whose `field` equals `value` (case-insensitively
    /// unless the field is case-sensitive), in id order.
    pub fn find_by(&mut self, o: SObject, field: &FieldDef, value: &str) -> Vec<String> {
        if field.is_system() {
            return self.scan_by(o, field, value);
        }
        let slot = (o, field.name.clone());
        if !self.index.contains_key(&slot) {
            let mut by_value: HashMap<String, BTreeSet<String>> = HashMap::new();
            for r in self.records.values().filter(|r| r.object == o) {
                if let Some(v) = r.values.get(&field.name) {
                    by_value
                        .entry(index_form(v))
                        .or_default()
                        .insert(r.id.clone());
                }
            }
            self.index.insert(slot.clone(), by_value);
        }
        let Some(ids) = self.index[&slot].get(&index_form(value)) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| self.records.get(id))
            .filter(|r| r.deleted.is_none())
            .filter(|r| {
                !field.case_sensitive || r.values.get(&field.name).is_some_and(|v| v == value)
            })
            .map(|r| r.id.clone())
            .collect()
    }

    /// `find_by` without the index, for the fields the server maintains.
    fn scan_by(&self, o: SObject, field: &FieldDef, value: &str) -> Vec<String> {
        self.records
            .values()
            .filter(|r| r.object == o && r.deleted.is_none())
            .filter(|r| match r.value(field) {
                FieldValue::Text(Some(v)) => {
                    if field.case_sensitive {
                        v == value
                    } else {
                        index_form(&v) == index_form(value)
                    }
                }
                _ => false,
            })
            .map(|r| r.id.clone())
            .collect()
    }
}

/// Create or update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Update,
}

/// Checks a body's fields; returns the changes (`None` clears a field).
pub fn validate(
    def: &ObjectDef,
    input: &Map<String, Value>,
    mode: Mode,
) -> Result<BTreeMap<String, Option<String>>, Vec<SfErr>> {
    let mut out = BTreeMap::new();
    let mut errs = Vec::new();
    let mut read_only = Vec::new();
    for (name, value) in input {
        if name == "attributes" {
            continue;
        }
        let Some(f) = def.field(name) else {
            errs.push(
                SfErr::new(
                    "INVALID_FIELD",
                    format!(
                        "No such column '{name}' on sobject of type {}",
                        object_of(def)
                    ),
                )
                .on(name.clone()),
            );
            continue;
        };
        let allowed = match mode {
            Mode::Insert => f.createable,
            Mode::Update => f.updateable,
        };
        if !allowed {
            read_only.push(f.name.clone());
            continue;
        }
        let text = match value {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) if f.kind == "boolean" => Some(b.to_string()),
            Value::Number(n) if f.kind != "boolean" => Some(n.to_string()),
            other => {
                errs.push(
                    SfErr::new(
                        "JSON_PARSER_ERROR",
                        format!("Cannot deserialize instance of {} from {other}", f.kind),
                    )
                    .on(f.name.clone()),
                );
                continue;
            }
        };
        if let Some(t) = &text {
            if let Some(e) = check_value(f, t) {
                errs.push(e);
                continue;
            }
        } else if !f.nillable && mode == Mode::Update {
            errs.push(required_missing(std::slice::from_ref(&f.name)));
            continue;
        }
        out.insert(f.name.clone(), text);
    }
    if !read_only.is_empty() {
        let verb = if mode == Mode::Insert {
            "create"
        } else {
            "create/update"
        };
        let mut e = SfErr::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to {verb} fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                read_only.join(", ")
            ),
        );
        e.fields = read_only;
        errs.push(e);
    }
    if mode == Mode::Insert && errs.is_empty() {
        let missing: Vec<String> = def
            .fields
            .iter()
            .filter(|f| f.required() && out.get(&f.name).is_none_or(Option::is_none))
            .map(|f| f.name.clone())
            .collect();
        if !missing.is_empty() {
            errs.push(required_missing(&missing));
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

fn object_of(def: &ObjectDef) -> &'static str {
    if def.field("Company").is_some() {
        "Lead"
    } else {
        "Contact"
    }
}

pub fn required_missing(fields: &[String]) -> SfErr {
    let mut e = SfErr::new(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", fields.join(", ")),
    );
    e.fields = fields.to_vec();
    e
}

fn check_value(f: &FieldDef, t: &str) -> Option<SfErr> {
    let name = f.name.clone();
    if f.length > 0 && t.chars().count() > f.length as usize && f.kind != "picklist" {
        return Some(
            SfErr::new(
                "STRING_TOO_LONG",
                format!(
                    "{}: data value too large: {t} (max length={})",
                    f.label, f.length
                ),
            )
            .on(name),
        );
    }
    match f.kind.as_str() {
        "email" if !is_valid_email(t) => Some(
            SfErr::new(
                "INVALID_EMAIL_ADDRESS",
                format!("{}: invalid email address: {t}", f.label),
            )
            .on(name),
        ),
        "picklist" if !f.picklist.iter().any(|p| p.active && p.value == t) => Some(
            SfErr::new(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                format!("{}: bad value for restricted picklist field: {t}", f.label),
            )
            .on(name),
        ),
        "reference" if !looks_like_id(t) => Some(
            SfErr::new(
                "MALFORMED_ID",
                format!("{}: id value of incorrect type: {t}", f.label),
            )
            .on(name),
        ),
        "datetime" if parse_datetime(t).is_none() => Some(
            SfErr::new(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                format!("{}: value not of required type: {t}", f.label),
            )
            .on(name),
        ),
        "boolean" if t != "true" && t != "false" => Some(
            SfErr::new(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                format!("{}: value not of required type: {t}", f.label),
            )
            .on(name),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_18_characters_with_the_case_safe_suffix() {
        assert_eq!(make_id("005", 1), DEFAULT_OWNER);
        let lead = make_id("00Q", 42);
        assert_eq!(lead.len(), 18);
        // "00Q00" has an upper-case letter at position 2: bit 2 → 'E'.
        assert_eq!(&lead[15..], "EAA");
        assert_eq!(id_seq(&lead), Some(42));
    }

    #[test]
    fn times_render_like_salesforce() {
        let t = parse_datetime("2026-12-01T08:15:30Z").unwrap();
        assert_eq!(sf_time(t), "2026-12-01T08:15:30.000+0000");
        assert_eq!(parse_datetime("2026-12-01T08:15:30.000+0000"), Some(t));
    }
}
