//! The outbox from the sync engine's side: claiming due messages, recording
//! a round's outcomes in one transaction, recovering after a crash, and the
//! audit log. The SQL on the outbox is in `outbox`.

use chrono::{DateTime, Utc};

use super::{customers, device_usage, outbox, time, CustomerChange, Store, StoreEvent};
use crate::crm::connector::{ApiBudget, DeviceUsage};
use crate::crm::error::RecordError;
use crate::customer::{CustomerId, SyncState};
use crate::error::{Error, Result};
use crate::outbox::OutboxState;

pub use outbox::{Claimed, UpdatedRecord};

/// One remote call, for the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub endpoint: &'a str,
    pub operation: &'a str,
    pub customer_id: Option<CustomerId>,
    pub crm_id: Option<&'a str>,
    pub outcome: String,
    pub duration_ms: i64,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// What one flush round found out, recorded by [`Store::record_round`] in
/// one transaction.
#[derive(Debug, Clone, Default)]
pub struct RoundOutcomes<'a> {
    /// The endpoint the round delivered to.
    pub endpoint: &'a str,
    /// Confirmed by the CRM: (message, customer, its CRM id).
    pub delivered: Vec<(i64, CustomerId, String)>,
    /// The CRM's version of a delivered create's record, where it gave one.
    pub versions: Vec<(CustomerId, String)>,
    /// Updates the CRM took, with its new version and any conflicts.
    pub updated: Vec<UpdatedRecord>,
    /// Refused by the CRM: (message, customer, why).
    pub refused: Vec<(i64, CustomerId, RecordError)>,
    /// Not delivered this time: (message, when it is due again, why).
    pub released: Vec<(i64, DateTime<Utc>, String)>,
    /// Every call of the round.
    pub audit: Vec<AuditEntry<'a>>,
    /// The CRM's request budget after the round, for CRMs that count one.
    pub api_budget: Option<ApiBudget>,
    /// This device's requests per hour after the round, for CRMs that cap
    /// a device's share of their budget.
    pub device_usage: Option<DeviceUsage>,
}

