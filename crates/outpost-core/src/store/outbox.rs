//! Every statement on the `outbox` table. The store's methods (creating a
//! customer, a flush round, reconciling a pulled record, renaming an
//! endpoint, discarding a refused customer) call these; no other module
//! names the table.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection};

use super::customers::{self, CustomerRow};
use super::time;
use crate::crm::error::RecordError;
use crate::customer::{Customer, CustomerId};
use crate::error::{Error, Result};
use crate::outbox::{self as model, OutboxMessage, OutboxState};

/// A new customer's message, waiting for its first attempt, as SQL text with
/// the given parameter numbers. The create sends it in one batch with the
/// customer's row (see `customers::create_with_message`).
pub(super) fn insert_pending_sql(
    customer: usize,
    kind: usize,
    payload: usize,
    now: usize,
) -> String {
    format!(
        "INSERT INTO outbox (customer_id, kind, payload, state, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?{customer}, ?{kind}, ?{payload}, 'pending', 0, ?{now}, ?{now}, ?{now})"
    )
}

static ENQUEUE: LazyLock<String> =
    LazyLock::new(|| format!("{} RETURNING id", insert_pending_sql(1, 2, 3, 4)));

/// Appends a message inside the caller's transaction.
pub(super) async fn enqueue(
    conn: &mut SqliteConnection,
    customer_id: CustomerId,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    enqueue_text(conn, customer_id, kind, &payload.to_string(), now).await
}

async fn enqueue_text(
    conn: &mut SqliteConnection,
    customer_id: CustomerId,
    kind: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(&ENQUEUE)
        .bind(customer_id.to_string())
        .bind(kind)
        .bind(payload)
        .bind(time::to_db(now))
        .fetch_one(&mut *conn)
        .await?)
}

// --- reading --------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    customer_id: String,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    next_attempt_at: String,
    last_error: Option<String>,
    refused_field: Option<String>,
    created_at: String,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = Error;
    fn try_from(r: OutboxRow) -> Result<Self> {
        let state = OutboxState::parse(&r.state)
            .ok_or_else(|| Error::Corrupt(format!("outbox {} has state {:?}", r.id, r.state)))?;
        let refused = state == OutboxState::NeedsAttention;
        Ok(OutboxMessage {
            id: r.id,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| Error::Corrupt(format!("outbox {} has a bad customer key", r.id)))?,
            kind: r.kind,
            state,
            attempts: r.attempts,
            next_attempt_at: time::from_db(&r.next_attempt_at)?,
            // What people read names the field in front, as it always did.
            last_error: r
                .last_error
                .as_deref()
                .map(|m| model::reason_text(r.refused_field.as_deref(), m)),
            refused_field: r.refused_field,
            refusal_message: r.last_error.filter(|_| refused),
            created_at: time::from_db(&r.created_at)?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| Error::Corrupt(format!("outbox {} payload: {e}", r.id)))?,
        })
    }
}

/// Messages in delivery order, optionally only those in one state.
pub(super) async fn list<'e, E>(
    exec: E,
    state: Option<OutboxState>,
    limit: u32,
) -> Result<Vec<OutboxMessage>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "SELECT id, customer_id, kind, payload, state, attempts, next_attempt_at, last_error, refused_field, created_at
         FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id LIMIT ?2",
    )
    .bind(state.map(OutboxState::as_str))
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(OutboxMessage::try_from).collect()
}

/// Number of messages per state.
pub(super) async fn counts<'e, E>(exec: E) -> Result<Vec<(OutboxState, u64)>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM outbox GROUP BY state")
            .fetch_all(exec)
            .await?;
    rows.into_iter()
        .map(|(s, n)| {
            OutboxState::parse(&s)
                .map(|st| (st, n as u64))
                .ok_or_else(|| Error::Corrupt(format!("outbox state {s:?}")))
        })
        .collect()
}

/// Messages per state for one endpoint (unassigned ones count for every endpoint).
pub(super) async fn endpoint_counts<'e, E>(
    exec: E,
    endpoint: &str,
) -> Result<Vec<(OutboxState, u64)>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, count(*) FROM outbox WHERE endpoint IS NULL OR endpoint = ?1 GROUP BY state",
    )
    .bind(endpoint)
    .fetch_all(exec)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| OutboxState::parse(&s).map(|st| (st, n as u64)))
        .collect())
}

