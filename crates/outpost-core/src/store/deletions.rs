//! Customers deleted (or archived) in the CRM. The pull lists the CRM's
//! deletions after each complete pass, one page per transaction with its
//! cursor (see `sync::pull`), and applies them here:
//!
//! - a customer with nothing unsent is removed from this device (row,
//!   search entries, its delivered messages);
//! - a customer with an unsent edit is kept and marked deleted in the CRM
//!   (`crm_deleted_at`): its edit is not sent (it would only find the
//!   record gone) but moved to needs attention, "deleted in the CRM", and a
//!   person either discards the customer or creates it again as a new one;
//! - a customer with an unsent creation is left alone (the CRM never had it).
//!
//! Nothing is ever recreated in the CRM by an edit (issue 14; WatermelonDB#649,
//! pouchdb#6666).

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{customers, outbox, time, CustomerChange, Store, StoreEvent};
use crate::crm::connector::{DeletedPage, DeletedRecord};
use crate::customer::validation;
use crate::customer::{Customer, CustomerEdit, CustomerId};
use crate::error::{Error, Result};
use crate::outbox::KIND_CUSTOMER_CREATE;

/// Why an edit of a customer the CRM deleted waits for a person.
pub const DELETED_IN_CRM: &str = "deleted in the CRM";

/// Where the deletions listing of one endpoint stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionsState {
    /// The next listing starts at this CRM time (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Inside a listing: the cursor of the next page.
    pub cursor: Option<String>,
}

/// What one page of deletions did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionsApplied {
    /// Removed from this device.
    pub removed: u64,
    /// Kept with their unsent edit, marked deleted in the CRM.
    pub kept: u64,
}