impl Store {
    /// Marks up to `limit` due messages in-flight for `endpoint` and returns
    /// them in delivery order, each with its customer as stored now. Only the
    /// oldest undelivered message of each customer is eligible, so a customer
    /// never has two messages in flight and a later change never overtakes
    /// an earlier one.
    pub async fn claim_due(
        &self,
        endpoint: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Claimed>> {
        self.claim_due_for(endpoint, limit, now, false).await
    }

    /// [`Store::claim_due`], `customer.update` messages included when
    /// `updates` (the endpoint's connector delivers them).
    pub async fn claim_due_for(
        &self,
        endpoint: &str,
        limit: u32,
        now: DateTime<Utc>,
        updates: bool,
    ) -> Result<Vec<Claimed>> {
        let mut tx = self.write_tx().await?;
        let claimed = outbox::claim(&mut tx, endpoint, limit, now, updates).await?;
        tx.commit().await?;
        if !claimed.is_empty() {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        Ok(claimed)
    }

    /// Records what a round's messages came to, in one transaction: delivered
    /// ones sent and their customers synced, refused ones waiting for a
    /// person, the others back in the queue; the endpoint's last success when
    /// the CRM answered for any record; every call in the audit log. One
    /// event per kind of change follows, for the whole round.
    pub async fn record_round(&self, round: &RoundOutcomes<'_>) -> Result<()> {
        let now = time::now();
        let mut tx = self.write_tx().await?;
        outbox::mark_delivered(&mut tx, &round.delivered, now).await?;
        outbox::set_version_tags(&mut tx, &round.versions).await?;
        outbox::mark_updated(&mut tx, &round.updated, now).await?;
        for (message, _, error) in &round.refused {
            outbox::mark_refused(&mut tx, *message, error, now).await?;
        }
        let refused: Vec<CustomerId> = round.refused.iter().map(|(_, c, _)| *c).collect();
        customers::set_sync_state(&mut tx, &refused, SyncState::NeedsAttention).await?;
        for (message, next, error) in &round.released {
            outbox::release(&mut tx, *message, *next, Some(error), now).await?;
        }
        if let Some(budget) = &round.api_budget {
            write_api_budget(&mut tx, round.endpoint, budget).await?;
        }
        if let Some(usage) = &round.device_usage {
            device_usage::write(&mut tx, round.endpoint, usage).await?;
        }
        if !round.delivered.is_empty() || !round.updated.is_empty() || !round.refused.is_empty() {
            record_success(&mut tx, round.endpoint, now).await?;
        }
        insert_audit(&mut tx, &round.audit, now).await?;
        tx.commit().await?;
        let ids: Vec<CustomerId> = round
            .delivered
            .iter()
            .map(|(_, c, _)| *c)
            .chain(round.updated.iter().map(|u| u.customer))
            .chain(refused)
            .collect();
        self.customers_changed(CustomerChange::Synced, ids);
        if !(round.delivered.is_empty()
            && round.updated.is_empty()
            && round.refused.is_empty()
            && round.released.is_empty())
        {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        Ok(())
    }

    /// Puts in-flight messages back in the queue, due at `next_attempt_at`.
    pub async fn release(
        &self,
        message_ids: &[i64],
        next_attempt_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let now = time::now();
        let mut tx = self.write_tx().await?;
        for id in message_ids {
            outbox::release(&mut tx, *id, next_attempt_at, error, now).await?;
        }
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(())
    }

    /// After a crash, messages left in flight are due again: the connectors'
    /// idempotent upserts make the resend safe. Only the holder of the
    /// delivery lease calls this (`sync::lease`), when it takes the lease:
    /// then nobody else can be sending them.
    pub async fn recover_in_flight(&self) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let n = outbox::recover_in_flight(&mut tx, time::now()).await?;
        tx.commit().await?;
        if n > 0 {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        Ok(n)
    }

    /// Tells this process's listeners about deliveries another process
    /// recorded since `since` (an engine without the delivery lease follows
    /// the deliverer this way, so its window's badges turn Synced): one
    /// `Synced` change for those customers and an outbox change. Returns how
    /// many customers it named.
    pub async fn announce_outside_outcomes(&self, since: DateTime<Utc>) -> Result<usize> {
        let ids = outbox::settled_since(&self.pool, since).await?;
        let n = ids.len();
        self.customers_changed(CustomerChange::Synced, ids);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(n)
    }

    /// Sends a customer's needs-attention messages again (after a fix).
    /// Returns how many were requeued.
    pub async fn retry_customer(&self, customer: CustomerId) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        // Its edit would only find the record gone: a person discards it or
        // creates it again as a new customer instead.
        if customers::get(&mut *tx, customer)
            .await?
            .is_some_and(|c| c.crm_deleted_at.is_some())
        {
            return Err(Error::Refused(
                "This customer was deleted in the CRM: discard it, or create it again as a new customer.".into(),
            ));
        }
        let n = outbox::requeue_refused(&mut tx, customer, time::now()).await?;
        if n > 0 {
            customers::set_sync_state(&mut tx, &[customer], SyncState::Pending).await?;
        }
        tx.commit().await?;
        self.customers_changed(CustomerChange::Synced, vec![customer]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(n)
    }

    /// When the next pending message for `endpoint` is due, if any.
    pub async fn next_due(&self, endpoint: &str) -> Result<Option<DateTime<Utc>>> {
        outbox::next_due(&self.pool, endpoint, false).await
    }

    /// [`Store::next_due`], `customer.update` messages included when `updates`.
    pub async fn next_due_for(
        &self,
        endpoint: &str,
        updates: bool,
    ) -> Result<Option<DateTime<Utc>>> {
        outbox::next_due(&self.pool, endpoint, updates).await
    }

    /// Messages per state for one endpoint (unassigned ones count for every endpoint).
    pub async fn endpoint_counts(&self, endpoint: &str) -> Result<Vec<(OutboxState, u64)>> {
        outbox::endpoint_counts(&self.pool, endpoint).await
    }

    /// Keeps the CRM's request budget as the connector last read it (a
    /// delivery round keeps it with its outcomes, `RoundOutcomes`).
    pub async fn record_api_budget(
        &self,
        endpoint: &str,
        budget: &ApiBudget,
        usage: Option<&DeviceUsage>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        write_api_budget(&mut tx, endpoint, budget).await?;
        if let Some(usage) = usage {
            device_usage::write(&mut tx, endpoint, usage).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The budget [`Store::record_api_budget`] kept, if any (one that no
    /// longer reads is treated as none).
    pub async fn api_budget(&self, endpoint: &str) -> Result<Option<ApiBudget>> {
        let json: Option<Option<String>> =
            sqlx::query_scalar("SELECT api_budget FROM endpoint_sync WHERE endpoint = ?1")
                .bind(endpoint)
                .fetch_optional(&self.pool)
                .await?;
        Ok(json.flatten().and_then(|j| serde_json::from_str(&j).ok()))
    }

    pub async fn last_success(&self, endpoint: &str) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<String>> =
            sqlx::query_scalar("SELECT last_success_at FROM endpoint_sync WHERE endpoint = ?1")
                .bind(endpoint)
                .fetch_optional(&self.pool)
                .await?;
        at.flatten().as_deref().map(time::from_db).transpose()
    }
}

async fn write_api_budget(
    conn: &mut sqlx::SqliteConnection,
    endpoint: &str,
    budget: &ApiBudget,
) -> Result<()> {
    let json = serde_json::to_string(budget).expect("a budget serializes");
    sqlx::query(
        "INSERT INTO endpoint_sync (endpoint, api_budget) VALUES (?1, ?2)
         ON CONFLICT (endpoint) DO UPDATE SET api_budget = excluded.api_budget",
    )
    .bind(endpoint)
    .bind(json)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn record_success(
    conn: &mut sqlx::SqliteConnection,
    endpoint: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO endpoint_sync (endpoint, last_success_at, last_error) VALUES (?1, ?2, NULL)
         ON CONFLICT (endpoint) DO UPDATE SET last_success_at = excluded.last_success_at, last_error = NULL",
    )
    .bind(endpoint)
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The round's calls, in one multi-row insert.
async fn insert_audit(
    conn: &mut sqlx::SqliteConnection,
    entries: &[AuditEntry<'_>],
    now: DateTime<Utc>,
) -> Result<()> {
    let at = time::to_db(now);
    // SQLite allows 32,766 parameters a statement: 9 each, 1,000 entries at a time.
    for chunk in entries.chunks(1000) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO sync_audit (at, endpoint, operation, customer_id, crm_id, outcome, duration_ms, request_id, detail) ",
        );
        insert.push_values(chunk, |mut b, e| {
            b.push_bind(&at)
                .push_bind(e.endpoint)
                .push_bind(e.operation)
                .push_bind(e.customer_id.map(|c| c.to_string()))
                .push_bind(e.crm_id)
                .push_bind(&e.outcome)
                .push_bind(e.duration_ms)
                .push_bind(e.request_id)
                .push_bind(e.detail);
        });
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}
