//! What every CRM connector provides. The sync engine only talks to CRMs
//! through this trait, so a new CRM is one new implementation.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::error::{ConnectorError, RecordError};
use crate::crm::field_check::FieldList;
use crate::crm::form::CrmForm;
use crate::customer::{Customer, CustomerFields, CustomerId, FieldSet};
use crate::keys::KeyGenerator;
use crate::outbox::UpdatePayload;

/// A request budget the CRM enforces: at most `requests` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub requests: u32,
    pub per: Duration,
}

/// The window an admin's `rate_limit` counts over when the settings name none.
pub const DEFAULT_RATE_WINDOW_SECS: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Most records one request may carry.
    pub max_batch: usize,
    /// Requests of `max_batch` records one `upsert_batch` call may send at
    /// once: a delivery round carries `max_batch × requests_at_once`
    /// messages (1 for a CRM that limits requests per window; Zoho, which
    /// limits requests in flight, sends one per concurrency slot).
    pub requests_at_once: usize,
    /// True when the CRM can create-or-update by Outpost's key in one request,
    /// making every retry safe. When false the connector looks the key up first.
    pub upsert_by_external_id: bool,
    /// The CRM's documented limit, used by the throttle unless an admin sets one.
    pub rate_limit: Option<RateLimit>,
    /// True when [`CrmConnector::update`] delivers `customer.update`
    /// messages. Until a connector does, its updates stay pending.
    pub updates: bool,
}

/// The outcome for one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The CRM holds the customer under this id (created now or earlier).
    Delivered {
        crm_id: String,
        /// The CRM's version of the record after the write, where its API
        /// returns one (the next update's precondition).
        version: Option<String>,
    },
    /// The CRM refused this record; the others are unaffected.
    Rejected(RecordError),
    /// The request carrying this record failed as a whole (connectors that
    /// send one request per record report such failures per record).
    Failed(ConnectorError),
}

/// The remote call that carried a record, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    /// HTTP status, when a response came back.
    pub status: Option<u16>,
    pub duration: Duration,
    /// The CRM's correlation / request id, when it sends one.
    pub request_id: Option<String>,
}

/// One record's result, in the order the batch was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub outcome: RecordOutcome,
    pub call: CallInfo,
}

/// A CRM's request budget as its answers say (Salesforce's daily API
/// requests) and this device's share of it: what the Sync screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApiBudget {
    /// Requests the CRM counts as used and allowed in its window, as its
    /// last answer said; `None` before one did.
    #[ts(type = "number | null")]
    pub org_used: Option<u64>,
    #[ts(type = "number | null")]
    pub org_max: Option<u64>,
    /// What the CRM said is left of its budget, for a CRM that tells only
    /// that (Zoho's `X-API-CREDITS-REMAINING`, sent once half is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number", optional)]
    pub org_left: Option<u64>,
    /// This device's requests in the window, and the admin's cap.
    #[ts(type = "number")]
    pub device_used: u64,
    pub device_cap: Option<u32>,
}

/// A device's requests to one CRM per UTC hour (the hour's start in Unix
/// seconds, ascending), for CRMs that cap a device's share of their budget;
/// the store keeps it so a restart goes on counting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceUsage {
    pub hours: Vec<(i64, u32)>,
}

impl DeviceUsage {
    /// Requests in all its hours.
    pub fn total(&self) -> u32 {
        self.hours.iter().map(|(_, n)| n).sum()
    }

    pub fn add(&mut self, hour: i64, requests: u32) {
        match self.hours.iter_mut().find(|(h, _)| *h == hour) {
            Some(entry) => entry.1 += requests,
            None => {
                self.hours.push((hour, requests));
                self.hours.sort_unstable();
            }
        }
    }
}

/// A customer to deliver, with what the outbox knows about earlier tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub customer: Customer,
    /// How many times this message was sent before. More than zero means an
    /// earlier send may have reached the CRM even though no answer came back:
    /// a connector without upsert must look the key up before creating.
    pub earlier_attempts: u32,
}

/// A customer as a CRM returned it (search, get, incremental listing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCustomer {
    pub crm_id: String,
    /// Outpost's key when the record was created by Outpost (or carries it).
    pub key: Option<CustomerId>,
    /// The values of the fields in `received`; the others are `None`.
    #[serde(flatten)]
    pub fields: CustomerFields,
    /// The fields the connector's map reads from this CRM: a `None` among
    /// them means the CRM holds no value; the others the CRM never sends.
    pub received: FieldSet,
    pub updated_at: Option<DateTime<Utc>>,
    /// The CRM's version token of the record (a version, etag or
    /// modification stamp), where its API gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Which of the CRM's customers the working set keeps, besides the time
/// window. Connectors filter on the CRM's side where its API can.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullFilter {
    /// Only customers in this country (the CRM's value, e.g. "DE").
    pub country: Option<String>,
    /// Only customers owned by this CRM user (HubSpot: `hubspot_owner_id`).
    pub owner: Option<String>,
}

/// One page of an incremental listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<RemoteCustomer>,
    /// Pass back to continue; `None` when the listing is complete.
    pub next: Option<String>,
}

/// A record the CRM deleted (or archived), as its deletions listing gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedRecord {
    pub crm_id: String,
    /// Outpost's key, when the CRM still knows it.
    pub key: Option<CustomerId>,
    pub deleted_at: DateTime<Utc>,
}

/// One page of a deletions listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedPage {
    pub items: Vec<DeletedRecord>,
    /// Pass back to continue; `None` when the listing is complete.
    pub next: Option<String>,
    /// With `next: None`: where the next listing starts, for a CRM that
    /// hands out its own resume point (Dataverse's delta link). Kept with
    /// the pull's state, so a restart does not lose the deletions made
    /// while Outpost was closed; passed back as the next listing's cursor.
    pub resume: Option<String>,
}

