//! Conflicts an update's delivery found (`update_conflicts`): the CRM's
//! value stayed, ours waits here for a person ("use mine" / "keep the CRM's").

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use super::{customers, edits, time, CustomerChange, Store, StoreEvent};
use crate::customer::validation;
use crate::customer::{Customer, CustomerEdit, CustomerId, Field};
use crate::error::{Error, Result};
use crate::outbox::{FieldChange, UpdatePayload};

/// What a person chose for a conflicting field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Send ours, with the CRM's current value as the base.
    Mine,
    /// Keep the CRM's value and drop ours.
    Crm,
}

/// One conflicting field; values in Outpost's stored form, `None` for none.
/// Field names are part of the CLI's `outpost conflicts list --json`
/// contract and of the `list_conflicts` IPC answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Conflict {
    pub customer_id: CustomerId,
    /// A customer field's JSON name (`phone`) or a CRM form field's name.
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

    /// Settles one conflict: the local row takes the chosen value; "mine"
    /// also queues it as an update whose base is the CRM's value (so it is
    /// sent only while the CRM still holds that). One transaction.
    pub async fn resolve_conflict(
        &self,
        id: CustomerId,
        field: &str,
        choice: Resolution,
    ) -> Result<Customer> {
        let form = self.current_form().await?;
        let region = self.default_region();
        let mut tx = self.write_tx().await?;
        let values: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT ours, theirs FROM update_conflicts WHERE customer_id = ?1 AND field = ?2",
        )
        .bind(id.to_string())
        .bind(field)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((ours, theirs)) = values else {
            return Err(Error::ConflictNotFound {
                customer: id.to_string(),
                field: field.to_owned(),
            });
        };
        let current = customers::get(&mut *tx, id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
        let chosen = match choice {
            Resolution::Mine => ours.clone(),
            Resolution::Crm => theirs.clone(),
        };
        let mut edit = CustomerEdit::default();
        match Field::from_name(field) {
            Some(f) => edit.fields.insert(f, chosen),
            None => edit.attributes.insert(field.to_owned(), chosen),
        };
        let valid = validation::check(&edit.applied_to(&current), &form, region)
            .map_err(Error::Validation)?;
        let now = time::now();
        let customer = customers::update(&mut tx, id, &valid, now)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
        if choice == Resolution::Mine && ours != theirs {
            let change = FieldChange {
                base: theirs,
                new: ours,
            };
            let mut payload = UpdatePayload {
                base_version: current.crm_version_tag.clone(),
                ..Default::default()
            };
            match Field::from_name(field) {
                Some(f) => payload.fields.insert(f, change),
                None => payload.attributes.insert(field.to_owned(), change),
            };
            edits::queue_change(&mut tx, &customer, payload, now).await?;
        }
        sqlx::query("DELETE FROM update_conflicts WHERE customer_id = ?1 AND field = ?2")
            .bind(id.to_string())
            .bind(field)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.customers_changed(CustomerChange::Edited, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        customers::get(&self.pool, id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))
    }
}
