//! All stored CRM data, behind one lock, plus the hooks that mirror writes into
//! the optional state file.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::api::dynamics::model::{Contact as DvContact, DynamicsData};
use crate::api::hubspot::model::{HsObject, HubSpotData, ObjectType, PropertyDef};
use crate::api::rest::model::{
    self as rest_model, CustomField, Customer, IdempotentReply, Tombstone,
};
use crate::api::salesforce::model::{
    FieldDef as SfFieldDef, SObject, SalesforceData, SfRecord, DEFAULT_VERSION as SF_VERSION,
    KEY_FIELD as SF_KEY_FIELD,
};
use crate::api::zoho::model::{
    Deleted as ZDeleted, FieldDef as ZFieldDef, Module as ZModule, ModuleState as ZModuleState,
    ZRecord, ZohoData, KEY_FIELD as ZOHO_KEY_FIELD,
};
use crate::error::Error;
use crate::persist::{Op, StoredRow, Writer};

pub const REST_KIND: &str = "rest_customer";
/// A deleted REST customer's tombstone, by key.
pub const REST_TOMBSTONE_KIND: &str = "rest_tombstone";
/// A custom field definition of the REST API.
pub const REST_FIELD_KIND: &str = "rest_field";

/// A Salesforce record (Contact or Lead, in the recycle bin too), by id.
pub const SALESFORCE_KIND: &str = "salesforce_record";

/// A Dataverse contact row, by id (tombstones for change tracking are memory only).
pub const DYNAMICS_KIND: &str = "dynamics_contact";
/// The Dataverse row-version counter (written when a row is deleted).
pub const DYNAMICS_VERSION_KIND: &str = "dynamics_version";

/// A live Zoho record (Contacts or Leads), by id.
pub const ZOHO_KIND: &str = "zoho_record";
/// A Zoho record in the recycle bin, by id.
pub const ZOHO_DELETED_KIND: &str = "zoho_deleted";
/// A Zoho module's field definitions (all of them), by module name.
pub const ZOHO_FIELDS_KIND: &str = "zoho_fields";
/// A Zoho module's permissions, by module name.
pub const ZOHO_MODULE_KIND: &str = "zoho_module";

/// Generic REST data.
#[derive(Debug, Default)]
pub struct RestData {
    pub customers: HashMap<String, Customer>,
    pub next_id: u64,
    /// Replies by `Idempotency-Key` (memory only: a restart forgets them).
    pub idempotency: HashMap<String, IdempotentReply>,
    /// Fields an admin added, by name (none by default).
    pub custom_fields: BTreeMap<String, CustomField>,
    /// Deleted customers, by key (`GET /customers/deleted`).
    pub tombstones: HashMap<String, Tombstone>,
}

/// One record as `GET /records` and [`crate::Emulator::records`] show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// `rest`, `hubspot`, `salesforce`, `dynamics` or `zoho` (records in the recycle bin are left out).
    pub api: String,
    /// `customers`, `contacts`, `companies`, `Contact`, `Lead`, `Contacts`, `Leads`.
    pub object: String,
    /// The server-assigned id.
    pub id: String,
    /// The Outpost key the record was upserted by, if any.
    pub key: Option<String>,
    /// The record as the API renders it.
    pub record: Value,
}

#[derive(Debug)]
pub struct Store {
    pub rest: RestData,
    pub hubspot: HubSpotData,
    pub salesforce: SalesforceData,
    pub dynamics: DynamicsData,
    pub zoho: ZohoData,
    unique_property: Option<String>,
    writer: Option<Writer>,
}

impl Store {
    pub fn new(unique_property: Option<String>) -> Self {
        Store {
            rest: RestData {
                next_id: 1,
                ..RestData::default()
            },
            hubspot: HubSpotData::new(unique_property.as_deref()),
            salesforce: SalesforceData::default(),
            dynamics: DynamicsData::default(),
            zoho: ZohoData::default(),
            unique_property,
            writer: None,
        }
    }

