//! The outbox from the sync engine's side: claiming due messages, recording
//! each outcome, recovering after a crash, and the audit log.

use chrono::{DateTime, Utc};

use super::{time, Store, StoreEvent};
use crate::customer::{Customer, CustomerId};
use crate::error::{Error, Result};
use crate::outbox::OutboxState;

/// A message handed to the flusher, with the customer as it is now (a fix made
/// after a rejection is what gets resent).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub message_id: i64,
    pub attempts: i64,
    pub customer: Customer,
}

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

impl Store {
    /// Marks up to `limit` due messages in-flight for `endpoint` and returns
    /// them in delivery order. Only the oldest undelivered message of each
    /// customer is eligible, so a customer never has two messages in flight
    /// and a later change never overtakes an earlier one.
    pub async fn claim_due(
        &self,
        endpoint: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Claimed>> {
        let now = time::to_db(now);
        let mut tx = self.write_tx().await?;
        let ids: Vec<(i64, i64)> = sqlx::query_as(
            "UPDATE outbox SET state = 'in-flight', endpoint = ?1, attempts = attempts + 1, updated_at = ?2
             WHERE id IN (
               SELECT o.id FROM outbox o INDEXED BY outbox_state_order
               WHERE o.state = 'pending' AND (o.endpoint IS NULL OR o.endpoint = ?1) AND o.next_attempt_at <= ?2
                 AND NOT EXISTS (
                   SELECT 1 FROM outbox e
                   WHERE e.customer_id = o.customer_id AND e.id < o.id AND e.state != 'sent'
                     AND (e.endpoint IS NULL OR e.endpoint = ?1))
               ORDER BY o.id LIMIT ?3)
             RETURNING id, attempts",
        )
        .bind(endpoint)
        .bind(&now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for (id, attempts) in ids {
            let key: String = sqlx::query_scalar("SELECT customer_id FROM outbox WHERE id = ?1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let key: CustomerId = key
                .parse()
                .map_err(|_| Error::Corrupt(format!("outbox {id} customer key")))?;
            let customer = super::customers::get(&mut *tx, key).await?.ok_or_else(|| {
                Error::Corrupt(format!("outbox {id} refers to a missing customer"))
            })?;
            claimed.push(Claimed {
                message_id: id,
                attempts,
                customer,
            });
        }
        tx.commit().await?;
        claimed.sort_by_key(|c| c.message_id);
        if !claimed.is_empty() {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        Ok(claimed)
    }

    /// The CRM confirmed the customer: the message is sent, the customer synced.
    pub async fn mark_delivered(
        &self,
        message_id: i64,
        customer: CustomerId,
        crm_id: &str,
    ) -> Result<()> {
        self.mark_all_delivered(&[(message_id, customer, crm_id.to_owned())])
            .await
    }

    /// [`Store::mark_delivered`] for a whole batch, in one transaction.
    pub async fn mark_all_delivered(&self, delivered: &[(i64, CustomerId, String)]) -> Result<()> {
        if delivered.is_empty() {
            return Ok(());
        }
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        for (message_id, customer, crm_id) in delivered {
            sqlx::query("UPDATE outbox SET state = 'sent', last_error = NULL, updated_at = ?2 WHERE id = ?1")
                .bind(message_id)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE customers SET crm_id = ?2, crm_version = NULL,
                   sync_state = CASE WHEN EXISTS (SELECT 1 FROM outbox WHERE customer_id = ?1 AND state != 'sent')
                                     THEN sync_state ELSE 'synced' END
                 WHERE id = ?1",
            )
            .bind(customer.to_string())
            .bind(crm_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        for (_, customer, _) in delivered {
            let _ = self.events.send(StoreEvent::CustomerChanged(*customer));
        }
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(())
    }

    /// The CRM refused the record: it waits in "needs attention" with the reason.
    pub async fn mark_rejected(
        &self,
        message_id: i64,
        customer: CustomerId,
        reason: &str,
    ) -> Result<()> {
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE outbox SET state = 'needs-attention', last_error = ?2, updated_at = ?3 WHERE id = ?1")
            .bind(message_id)
            .bind(reason)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE customers SET sync_state = 'needs_attention' WHERE id = ?1")
            .bind(customer.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::CustomerChanged(customer));
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(())
    }

    /// Puts in-flight messages back in the queue, due at `next_attempt_at`.
    pub async fn release(
        &self,
        message_ids: &[i64],
        next_attempt_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let next = time::to_db(next_attempt_at);
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        for id in message_ids {
            sqlx::query(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, last_error = ?3, updated_at = ?4
                 WHERE id = ?1 AND state = 'in-flight'",
            )
            .bind(id)
            .bind(&next)
            .bind(error)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(())
    }

    /// After a crash, messages left in flight are due again: the connectors'
    /// idempotent upserts make the resend safe.
    pub async fn recover_in_flight(&self) -> Result<u64> {
        let now = time::to_db(time::now());
        let n = sqlx::query("UPDATE outbox SET state = 'pending', next_attempt_at = ?1, updated_at = ?1 WHERE state = 'in-flight'")
            .bind(&now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n > 0 {
            let _ = self.events.send(StoreEvent::OutboxChanged);
        }
        Ok(n)
    }

    /// Sends a customer's needs-attention messages again (after a fix).
    /// Returns how many were requeued.
    pub async fn retry_customer(&self, customer: CustomerId) -> Result<u64> {
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, updated_at = ?2
             WHERE customer_id = ?1 AND state = 'needs-attention'",
        )
        .bind(customer.to_string())
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            sqlx::query("UPDATE customers SET sync_state = 'pending' WHERE id = ?1")
                .bind(customer.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let _ = self.events.send(StoreEvent::CustomerChanged(customer));
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(n)
    }

    /// When the next pending message for `endpoint` is due, if any.
    pub async fn next_due(&self, endpoint: &str) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending' AND (endpoint IS NULL OR endpoint = ?1)",
        )
        .bind(endpoint)
        .fetch_one(&self.pool)
        .await?;
        next.as_deref().map(time::from_db).transpose()
    }

    /// Messages per state for one endpoint (unassigned ones count for every endpoint).
    pub async fn endpoint_counts(&self, endpoint: &str) -> Result<Vec<(OutboxState, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, count(*) FROM outbox WHERE endpoint IS NULL OR endpoint = ?1 GROUP BY state",
        )
        .bind(endpoint)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, n)| OutboxState::parse(&s).map(|st| (st, n as u64)))
            .collect())
    }

    pub async fn record_success(&self, endpoint: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO endpoint_sync (endpoint, last_success_at, last_error) VALUES (?1, ?2, NULL)
             ON CONFLICT (endpoint) DO UPDATE SET last_success_at = excluded.last_success_at, last_error = NULL",
        )
        .bind(endpoint)
        .bind(time::to_db(time::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn last_success(&self, endpoint: &str) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<String>> =
            sqlx::query_scalar("SELECT last_success_at FROM endpoint_sync WHERE endpoint = ?1")
                .bind(endpoint)
                .fetch_optional(&self.pool)
                .await?;
        at.flatten().as_deref().map(time::from_db).transpose()
    }

    pub async fn audit(&self, entries: &[AuditEntry<'_>]) -> Result<()> {
        let at = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        for e in entries {
            sqlx::query(
                "INSERT INTO sync_audit (at, endpoint, operation, customer_id, crm_id, outcome, duration_ms, request_id, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(&at)
            .bind(e.endpoint)
            .bind(e.operation)
            .bind(e.customer_id.map(|c| c.to_string()))
            .bind(e.crm_id)
            .bind(&e.outcome)
            .bind(e.duration_ms)
            .bind(e.request_id)
            .bind(e.detail)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