impl Store {
    pub async fn deletions_state(&self, endpoint: &str) -> Result<DeletionsState> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT deleted_since, deleted_cursor FROM pull_state WHERE endpoint = ?1",
        )
        .bind(endpoint)
        .fetch_optional(&self.pool)
        .await?;
        let Some((since, cursor)) = row else {
            return Ok(DeletionsState::default());
        };
        Ok(DeletionsState {
            since: since
                .filter(|s| !s.is_empty())
                .as_deref()
                .map(time::from_db)
                .transpose()?,
            cursor,
        })
    }

    /// Applies one page of the CRM's deletions and moves the listing's
    /// cursor past it, in one transaction. `next: None` ends the listing:
    /// the next one starts at the newest deletion it saw, from the page's
    /// resume point if the CRM gave one.
    pub async fn store_deleted_page(
        &self,
        endpoint: &str,
        page: &DeletedPage,
    ) -> Result<DeletionsApplied> {
        let (items, next) = (&page.items, page.next.as_deref());
        let now = time::now();
        let mut tx = self.write_tx().await?;
        let mut applied = DeletionsApplied::default();
        let mut removed = Vec::new();
        let mut kept = Vec::new();
        for item in items {
            match apply(&mut tx, item, now).await? {
                Some((id, true)) => {
                    applied.removed += 1;
                    removed.push(id);
                }
                Some((id, false)) => {
                    applied.kept += 1;
                    kept.push(id);
                }
                None => {}
            }
        }
        let newest = items.iter().map(|d| d.deleted_at).max().map(time::to_db);
        sqlx::query(
            "INSERT INTO pull_state (endpoint, deleted_cursor, deleted_newest, deletions_listed)
             VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (endpoint) DO UPDATE SET
               deletions_listed = 1,
               deleted_cursor = excluded.deleted_cursor,
               deleted_newest = nullif(max(coalesce(deleted_newest, ''), coalesce(excluded.deleted_newest, '')), '')",
        )
        .bind(endpoint)
        .bind(next)
        .bind(newest)
        .execute(&mut *tx)
        .await?;
        if next.is_none() {
            sqlx::query(
                "UPDATE pull_state SET
                   deleted_since = nullif(max(coalesce(deleted_since, ''), coalesce(deleted_newest, '')), ''),
                   deleted_newest = NULL, deleted_cursor = ?2
                 WHERE endpoint = ?1",
            )
            .bind(endpoint)
            .bind(page.resume.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.customers_changed(CustomerChange::Removed, removed);
        self.customers_changed(CustomerChange::Synced, kept.clone());
        if applied.removed + applied.kept > 0 {
            if !kept.is_empty() {
                let _ = self.events.send(StoreEvent::OutboxChanged);
            }
            let _ = self.events.send(StoreEvent::WorkingSetChanged);
        }
        Ok(applied)
    }

    /// The CRM cannot list its deletions (the listing said so): customers
    /// deleted there stay, and the Sync screen says why.
    pub async fn record_deletions_unlisted(&self, endpoint: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query(
            "INSERT INTO pull_state (endpoint, deletions_listed) VALUES (?1, 0)
             ON CONFLICT (endpoint) DO UPDATE SET deletions_listed = 0
             WHERE deletions_listed IS NOT 0",
        )
        .bind(endpoint)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if changed > 0 {
            let _ = self.events.send(StoreEvent::WorkingSetChanged);
        }
        Ok(())
    }

    /// Customers kept with an unsent edit after the CRM deleted them.
    pub async fn deleted_in_crm_count(&self) -> Result<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM customers WHERE crm_deleted_at IS NOT NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(n as u64)
    }

    /// "Discard": a customer the CRM deleted is removed from this device
    /// with its messages (the unsent edit is given up), in one transaction.
    pub async fn discard_deleted_customer(&self, id: CustomerId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        deleted_customer(&mut tx, id).await?;
        outbox::delete_of(&mut tx, id).await?;
        customers::delete(&mut tx, id).await?;
        tx.commit().await?;
        tracing::info!(customer = %id, "customer deleted in the CRM discarded by a person");
        self.customers_changed(CustomerChange::Removed, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        let _ = self.events.send(StoreEvent::WorkingSetChanged);
        Ok(())
    }

    /// "Create again as new": a customer the CRM deleted becomes a new
    /// customer (a new key, the same fields, the unsent edit included) with
    /// a normal create message; the old row and its messages go. One
    /// transaction.
    pub async fn recreate_deleted_customer(&self, id: CustomerId) -> Result<Customer> {
        let region = self.default_region();
        let mut tx = self.write_tx().await?;
        let old = deleted_customer(&mut tx, id).await?;
        let valid = validation::validate(&CustomerEdit::default().applied_to(&old), region)?;
        let new_id = self.keys.generate();
        let now = time::now();
        outbox::delete_of(&mut tx, id).await?;
        customers::delete(&mut tx, id).await?;
        let customer = customers::insert(&mut tx, new_id, &valid, now, Default::default()).await?;
        let payload = serde_json::to_value(&customer).expect("a customer always serializes");
        outbox::enqueue(&mut tx, new_id, KIND_CUSTOMER_CREATE, &payload, now).await?;
        tx.commit().await?;
        tracing::info!(old = %id, customer = %new_id, "customer deleted in the CRM created again as new");
        self.customers_changed(CustomerChange::Removed, vec![id]);
        self.customers_changed(CustomerChange::Created, vec![new_id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(customer)
    }
}

/// The customer, when the CRM deleted it; else not found or refused.
async fn deleted_customer(conn: &mut SqliteConnection, id: CustomerId) -> Result<Customer> {
    let c = customers::get(&mut *conn, id)
        .await?
        .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
    if c.crm_deleted_at.is_none() {
        return Err(Error::Refused(
            "Only a customer deleted in the CRM can be discarded or created again this way; this one is still in the CRM.".into(),
        ));
    }
    if outbox::any_in_flight(conn, id).await? {
        return Err(Error::Refused(
            "A change of this customer is being sent right now; try again in a moment.".into(),
        ));
    }
    Ok(c)
}

/// One deletion: `Some((id, true))` removed, `Some((id, false))` kept and
/// marked, `None` nothing here to do.
async fn apply(
    conn: &mut SqliteConnection,
    item: &DeletedRecord,
    now: DateTime<Utc>,
) -> Result<Option<(CustomerId, bool)>> {
    // The CRM id names the record that was deleted; a key alone could be
    // a later record (created again) and is not trusted.
    let Some(local) = customers::get_by_crm_id(conn, &item.crm_id).await? else {
        return Ok(None);
    };
    if local.crm_deleted_at.is_some() {
        return Ok(None);
    }
    let unsent = outbox::unsent_messages_of(conn, local.id).await?;
    if unsent.iter().any(|m| m.kind == KIND_CUSTOMER_CREATE) {
        return Ok(None);
    }
    if unsent.is_empty() {
        outbox::delete_of(conn, local.id).await?;
        customers::delete(conn, local.id).await?;
        return Ok(Some((local.id, true)));
    }
    sqlx::query("UPDATE customers SET crm_deleted_at = ?2 WHERE id = ?1")
        .bind(local.id.to_string())
        .bind(time::to_db(item.deleted_at))
        .execute(&mut *conn)
        .await?;
    // An edit being sent right now finds the record gone and is refused
    // by the connector ("no longer in the CRM"); the waiting ones stop here.
    outbox::hold_updates(conn, local.id, DELETED_IN_CRM, now).await?;
    Ok(Some((local.id, false)))
}
