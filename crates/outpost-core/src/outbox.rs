//! The outbox: one durable message per change that must reach the CRM. It is
//! written in the same transaction as the change itself, so a customer can
//! never exist locally without the message that will deliver it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Sqlite, SqliteConnection};
use ts_rs::TS;

use crate::customer::CustomerId;
use crate::error::{Error, Result};
use crate::store::time;

pub const KIND_CUSTOMER_CREATE: &str = "customer.create";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Handed to the CRM; the outcome is not yet recorded.
    InFlight,
    /// The CRM refused it; a person must fix or discard it.
    NeedsAttention,
    /// Delivered and confirmed.
    Sent,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::InFlight,
        OutboxState::NeedsAttention,
        OutboxState::Sent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::InFlight => "in-flight",
            OutboxState::NeedsAttention => "needs-attention",
            OutboxState::Sent => "sent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One outbox message. Field names are part of the CLI's `--json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxMessage {
    /// Increasing: delivery follows this order.
    #[ts(type = "number")]
    pub id: i64,
    pub customer_id: CustomerId,
    pub kind: String,
    pub state: OutboxState,
    #[ts(type = "number")]
    pub attempts: i64,
    #[ts(type = "string")]
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// The snapshot that will be sent.
    pub payload: serde_json::Value,
}

/// Appends a message inside the caller's transaction.
pub(crate) async fn enqueue(
    conn: &mut SqliteConnection,
    customer_id: CustomerId,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    let now = time::to_db(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (customer_id, kind, payload, state, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4)
         RETURNING id",
    )
    .bind(customer_id.to_string())
    .bind(kind)
    .bind(payload.to_string())
    .bind(&now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

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
    created_at: String,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = Error;
    fn try_from(r: OutboxRow) -> Result<Self> {
        Ok(OutboxMessage {
            id: r.id,
            customer_id: r
                .customer_id
                .parse()
                .map_err(|_| Error::Corrupt(format!("outbox {} has a bad customer key", r.id)))?,
            kind: r.kind,
            state: OutboxState::parse(&r.state).ok_or_else(|| {
                Error::Corrupt(format!("outbox {} has state {:?}", r.id, r.state))
            })?,
            attempts: r.attempts,
            next_attempt_at: time::from_db(&r.next_attempt_at)?,
            last_error: r.last_error,
            created_at: time::from_db(&r.created_at)?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| Error::Corrupt(format!("outbox {} payload: {e}", r.id)))?,
        })
    }
}

/// Messages in delivery order, optionally only those in one state.
pub(crate) async fn list<'e, E>(
    exec: E,
    state: Option<OutboxState>,
    limit: u32,
) -> Result<Vec<OutboxMessage>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "SELECT id, customer_id, kind, payload, state, attempts, next_attempt_at, last_error, created_at
         FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id LIMIT ?2",
    )
    .bind(state.map(OutboxState::as_str))
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter().map(OutboxMessage::try_from).collect()
}

/// Number of messages per state.
pub(crate) async fn counts<'e, E>(exec: E) -> Result<Vec<(OutboxState, u64)>>
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