/// When the next pending message for `endpoint` is due, if any.
pub(super) async fn next_due<'e, E>(
    exec: E,
    endpoint: &str,
    updates: bool,
) -> Result<Option<DateTime<Utc>>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let next: Option<String> = sqlx::query_scalar(
        "SELECT min(next_attempt_at) FROM outbox
         WHERE state = 'pending' AND (endpoint IS NULL OR endpoint = ?1) AND (?3 OR kind != ?2)",
    )
    .bind(endpoint)
    // Not claimable without `updates` (see `claim`): a due update must not
    // wake a flusher that cannot send it.
    .bind(model::KIND_CUSTOMER_UPDATE)
    .bind(updates)
    .fetch_one(exec)
    .await?;
    next.as_deref().map(time::from_db).transpose()
}

/// Customers with a message delivered or refused since `since` (inclusive:
/// timestamps have milliseconds), whoever recorded it (another process's
/// rounds included).
pub(super) async fn settled_since<'e, E>(exec: E, since: DateTime<Utc>) -> Result<Vec<CustomerId>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT customer_id FROM outbox
         WHERE state IN ('sent', 'needs-attention') AND updated_at >= ?1",
    )
    .bind(time::to_db(since))
    .fetch_all(exec)
    .await?;
    Ok(keys.iter().filter_map(|k| k.parse().ok()).collect())
}

/// The states of a customer's messages, oldest first.
pub(super) async fn states_of(
    conn: &mut SqliteConnection,
    customer: CustomerId,
) -> Result<Vec<OutboxState>> {
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state FROM outbox WHERE customer_id = ?1 ORDER BY id")
            .bind(customer.to_string())
            .fetch_all(&mut *conn)
            .await?;
    states
        .iter()
        .map(|s| OutboxState::parse(s).ok_or_else(|| Error::Corrupt(format!("outbox state {s:?}"))))
        .collect()
}

/// Whether a message of the customer reached the CRM.
pub(super) async fn any_sent(conn: &mut SqliteConnection, customer: CustomerId) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE customer_id = ?1 AND state = 'sent')",
    )
    .bind(customer.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// A customer's messages the CRM has not confirmed, oldest first.
pub(super) async fn unsent_of(
    conn: &mut SqliteConnection,
    customer: CustomerId,
) -> Result<Vec<(i64, OutboxState)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, state FROM outbox WHERE customer_id = ?1 AND state != 'sent' ORDER BY id",
    )
    .bind(customer.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(id, s)| {
            OutboxState::parse(&s)
                .map(|st| (id, st))
                .ok_or_else(|| Error::Corrupt(format!("outbox {id} has state {s:?}")))
        })
        .collect()
}

/// One message of a customer the CRM has not confirmed.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub(super) struct Unsent {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub payload: String,
}

/// A customer's messages the CRM has not confirmed, with their kinds and
/// payloads, oldest first (an edit merges into or follows them).
pub(super) async fn unsent_messages_of(
    conn: &mut SqliteConnection,
    customer: CustomerId,
) -> Result<Vec<Unsent>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, state, payload FROM outbox
         WHERE customer_id = ?1 AND state != 'sent' ORDER BY id",
    )
    .bind(customer.to_string())
    .fetch_all(&mut *conn)
    .await?)
}

/// A customer's unsent messages as one JSON array column (`[Unsent]`, in no
/// particular order) of a query on `customers` aliased `table`: an edit
/// reads them with the row, in the round trip that begins its transaction.
pub(super) fn unsent_json_of(table: &str) -> String {
    format!(
        "(SELECT json_group_array(json_object('id', u.id, 'kind', u.kind, 'state', u.state,
                                              'payload', u.payload))
          FROM outbox u WHERE u.customer_id = {table}.id AND u.state != 'sent')"
    )
}

/// What an edit does to one of the customer's messages (decided by
/// `edits::plan`), run alone ([`MessageWrite::apply`]) or as statements of
/// the edit's batch ([`MessageWrite::sql`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum MessageWrite {
    /// A waiting message gets a new payload ([`set_payload`]).
    SetPayload { id: i64, payload: String },
    /// A pending update with nothing left to send goes ([`delete_pending`]).
    DeletePending { id: i64 },
    /// A new `customer.update` after the customer's other messages.
    EnqueueUpdate { payload: String },
}

/// Parameter numbers a [`MessageWrite`] statement reads in a batch.
pub(super) struct MessageParams {
    pub customer: usize,
    pub id: usize,
    pub payload: usize,
    pub kind: usize,
    pub now: usize,
}

