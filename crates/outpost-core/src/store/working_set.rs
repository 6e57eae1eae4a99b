//! The working set: customers received from the CRM (pulled, or found by an
//! online lookup), reconciled with the ones created here, and the bookkeeping
//! of the incremental pull.
//!
//! Reconciliation rules, per received record:
//! - it carries Outpost's key of a local customer: the same customer. Link it
//!   (CRM id, synced). If this device still has an unsent change, the local
//!   version stands and the CRM's is kept beside it (`crm_version`) until the
//!   change is delivered; if the unsent message is a creation the CRM already
//!   holds unchanged (an earlier attempt's answer was lost), it is marked sent.
//! - else it has a CRM id already stored: update that customer (same rule).
//! - else it is new here: stored as a synced customer of origin `crm`, under
//!   its Outpost key if it has one (created by another Outpost), or a new key.
//!
//! A page of records and the pull's cursor are committed in one transaction,
//! so a crash or a lost connection resumes exactly at the first page that was
//! not stored.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;
use ts_rs::TS;

use super::customers::{self, Provenance};
use super::{outbox, time, CustomerChange, Store, StoreEvent};
use crate::crm::connector::RemoteCustomer;
use crate::customer::validation::{self, ValidCustomer};
use crate::customer::{
    CrmVersion, Customer, CustomerFields, CustomerId, Field, FieldSet, FieldType,
};
use crate::error::{Error, Result};
use crate::outbox::{OutboxState, UpdatePayload, KIND_CUSTOMER_UPDATE};

/// Where the incremental pull of one endpoint stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullState {
    /// The current (or next) pass lists what changed since this CRM time.
    pub since: Option<DateTime<Utc>>,
    /// Inside a pass: the connector's cursor for the next page.
    pub cursor: Option<String>,
    pub pass_newest: Option<DateTime<Utc>>,
    pub pass_fetched: u64,
    /// Set while a pass is under way (also after a crash mid-pass).
    pub pass_started_at: Option<DateTime<Utc>>,
    pub last_complete_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Whether the CRM's deletions reach this device; `None` before a
    /// pull listed them (or found it cannot).
    pub deletions_listed: Option<bool>,
}

impl PullState {
    pub fn in_pass(&self) -> bool {
        self.pass_started_at.is_some()
    }
}

/// Records of a pulled page stored per write transaction.
const PAGE_CHUNK: usize = 50;

/// The page's last chunk (stored with the cursor) and the records before it.
fn split_last_chunk(items: &[RemoteCustomer]) -> (&[RemoteCustomer], &[RemoteCustomer]) {
    let cut = items.len().saturating_sub(1) / PAGE_CHUNK * PAGE_CHUNK;
    let (earlier, last) = items.split_at(cut);
    (last, earlier)
}

/// What one batch of received records did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// New customers (created in the CRM or by another device).
    pub inserted: u64,
    /// Existing customers updated from the CRM.
    pub updated: u64,
    /// Unchanged since the last time they were received.
    pub unchanged: u64,
    /// Local creations found in the CRM: linked, their message marked sent.
    pub linked: u64,
    /// Changed in the CRM while this device has an unsent change.
    pub conflicts: u64,
}

impl Reconciled {
    fn add(&mut self, other: &Reconciled) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.linked += other.linked;
        self.conflicts += other.conflicts;
    }
}

/// For the status bar and `outpost pull`: how big and how fresh the working set is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct WorkingSet {
    /// Every customer on this device (created here or received).
    #[ts(type = "number")]
    pub total_local: u64,
    /// When the last complete pull finished (RFC 3339), if ever.
    pub updated_at: Option<String>,
    /// Records stored by the pass under way, when one is.
    #[ts(type = "number | null")]
    pub pulling: Option<u64>,
    pub last_error: Option<String>,
    /// Whether the primary endpoint keeps its customers on this device (its
    /// `pull_enabled` setting, and a CRM that can list them).
    pub pull_enabled: bool,
    /// Whether customers deleted in the CRM leave this device: `false`
    /// when the last pull found the CRM cannot list its deletions
    /// (BottleCRM; Dynamics 365 with change tracking off), `null` before a
    /// pull got that far.
    pub deletions_seen: Option<bool>,
}