    /// Rebuilds the store from a state file's rows; a fresh file gets the defaults.
    pub fn load(
        unique_property: Option<String>,
        writer: Writer,
        rows: Vec<StoredRow>,
    ) -> Result<Self, Error> {
        let mut store = Store::new(unique_property);
        let fresh = rows.is_empty();
        let mut loaded_props: HashSet<ObjectType> = HashSet::new();
        let mut loaded_fields: HashSet<SObject> = HashSet::new();
        for row in rows {
            let corrupt = |source| Error::CorruptRow {
                kind: row.kind.clone(),
                id: row.id.clone(),
                source,
            };
            if row.kind == REST_KIND {
                let c: Customer = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.rest.next_id = store.rest.next_id.max(c.seq() + 1);
                store.rest.customers.insert(c.key.clone(), c);
                continue;
            }
            if row.kind == REST_TOMBSTONE_KIND {
                let t: Tombstone = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.rest.tombstones.insert(t.key.clone(), t);
                continue;
            }
            if row.kind == REST_FIELD_KIND {
                let f: CustomField = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.rest.custom_fields.insert(f.name.clone(), f);
                continue;
            }
            if row.kind == DYNAMICS_VERSION_KIND {
                let v: u64 = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.dynamics.version = store.dynamics.version.max(v);
                continue;
            }
            if row.kind == DYNAMICS_KIND {
                let c: DvContact = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.dynamics.version = store.dynamics.version.max(c.version);
                store.dynamics.put(c);
                continue;
            }
            if row.kind == ZOHO_KIND {
                let r: ZRecord = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.zoho.next_id = store.zoho.next_id.max(r.id + 1);
                store.zoho.put(r);
                continue;
            }
            if row.kind == ZOHO_DELETED_KIND {
                let d: ZDeleted = serde_json::from_str(&row.body).map_err(corrupt)?;
                store.zoho.next_id = store.zoho.next_id.max(d.id + 1);
                store.zoho.deleted.insert(d.id, d);
                continue;
            }
            if row.kind == ZOHO_FIELDS_KIND || row.kind == ZOHO_MODULE_KIND {
                let m = ZModule::from_name(&row.id).ok_or_else(|| Error::CorruptRow {
                    kind: row.kind.clone(),
                    id: row.id.clone(),
                    source: <serde_json::Error as serde::de::Error>::custom("unknown Zoho module"),
                })?;
                if row.kind == ZOHO_FIELDS_KIND {
                    let f: Vec<ZFieldDef> = serde_json::from_str(&row.body).map_err(corrupt)?;
                    store.zoho.fields.insert(m, f);
                } else {
                    let st: ZModuleState = serde_json::from_str(&row.body).map_err(corrupt)?;
                    store.zoho.modules.insert(m, st);
                }
                continue;
            }
            if row.kind == SALESFORCE_KIND {
                let r: SfRecord = serde_json::from_str(&row.body).map_err(corrupt)?;
                let seq = crate::api::salesforce::model::id_seq(&r.id).unwrap_or(0);
                store.salesforce.next_id = store.salesforce.next_id.max(seq + 1);
                store.salesforce.put(r);
                continue;
            }
            if let Some(o) = SObject::ALL
                .into_iter()
                .find(|o| o.field_kind() == row.kind)
            {
                let f: SfFieldDef = serde_json::from_str(&row.body).map_err(corrupt)?;
                let def = store.salesforce.defs.get_mut(&o).expect("every object");
                // Saved definitions replace the defaults (a removed one stays removed).
                if loaded_fields.insert(o) {
                    def.fields.clear();
                }
                def.fields.push(f);
                def.fields.sort_by_key(|f| f.position);
                continue;
            }
            for ty in ObjectType::ALL {
                if row.kind == ty.object_kind() {
                    let o: HsObject = serde_json::from_str(&row.body).map_err(corrupt)?;
                    store.hubspot.next_id = store.hubspot.next_id.max(o.id + 1);
                    store.hubspot.table_mut(ty).insert(o);
                } else if row.kind == ty.property_kind() {
                    let p: PropertyDef = serde_json::from_str(&row.body).map_err(corrupt)?;
                    let table = store.hubspot.table_mut(ty);
                    // Saved definitions replace the defaults (a removed one stays removed).
                    if loaded_props.insert(ty) {
                        table.properties.clear();
                    }
                    table.properties.insert(p.name.clone(), p);
                }
            }
        }
        store.writer = Some(writer);
        if fresh {
            store.persist_properties();
        }
        Ok(store)
    }

    fn persist_properties(&self) {
        for ty in ObjectType::ALL {
            for p in self.hubspot.table(ty).properties.values() {
                self.put(ty.property_kind(), &p.name, p);
            }
        }
        for o in SObject::ALL {
            self.persist_salesforce_fields(o);
        }
        for m in ZModule::ALL {
            self.persist_zoho_module(m);
        }
    }

    /// Rewrites one Zoho module's field definitions and permissions in the state file.
    pub fn persist_zoho_module(&self, m: ZModule) {
        self.put(ZOHO_FIELDS_KIND, m.name(), &self.zoho.fields[&m]);
        self.put(ZOHO_MODULE_KIND, m.name(), &self.zoho.modules[&m]);
    }