impl MessageWrite {
    /// The statement, reading its values from the parameters `p` names.
    pub(super) fn sql(&self, p: &MessageParams) -> String {
        match self {
            MessageWrite::SetPayload { .. } => format!(
                "UPDATE outbox SET payload = ?{}, updated_at = ?{}
                 WHERE id = ?{} AND state IN ('pending', 'needs-attention')",
                p.payload, p.now, p.id
            ),
            MessageWrite::DeletePending { .. } => {
                format!(
                    "DELETE FROM outbox WHERE id = ?{} AND state = 'pending'",
                    p.id
                )
            }
            MessageWrite::EnqueueUpdate { .. } => {
                insert_pending_sql(p.customer, p.kind, p.payload, p.now)
            }
        }
    }

    /// The message id and payload its statement binds (`None`: unused).
    pub(super) fn values(&self) -> (Option<i64>, Option<&str>) {
        match self {
            MessageWrite::SetPayload { id, payload } => (Some(*id), Some(payload)),
            MessageWrite::DeletePending { id } => (Some(*id), None),
            MessageWrite::EnqueueUpdate { payload } => (None, Some(payload)),
        }
    }

    /// Runs the write alone, inside the caller's transaction.
    pub(super) async fn apply(
        &self,
        conn: &mut SqliteConnection,
        customer: CustomerId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match self {
            MessageWrite::SetPayload { id, payload } => set_payload(conn, *id, payload, now).await,
            MessageWrite::DeletePending { id } => delete_pending(conn, *id).await,
            MessageWrite::EnqueueUpdate { payload } => {
                enqueue_text(conn, customer, model::KIND_CUSTOMER_UPDATE, payload, now).await?;
                Ok(())
            }
        }
    }
}

/// Rewrites a waiting message's payload (an edit merged into it). Only a
/// message nobody is sending: `pending` or `needs-attention`.
async fn set_payload(
    conn: &mut SqliteConnection,
    message_id: i64,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET payload = ?2, updated_at = ?3
         WHERE id = ?1 AND state IN ('pending', 'needs-attention')",
    )
    .bind(message_id)
    .bind(payload)
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes one waiting message (an update whose every field went back to
/// its base: nothing is left to send).
pub(super) async fn delete_pending(conn: &mut SqliteConnection, message_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = ?1 AND state = 'pending'")
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether a message of the customer is being sent right now.
pub(super) async fn any_in_flight(
    conn: &mut SqliteConnection,
    customer: CustomerId,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE customer_id = ?1 AND state = 'in-flight')",
    )
    .bind(customer.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// Stops the customer's waiting updates for a person, with `reason` (the
/// CRM deleted the record: sending them would only find it gone). One
/// being sent is left to its delivery.
pub(super) async fn hold_updates(
    conn: &mut SqliteConnection,
    customer: CustomerId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'needs-attention', last_error = ?2, refused_field = NULL, updated_at = ?3
         WHERE customer_id = ?1 AND kind = ?4 AND state IN ('pending', 'needs-attention')",
    )
    .bind(customer.to_string())
    .bind(reason)
    .bind(time::to_db(now))
    .bind(model::KIND_CUSTOMER_UPDATE)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes every message of a customer (it is being discarded).
pub(super) async fn delete_of(conn: &mut SqliteConnection, customer: CustomerId) -> Result<()> {
    sqlx::query("DELETE FROM outbox WHERE customer_id = ?1")
        .bind(customer.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --- delivery -------------------------------------------------------------

/// A message handed to the flusher, with the customer as it is now (a fix made
/// after a refusal is what gets resent).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub message_id: i64,
    pub attempts: i64,
    /// `customer.create` or `customer.update`.
    pub kind: String,
    /// The message's payload (an update's changed fields).
    pub payload: String,
    pub customer: Customer,
}

/// Marks up to `limit` due messages in-flight for `endpoint` and returns them
/// with their customers, in delivery order. Only the oldest undelivered
/// message of each customer is eligible, so a customer never has two
/// messages in flight and a later change never overtakes an earlier one.
///
/// `customer.update` messages are claimed only when `updates` (the
/// endpoint's connector delivers them, `Capabilities::updates`); for the
/// others they stay `pending` (neither refused nor marked sent) and, being
/// the newest message of their customer, hold nothing else back.
pub(super) async fn claim(
    conn: &mut SqliteConnection,
    endpoint: &str,
    limit: u32,
    now: DateTime<Utc>,
    updates: bool,
) -> Result<Vec<Claimed>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE outbox SET state = 'in-flight', endpoint = ?1, attempts = attempts + 1, updated_at = ?2
         WHERE id IN (
           SELECT o.id FROM outbox o INDEXED BY outbox_state_order
           WHERE o.state = 'pending' AND (o.endpoint IS NULL OR o.endpoint = ?1) AND o.next_attempt_at <= ?2
             AND (?5 OR o.kind != ?4)
             AND NOT EXISTS (
               SELECT 1 FROM outbox e
               WHERE e.customer_id = o.customer_id AND e.id < o.id AND e.state != 'sent'
                 AND (e.endpoint IS NULL OR e.endpoint = ?1))
           ORDER BY o.id LIMIT ?3)
         RETURNING id",
    )
    .bind(endpoint)
    .bind(time::to_db(now))
    .bind(limit)
    .bind(model::KIND_CUSTOMER_UPDATE)
    .bind(updates)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The claimed messages and their customers in one statement.
    let rows: Vec<ClaimedRow> = sqlx::query_as(&CLAIMED)
        .bind(serde_json::to_string(&ids).expect("integers always serialize"))
        .fetch_all(&mut *conn)
        .await?;
    if rows.len() != ids.len() {
        return Err(Error::Corrupt(format!(
            "{} claimed outbox messages refer to missing customers",
            ids.len() - rows.len()
        )));
    }
    rows.into_iter()
        .map(|r| {
            Ok(Claimed {
                message_id: r.message_id,
                attempts: r.message_attempts,
                kind: r.message_kind,
                payload: r.message_payload,
                customer: Customer::try_from(r.customer)?,
            })
        })
        .collect()
}

static CLAIMED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT o.id AS message_id, o.attempts AS message_attempts,
           o.kind AS message_kind, o.payload AS message_payload, {}
         FROM outbox o JOIN customers c ON c.id = o.customer_id
         WHERE o.id IN (SELECT value FROM json_each(?1))
         ORDER BY o.id",
        customers::columns_of("c")
    )
});

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    message_id: i64,
    message_attempts: i64,
    message_kind: String,
    message_payload: String,
    #[sqlx(flatten)]
    customer: CustomerRow,
}

