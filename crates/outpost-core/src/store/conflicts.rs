//! Conflicts an update's delivery found (`update_conflicts`): the CRM's
//! value stayed, ours waits here for a person ("use mine" / "keep the CRM's").

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{time, Store};
use crate::customer::CustomerId;
use crate::error::{Error, Result};

/// One conflicting field; values in Outpost's stored form, `None` for none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub customer_id: CustomerId,
    pub field: String,
    pub ours: Option<String>,
    pub theirs: Option<String>,
    pub base: Option<String>,
    pub detected_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: String,
    field: String,
    ours: Option<String>,
    theirs: Option<String>,
    base: Option<String>,
    detected_at: String,
}

impl Store {
    /// Every open conflict, oldest first.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT customer_id, field, ours, theirs, base, detected_at FROM update_conflicts
             ORDER BY detected_at, customer_id, field",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Conflict {
                    customer_id: r
                        .customer_id
                        .parse()
                        .map_err(|_| Error::Corrupt(format!("conflict key {}", r.customer_id)))?,
                    field: r.field,
                    ours: r.ours,
                    theirs: r.theirs,
                    base: r.base,
                    detected_at: time::from_db(&r.detected_at)?,
                })
            })
            .collect()
    }

    /// How many conflicts wait for a person.
    pub async fn conflict_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM update_conflicts")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}