/// A `customer.update` to deliver: the customer as stored now (its key and
/// CRM id) and the changed fields with their bases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingUpdate {
    pub customer: Customer,
    pub change: UpdatePayload,
    /// How many times this message was sent before.
    pub earlier_attempts: u32,
}

/// A field the CRM changed to a third value meanwhile: the CRM's value
/// stays, ours is kept beside it for a person to decide. Fields are named
/// as in the payload (Outpost's field name, or the attribute's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
    pub base: Option<String>,
}

/// What an update came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Every field is settled: written, already at our value, or in
    /// `conflicts`. `version` is the CRM's version of the record now.
    Applied {
        version: Option<String>,
        conflicts: Vec<FieldConflict>,
    },
    /// The CRM refused the update (a person must look at it).
    Rejected(RecordError),
    /// Not delivered this time (unreachable, 5xx, precondition lost too often).
    Failed(ConnectorError),
}

/// One field's decision in the read-compare-write merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMerge {
    /// The CRM still holds the base: send ours.
    Send,
    /// The CRM already holds ours: nothing to send.
    Settled,
    /// The CRM holds a third value: keep it, report ours.
    Conflict,
}

/// The per-field rule every connector applies, in whichever form (the
/// CRM's or Outpost's) it compares: a device clock never decides.
pub fn merge_field(base: Option<&str>, ours: Option<&str>, theirs: Option<&str>) -> FieldMerge {
    merge_field_by(base, ours, theirs, &|a, b| a == b)
}

/// [`merge_field`] with the field's own notion of the same value (an
/// email's case, a phone's spacing). An empty text and no value are the
/// same to a CRM.
pub fn merge_field_by(
    base: Option<&str>,
    ours: Option<&str>,
    theirs: Option<&str>,
    same: &dyn Fn(&str, &str) -> bool,
) -> FieldMerge {
    fn blank(v: Option<&str>) -> Option<&str> {
        v.filter(|s| !s.trim().is_empty())
    }
    let eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    };
    let (base, ours, theirs) = (blank(base), blank(ours), blank(theirs));
    if eq(theirs, ours) {
        FieldMerge::Settled
    } else if eq(theirs, base) {
        FieldMerge::Send
    } else {
        FieldMerge::Conflict
    }
}

#[async_trait]
pub trait CrmConnector: Send + Sync + 'static {
    /// The kind, for logs and the audit table ("generic-rest", "hubspot", ...).
    fn kind(&self) -> &'static str;

    fn capabilities(&self) -> Capabilities;

    /// A cheap authenticated request proving the CRM is reachable and accepts
    /// our credentials.
    async fn probe(&self) -> Result<(), ConnectorError>;

    /// Creates or updates each customer keyed by its Outpost key. A batch-wide
    /// failure (unreachable, 5xx, 429, credentials) is an `Err`; per-record
    /// refusals are `Ok` with `Rejected` entries, one `Delivery` per input in
    /// input order. Must be safe to repeat.
    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError>;

    /// Delivers one `customer.update` with the CRM's precondition (or a
    /// read-compare-write where it has none), merging per field with
    /// [`merge_field`]. Only called when `capabilities().updates`.
    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        let _ = update;
        UpdateOutcome::Failed(ConnectorError::Protocol(format!(
            "{} does not deliver updates yet",
            self.kind()
        )))
    }

    /// Delivers several updates, one outcome each in input order. A CRM
    /// with batch reads and writes overrides it (HubSpot); the default
    /// sends them one by one.
    async fn update_batch(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        let mut out = Vec::with_capacity(updates.len());
        for u in updates {
            out.push(self.update(u).await);
        }
        out
    }

    /// The CRM's record for an Outpost key, if there is one.
    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError>;

    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError>;

    /// Records changed since `since` that pass `filter`, one page at a time
    /// (`cursor` from the previous page). Used by the working-set pull.
    async fn list_modified_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError>;

    /// Records deleted (or archived) in the CRM since `since`, one page at
    /// a time; the pull runs it after each complete pass. `Ok(None)`: this
    /// CRM cannot list deletions (the default), so a deleted record is only
    /// noticed when an update of it finds it gone.
    async fn list_deleted_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        let _ = (since, cursor);
        Ok(None)
    }

    /// What works but is limited, in words for "Test connection" (Dynamics:
    /// change tracking off, so deletions are not seen); none by default.
    async fn setup_notes(&self) -> Result<Vec<String>, ConnectorError> {
        Ok(Vec::new())
    }

    /// What the CRM's creation form needs (required fields, option lists,
    /// CRM-specific fields); `None` when the CRM publishes nothing.
    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        Ok(None)
    }

    /// The CRM's customer fields (name, type, writable), against which the
    /// core checks the endpoint's field map (`crm::field_check`); `None`
    /// when the CRM does not list them.
    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(None)
    }

    /// The CRM's request budget as its answers said, for CRMs that count
    /// one (Salesforce); `None` for the others.
    fn api_budget(&self) -> Option<ApiBudget> {
        None
    }

    /// This device's requests per hour, for CRMs that cap a device's share
    /// of their budget (Salesforce's `daily_request_cap`); `None` for the
    /// others.
    fn device_usage(&self) -> Option<DeviceUsage> {
        None
    }

    /// What earlier processes on this device sent ([`Self::device_usage`]
    /// as the store kept it), counted against the cap from now on.
    fn restore_device_usage(&self, usage: &DeviceUsage) {
        let _ = usage;
    }

    /// A CRM that needs keys in its own format supplies its generator.
    fn key_generator(&self) -> Option<Arc<dyn KeyGenerator>> {
        None
    }
}