/// The CRM confirmed these messages: sent, and each customer synced with its
/// CRM id unless another of its messages still waits.
pub(super) async fn mark_delivered(
    conn: &mut SqliteConnection,
    delivered: &[(i64, CustomerId, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    if delivered.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = delivered.iter().map(|(m, _, _)| *m).collect();
    let crm_ids: Vec<(String, &str)> = delivered
        .iter()
        .map(|(_, c, crm)| (c.to_string(), crm.as_str()))
        .collect();
    sqlx::query(
        "UPDATE outbox SET state = 'sent', last_error = NULL, refused_field = NULL, updated_at = ?2
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(serde_json::to_string(&ids).expect("integers always serialize"))
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE customers SET crm_id = d.crm_id, crm_version = NULL,
           sync_state = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.customer_id = customers.id AND o.state != 'sent'
                                          AND o.kind != ?2)
                             THEN sync_state ELSE 'synced' END
         FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS crm_id
               FROM json_each(?1)) AS d
         WHERE customers.id = d.id",
    )
    .bind(serde_json::to_string(&crm_ids).expect("strings always serialize"))
    // An edit waiting behind the create leaves the customer synced: it is
    // in the CRM; `pending_edit` shows the edit.
    .bind(model::KIND_CUSTOMER_UPDATE)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Updates the CRM took: sent, the CRM's new version kept as the record's
/// `crm_version_tag` (the next `If-Match`, and the pull's "not a remote
/// change"), and each conflict kept for a person.
pub(super) async fn mark_updated(
    conn: &mut SqliteConnection,
    updated: &[UpdatedRecord],
    now: DateTime<Utc>,
) -> Result<()> {
    let at = time::to_db(now);
    for u in updated {
        let key = u.customer.to_string();
        sqlx::query(
            "UPDATE outbox SET state = 'sent', last_error = NULL, refused_field = NULL, updated_at = ?2
             WHERE id = ?1",
        )
        .bind(u.message_id)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        if let Some(version) = &u.version {
            sqlx::query("UPDATE customers SET crm_version_tag = ?2 WHERE id = ?1")
                .bind(&key)
                .bind(version)
                .execute(&mut *conn)
                .await?;
        }
        for c in &u.conflicts {
            sqlx::query(
                "INSERT INTO update_conflicts (customer_id, field, ours, theirs, base, detected_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (customer_id, field) DO UPDATE SET
                   ours = excluded.ours, theirs = excluded.theirs, detected_at = excluded.detected_at",
            )
            .bind(&key)
            .bind(&c.field)
            .bind(&c.ours)
            .bind(&c.theirs)
            .bind(&c.base)
            .bind(&at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The CRM's versions of records just written (the next `If-Match`).
pub(super) async fn set_version_tags(
    conn: &mut SqliteConnection,
    versions: &[(CustomerId, String)],
) -> Result<()> {
    for (customer, version) in versions {
        sqlx::query("UPDATE customers SET crm_version_tag = ?2 WHERE id = ?1")
            .bind(customer.to_string())
            .bind(version)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// An update the CRM took, for [`mark_updated`].
#[derive(Debug, Clone)]
pub struct UpdatedRecord {
    pub message_id: i64,
    pub customer: CustomerId,
    /// The CRM's version of the record after the write.
    pub version: Option<String>,
    pub conflicts: Vec<crate::crm::connector::FieldConflict>,
}

/// The CRM refused the record: it waits in "needs attention" with the reason,
/// the field it named kept apart.
pub(super) async fn mark_refused(
    conn: &mut SqliteConnection,
    message_id: i64,
    error: &RecordError,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'needs-attention', last_error = ?2, refused_field = ?3, updated_at = ?4
         WHERE id = ?1",
    )
    .bind(message_id)
    .bind(&error.message)
    .bind(&error.field)
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Puts an in-flight message back in the queue, due at `next_attempt_at`.
pub(super) async fn release(
    conn: &mut SqliteConnection,
    message_id: i64,
    next_attempt_at: DateTime<Utc>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, last_error = ?3, refused_field = NULL, updated_at = ?4
         WHERE id = ?1 AND state = 'in-flight'",
    )
    .bind(message_id)
    .bind(time::to_db(next_attempt_at))
    .bind(error)
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Messages left in flight by a crash are due again; returns how many.
pub(super) async fn recover_in_flight(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?1, updated_at = ?1 WHERE state = 'in-flight'",
    )
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// A customer's refused messages are due again (after a fix); returns how
/// many. The refusal is over, so its field is cleared; its reason stays
/// readable as the last error, field in front, as before.
pub(super) async fn requeue_refused(
    conn: &mut SqliteConnection,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> Result<u64> {
    let refused: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, last_error, refused_field FROM outbox
         WHERE customer_id = ?1 AND state = 'needs-attention'",
    )
    .bind(customer.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let now = time::to_db(now);
    for (id, message, field) in &refused {
        let reason = message
            .as_deref()
            .map(|m| model::reason_text(field.as_deref(), m));
        sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, updated_at = ?2,
               last_error = ?3, refused_field = NULL
             WHERE id = ?1",
        )
        .bind(id)
        .bind(&now)
        .bind(reason)
        .execute(&mut *conn)
        .await?;
    }
    Ok(refused.len() as u64)
}

/// Waiting messages the CRM turned out to hold already (an earlier attempt's
/// answer was lost): sent.
pub(super) async fn mark_sent(
    conn: &mut SqliteConnection,
    message_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', last_error = NULL, refused_field = NULL, updated_at = ?2
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(serde_json::to_string(message_ids).expect("integers always serialize"))
    .bind(time::to_db(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- endpoints ------------------------------------------------------------

/// An endpoint was renamed: its messages follow the new name.
pub(super) async fn rename_endpoint(
    conn: &mut SqliteConnection,
    old: &str,
    new: &str,
) -> Result<()> {
    sqlx::query("UPDATE outbox SET endpoint = ?1 WHERE endpoint = ?2")
        .bind(new)
        .bind(old)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An endpoint was removed: its undelivered messages are unassigned again,
/// so whichever endpoint is primary now delivers them.
pub(super) async fn unassign_endpoint(conn: &mut SqliteConnection, endpoint: &str) -> Result<()> {
    sqlx::query("UPDATE outbox SET endpoint = NULL WHERE endpoint = ?1 AND state != 'sent'")
        .bind(endpoint)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