impl Store {
    pub async fn pull_state(&self, endpoint: &str) -> Result<PullState> {
        let row: Option<PullRow> = sqlx::query_as(
            "SELECT since, cursor, pass_newest, pass_fetched, pass_started_at, last_complete_at, last_error,
                    deletions_listed
             FROM pull_state WHERE endpoint = ?1",
        )
        .bind(endpoint)
        .fetch_optional(&self.pool)
        .await?;
        row.map(PullRow::into_state)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Starts a pass listing what changed since `since`.
    pub async fn begin_pull_pass(
        &self,
        endpoint: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO pull_state (endpoint, since, pass_started_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (endpoint) DO UPDATE SET
               since = excluded.since, cursor = NULL, pass_newest = NULL, pass_fetched = 0,
               pass_started_at = excluded.pass_started_at",
        )
        .bind(endpoint)
        .bind(since.map(time::to_db))
        .bind(time::to_db(time::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::WorkingSetChanged);
        Ok(())
    }

    /// Stores one page of a pull pass and moves the pass's cursor past it,
    /// in one transaction. `next` is the cursor of the following page.
    pub async fn store_pulled_page(
        &self,
        endpoint: &str,
        items: &[RemoteCustomer],
        next: Option<&str>,
    ) -> Result<Reconciled> {
        let now = time::now();
        let (last, earlier) = split_last_chunk(items);
        let mut total = Reconciled::default();
        // The page goes in short transactions, so a create at the till never
        // waits for more than a few dozen records; the cursor moves with the
        // last one. A crash in between re-reads this page on resume, and its
        // records reconcile to themselves.
        for chunk in earlier.chunks(PAGE_CHUNK) {
            let mut tx = self.write_tx().await?;
            let (stats, outcomes) = self.reconcile_all(&mut tx, chunk, now).await?;
            tx.commit().await?;
            self.announce(&outcomes, &stats);
            total.add(&stats);
        }
        let mut tx = self.write_tx().await?;
        let (stats, outcomes) = self.reconcile_all(&mut tx, last, now).await?;
        total.add(&stats);
        let newest = items.iter().filter_map(|r| r.updated_at).max();
        sqlx::query(
            "INSERT INTO pull_state (endpoint, cursor, pass_newest, pass_fetched, pass_started_at, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)
             ON CONFLICT (endpoint) DO UPDATE SET
               cursor = excluded.cursor,
               pass_newest = max(coalesce(pass_newest, ''), coalesce(excluded.pass_newest, '')),
               pass_fetched = pass_fetched + excluded.pass_fetched,
               pass_started_at = coalesce(pass_started_at, excluded.pass_started_at),
               last_error = NULL",
        )
        .bind(endpoint)
        .bind(next)
        .bind(newest.map(time::to_db))
        .bind(items.len() as i64)
        .bind(time::to_db(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce(&outcomes, &stats);
        Ok(total)
    }

    /// Ends a pass: the next one lists what changed since the newest record
    /// this one saw, minus `overlap` (a CRM's search index can show a change
    /// a little after its timestamp; records seen twice are harmless).
    pub async fn finish_pull_pass(&self, endpoint: &str, overlap: Duration) -> Result<()> {
        let state = self.pull_state(endpoint).await?;
        let overlap = chrono::Duration::from_std(overlap).unwrap_or_default();
        let since = match (state.pass_newest, state.since) {
            (Some(newest), Some(since)) => Some((newest - overlap).max(since)),
            (Some(newest), None) => Some(newest - overlap),
            (None, since) => since,
        };
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO pull_state (endpoint, since, last_complete_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (endpoint) DO UPDATE SET
               since = excluded.since, cursor = NULL, pass_newest = NULL, pass_fetched = 0,
               pass_started_at = NULL, last_complete_at = excluded.last_complete_at, last_error = NULL",
        )
        .bind(endpoint)
        .bind(since.map(time::to_db))
        .bind(time::to_db(time::now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::WorkingSetChanged);
        Ok(())
    }

    /// Forgets a pass's cursor (the CRM no longer accepts it): the pass
    /// starts again from its `since`, nothing stored is lost.
    pub async fn restart_pull_pass(&self, endpoint: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE pull_state SET cursor = NULL WHERE endpoint = ?1")
            .bind(endpoint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn record_pull_error(&self, endpoint: &str, error: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO pull_state (endpoint, last_error) VALUES (?1, ?2)
             ON CONFLICT (endpoint) DO UPDATE SET last_error = excluded.last_error",
        )
        .bind(endpoint)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::WorkingSetChanged);
        Ok(())
    }

    /// Stores records an online lookup returned, so they are found offline
    /// later; returns them as stored, in the order given.
    pub async fn cache_remote(&self, items: &[RemoteCustomer]) -> Result<Vec<Customer>> {
        let now = time::now();
        let mut tx = self.write_tx().await?;
        let (stats, outcomes) = self.reconcile_all(&mut tx, items, now).await?;
        let mut stored = Vec::with_capacity(outcomes.len());
        for (id, _) in &outcomes {
            if let Some(c) = customers::get(&mut *tx, *id).await? {
                stored.push(c);
            }
        }
        tx.commit().await?;
        self.announce(&outcomes, &stats);
        Ok(stored)
    }

    pub async fn working_set(&self, endpoint: Option<&str>) -> Result<WorkingSet> {
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
            .fetch_one(&self.pool)
            .await?;
        let state = match endpoint {
            Some(e) => self.pull_state(e).await?,
            None => PullState::default(),
        };
        Ok(WorkingSet {
            total_local: total as u64,
            updated_at: state.last_complete_at.map(|t| t.to_rfc3339()),
            pulling: state.in_pass().then_some(state.pass_fetched),
            last_error: state.last_error,
            // The engine, which knows whether a puller runs, says.
            pull_enabled: false,
            deletions_seen: state.deletions_listed,
        })
    }

    /// Reconciles every record; returns the stats and the local key of each
    /// record with what became of it, in input order.
    async fn reconcile_all(
        &self,
        conn: &mut SqliteConnection,
        items: &[RemoteCustomer],
        now: DateTime<Utc>,
    ) -> Result<(Reconciled, Vec<(CustomerId, Outcome)>)> {
        let mut stats = Reconciled::default();
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let outcome = self.reconcile(conn, item, now).await?;
            outcome.1.count(&mut stats);
            outcomes.push(outcome);
        }
        Ok((stats, outcomes))
    }

    async fn reconcile(
        &self,
        conn: &mut SqliteConnection,
        item: &RemoteCustomer,
        now: DateTime<Utc>,
    ) -> Result<(CustomerId, Outcome)> {
        let remote = validation::from_remote(item, self.default_region());
        let remote_updated = item
            .updated_at
            .map(|t| time::from_db(&time::to_db(t)))
            .transpose()?;
        let Some(local) = find_local(conn, item).await? else {
            let id = match item.key {
                Some(k) => k,
                None => self.keys.generate(),
            };
            let from = Provenance {
                crm_id: Some(item.crm_id.clone()),
                crm_updated_at: remote_updated,
            };
            customers::insert(conn, id, &remote, now, from).await?;
            set_version_tag(conn, id, item.version.as_deref()).await?;
            return Ok((id, Outcome::Inserted));
        };
        let id = local.id;
        if local.crm_id.as_deref() == Some(item.crm_id.as_str())
            && local.crm_updated_at.is_some()
            && local.crm_updated_at == remote_updated
        {
            return Ok((id, Outcome::Unchanged));
        }
        let unsent = outbox::unsent_of(conn, id).await?;
        let same_fields = same_fields(&local, &remote, item.received);
        if unsent.is_empty() {
            let outcome = if !same_fields {
                let merged = overlay(&local, remote, item.received);
                customers::update(conn, id, &merged, now).await?;
                Outcome::Updated
            } else {
                Outcome::Unchanged
            };
            mark_synced(conn, id, &item.crm_id, remote_updated, None).await?;
            set_version_tag(conn, id, item.version.as_deref()).await?;
            return Ok((id, outcome));
        }
        if let Some(edited) = queued_edit_fields(conn, id).await? {
            return merge_with_queued_edits(
                conn,
                &local,
                remote,
                item,
                edited,
                remote_updated,
                now,
            )
            .await
            .map(|o| (id, o));
        }
        // This device has an unsent creation for the customer.
        let all_waiting = unsent
            .iter()
            .all(|(_, state)| *state != OutboxState::InFlight);
        if same_fields && all_waiting {
            // The CRM already holds exactly what the queue would send: an
            // earlier attempt arrived but its answer was lost.
            let messages: Vec<i64> = unsent.iter().map(|(m, _)| *m).collect();
            outbox::mark_sent(conn, &messages, now).await?;
            mark_synced(conn, id, &item.crm_id, remote_updated, None).await?;
            return Ok((id, Outcome::Linked));
        }
        let version = (!same_fields).then(|| crm_version(item));
        let outcome = if version.is_some() {
            Outcome::Conflict
        } else {
            Outcome::Unchanged
        };
        sqlx::query(
            "UPDATE customers SET crm_id = coalesce(crm_id, ?2), crm_updated_at = ?3, crm_version = ?4 WHERE id = ?1",
        )
        .bind(id.to_string())
        .bind(&item.crm_id)
        .bind(remote_updated.map(time::to_db))
        .bind(version.map(|v| serde_json::to_string(&v).expect("a version serializes")))
        .execute(&mut *conn)
        .await?;
        Ok((id, outcome))
    }

    /// One transaction's reconciled records: the customers whose fields came
    /// from the CRM, then those whose standing with it changed.
    fn announce(&self, outcomes: &[(CustomerId, Outcome)], stats: &Reconciled) {
        if stats.inserted + stats.updated + stats.linked + stats.conflicts == 0 {
            return;
        }
        let with = |wanted: &[Outcome]| -> Vec<CustomerId> {
            outcomes
                .iter()
                .filter(|(_, o)| wanted.contains(o))
                .map(|(id, _)| *id)
                .collect()
        };
        self.customers_changed(
            CustomerChange::Received,
            with(&[Outcome::Inserted, Outcome::Updated]),
        );
        self.customers_changed(
            CustomerChange::Synced,
            with(&[Outcome::Linked, Outcome::Conflict]),
        );
        if stats.linked > 0 {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        let _ = self.events.send(StoreEvent::WorkingSetChanged);
    }
}

/// What reconciling one received record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Inserted,
    Updated,
    Unchanged,
    Linked,
    Conflict,
}

impl Outcome {
    fn count(self, stats: &mut Reconciled) {
        match self {
            Outcome::Inserted => stats.inserted += 1,
            Outcome::Updated => stats.updated += 1,
            Outcome::Unchanged => stats.unchanged += 1,
            Outcome::Linked => stats.linked += 1,
            Outcome::Conflict => stats.conflicts += 1,
        }
    }
}

/// The local customer a received record is: by Outpost's key, else by CRM id.
async fn find_local(
    conn: &mut SqliteConnection,
    item: &RemoteCustomer,
) -> Result<Option<Customer>> {
    if let Some(key) = item.key {
        if let Some(c) = customers::get(&mut *conn, key).await? {
            return Ok(Some(c));
        }
    }
    customers::get_by_crm_id(conn, &item.crm_id).await
}

/// The CRM's version token, as the next update's precondition.
async fn set_version_tag(
    conn: &mut SqliteConnection,
    id: CustomerId,
    version: Option<&str>,
) -> Result<()> {
    if let Some(v) = version {
        sqlx::query("UPDATE customers SET crm_version_tag = ?2 WHERE id = ?1")
            .bind(id.to_string())
            .bind(v)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The fields this device's queued edits change, when every unsent
/// message of the customer is an edit (`None`: nothing unsent, or a
/// creation is among them).
async fn queued_edit_fields(
    conn: &mut SqliteConnection,
    id: CustomerId,
) -> Result<Option<FieldSet>> {
    let unsent = outbox::unsent_messages_of(conn, id).await?;
    if unsent.is_empty() || unsent.iter().any(|m| m.kind != KIND_CUSTOMER_UPDATE) {
        return Ok(None);
    }
    let mut fields = FieldSet::default();
    for m in &unsent {
        let change: UpdatePayload = serde_json::from_str(&m.payload)
            .map_err(|e| Error::Corrupt(format!("outbox {} payload: {e}", m.id)))?;
        for f in change.fields.keys() {
            fields.insert(*f);
        }
    }
    Ok(Some(fields))
}

/// A pulled record of a customer with unsent edits, field by field: a
/// field only the CRM changed takes the CRM's value; a field this device
/// edited keeps ours, and its delivery compares it with the CRM (the
/// read-compare-write or the precondition finds a conflict there), so
/// nothing is decided twice and no edit is overwritten here.
async fn merge_with_queued_edits(
    conn: &mut SqliteConnection,
    local: &Customer,
    remote: ValidCustomer,
    item: &RemoteCustomer,
    edited: FieldSet,
    remote_updated: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let theirs: FieldSet = item
        .received
        .iter()
        .filter(|f| !edited.contains(*f))
        .collect();
    let outcome = if same_fields(local, &remote, theirs) {
        Outcome::Unchanged
    } else {
        let merged = overlay(local, remote, theirs);
        customers::update(conn, local.id, &merged, now).await?;
        Outcome::Updated
    };
    sqlx::query(
        "UPDATE customers SET crm_id = coalesce(crm_id, ?2), crm_updated_at = ?3, crm_version = NULL WHERE id = ?1",
    )
    .bind(local.id.to_string())
    .bind(&item.crm_id)
    .bind(remote_updated.map(time::to_db))
    .execute(&mut *conn)
    .await?;
    set_version_tag(conn, local.id, item.version.as_deref()).await?;
    Ok(outcome)
}

async fn mark_synced(
    conn: &mut SqliteConnection,
    id: CustomerId,
    crm_id: &str,
    crm_updated_at: Option<DateTime<Utc>>,
    version: Option<&CrmVersion>,
) -> Result<()> {
    sqlx::query(
        "UPDATE customers SET crm_id = ?2, crm_updated_at = ?3, crm_version = ?4, sync_state = 'synced' WHERE id = ?1",
    )
    .bind(id.to_string())
    .bind(crm_id)
    .bind(crm_updated_at.map(time::to_db))
    .bind(version.map(|v| serde_json::to_string(v).expect("a version serializes")))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The fields a CRM record carries, compared after the same normalisation
/// (a phone by its digits, or as the same E.164 number: a CRM that was sent
/// "+491511234567" for a typed "0151 1234567" holds the same number).
fn same_fields(local: &Customer, remote: &ValidCustomer, received: FieldSet) -> bool {
    received.iter().all(|f| {
        if f.spec().kind == FieldType::Phone {
            digits(local.fields.get(f)) == remote.phone_digits || same_number(local, remote)
        } else {
            local.fields.get(f) == remote.fields.get(f)
        }
    })
}

fn same_number(local: &Customer, remote: &ValidCustomer) -> bool {
    local.phone_e164.is_some() && local.phone_e164 == remote.phone_e164
}

fn digits(phone: Option<&str>) -> Option<String> {
    phone
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| !d.is_empty())
}

/// The local customer with the CRM's values for the fields the CRM sent;
/// the fields it does not carry (street, notes...) keep the local value.
fn overlay(local: &Customer, remote: ValidCustomer, received: FieldSet) -> ValidCustomer {
    let mut merged = ValidCustomer {
        fields: local.fields.clone(),
        phone_digits: None,
        phone_e164: None,
        attributes: local.attributes.clone(),
    };
    let phone = Field::ALL
        .iter()
        .copied()
        .find(|f| f.spec().kind == FieldType::Phone);
    // The same number in the CRM's spelling keeps the clerk's typed form.
    let keep_typed = same_number(local, &remote);
    let received: FieldSet = received
        .iter()
        .filter(|&f| !(keep_typed && Some(f) == phone))
        .collect();
    for f in received.iter() {
        *merged.fields.slot(f) = remote.fields.get(f).map(str::to_owned);
    }
    (merged.phone_digits, merged.phone_e164) = match phone {
        Some(p) if received.contains(p) => (remote.phone_digits, remote.phone_e164),
        Some(p) => (digits(local.fields.get(p)), local.phone_e164.clone()),
        None => (None, None),
    };
    merged
}

fn crm_version(item: &RemoteCustomer) -> CrmVersion {
    let mut fields = CustomerFields::default();
    for f in item.received.iter() {
        *fields.slot(f) = item.fields.get(f).map(str::to_owned);
    }
    CrmVersion {
        fields,
        updated_at: item.updated_at.map(|t| t.to_rfc3339()),
    }
}

#[derive(sqlx::FromRow)]
struct PullRow {
    since: Option<String>,
    cursor: Option<String>,
    pass_newest: Option<String>,
    pass_fetched: i64,
    pass_started_at: Option<String>,
    last_complete_at: Option<String>,
    last_error: Option<String>,
    deletions_listed: Option<bool>,
}

impl PullRow {
    fn into_state(self) -> Result<PullState> {
        let t = |s: Option<String>| match s.filter(|s| !s.is_empty()) {
            Some(s) => time::from_db(&s).map(Some),
            None => Ok(None),
        };
        Ok(PullState {
            since: t(self.since)?,
            cursor: self.cursor,
            pass_newest: t(self.pass_newest)?,
            pass_fetched: self.pass_fetched.max(0) as u64,
            pass_started_at: t(self.pass_started_at)?,
            last_complete_at: t(self.last_complete_at)?,
            last_error: self.last_error,
            deletions_listed: self.deletions_listed,
        })
    }
}