    /// Rewrites one Salesforce object's field definitions in the state file.
    pub fn persist_salesforce_fields(&self, o: SObject) {
        for f in &self.salesforce.def(o).fields {
            self.put(o.field_kind(), &f.name, f);
        }
    }

    /// Mirrors a record write into the state file (no-op in memory mode).
    pub fn put<T: Serialize>(&self, kind: &str, id: &str, value: &T) {
        if let Some(w) = &self.writer {
            let body = serde_json::to_string(value).expect("records serialize");
            w.send(Op::Put(StoredRow {
                kind: kind.to_string(),
                id: id.to_string(),
                body,
            }));
        }
    }

    pub fn delete(&self, kind: &str, id: &str) {
        if let Some(w) = &self.writer {
            w.send(Op::Delete {
                kind: kind.to_string(),
                id: id.to_string(),
            });
        }
    }

    /// A receiver that fires once all writes queued so far are on disk.
    pub fn barrier(&self) -> Option<oneshot::Receiver<()>> {
        let w = self.writer.as_ref()?;
        let (tx, rx) = oneshot::channel();
        w.send(Op::Barrier(tx));
        Some(rx)
    }

    /// Forgets every record and restores the default property definitions.
    pub fn clear(&mut self) {
        let writer = self.writer.take();
        *self = Store::new(self.unique_property.take());
        self.writer = writer;
        if let Some(w) = &self.writer {
            w.send(Op::Clear);
        }
        self.persist_properties();
    }

    /// Deletes a REST customer, leaving a tombstone. `false`: no such key.
    pub fn delete_rest_customer(&mut self, key: &str) -> bool {
        let Some(c) = self.rest.customers.remove(key) else {
            return false;
        };
        self.delete(REST_KIND, key);
        let t = Tombstone {
            key: c.key,
            id: c.id,
            deleted_at: rest_model::now(),
        };
        self.put(REST_TOMBSTONE_KIND, key, &t);
        self.rest.tombstones.insert(key.to_string(), t);
        true
    }

    /// A key created again is no longer deleted.
    pub fn forget_rest_tombstone(&mut self, key: &str) {
        if self.rest.tombstones.remove(key).is_some() {
            self.delete(REST_TOMBSTONE_KIND, key);
        }
    }

    pub fn take_writer(&mut self) -> Option<Writer> {
        self.writer.take()
    }

    pub fn records(&self) -> Vec<StoredRecord> {
        let mut out: Vec<StoredRecord> = self
            .rest
            .customers
            .values()
            .map(|c| StoredRecord {
                api: "rest".into(),
                object: "customers".into(),
                id: c.id.clone(),
                key: Some(c.key.clone()),
                record: serde_json::to_value(c).expect("customers serialize"),
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        for ty in ObjectType::ALL {
            for o in self.hubspot.table(ty).objects.values() {
                let all: Vec<String> = o.properties.keys().cloned().collect();
                out.push(StoredRecord {
                    api: "hubspot".into(),
                    object: ty.path().into(),
                    id: o.id.to_string(),
                    key: self
                        .unique_property
                        .as_ref()
                        .and_then(|p| o.properties.get(p).cloned()),
                    record: o.render(ty, Some(&all)),
                });
            }
        }
        for r in self.salesforce.records().filter(|r| r.deleted.is_none()) {
            out.push(StoredRecord {
                api: "salesforce".into(),
                object: r.object.name().into(),
                id: r.id.clone(),
                key: r.values.get(SF_KEY_FIELD).cloned(),
                record: r.render(self.salesforce.def(r.object), None, SF_VERSION),
            });
        }
        let mut dv: Vec<&DvContact> = self.dynamics.contacts.values().collect();
        dv.sort_by(|a, b| a.id.cmp(&b.id));
        for c in dv {
            out.push(StoredRecord {
                api: "dynamics".into(),
                object: "contacts".into(),
                id: c.id.clone(),
                key: c.key().map(str::to_string),
                record: c.render(None),
            });
        }
        for r in self.zoho.records() {
            out.push(StoredRecord {
                api: "zoho".into(),
                object: r.module.name().into(),
                id: r.id.to_string(),
                key: r
                    .values
                    .get(ZOHO_KEY_FIELD)
                    .and_then(Value::as_str)
                    .map(str::to_string),
                record: r.render(self.zoho.fields(r.module), None),
            });
        }
        out
    }
}
