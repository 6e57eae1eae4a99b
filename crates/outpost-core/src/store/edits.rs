//! Editing a stored customer, whoever made it (this device or the CRM): the
//! row, its search entries and its `customer.update` message change in one
//! transaction. The payload's rules are `outbox::UpdatePayload`'s; how a
//! connector will deliver it is docs/sync-engine.md, "Edits".

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{customers, outbox, time, CustomerChange, Store, StoreEvent};
use crate::customer::validation::{self, ValidCustomer};
use crate::customer::{Customer, CustomerEdit, CustomerId, Field};
use crate::error::{Error, Result};
use crate::outbox::{
    FieldChange, OutboxState, UpdatePayload, KIND_CUSTOMER_CREATE, KIND_CUSTOMER_UPDATE,
};

impl Store {
    /// Applies `edit` to the customer: the customer as it would be after the
    /// edit is validated as a creation is (the same rules, then the cached
    /// CRM form), and on success the row, its search entries and the
    /// outbox change commit together. The outbox change is, by the
    /// customer's messages:
    ///
    /// - a pending update (not yet claimed) exists: the edit merges into it,
    ///   keeping each field's first base; a field back at its base drops
    ///   out, and an update left empty is removed;
    /// - its create has not gone yet (pending, or refused and waiting for a
    ///   person): the edit folds into the create, which sends the row as it
    ///   is when claimed (its payload is rewritten to match); no update;
    /// - otherwise (the create was sent or is being sent, an update is being
    ///   sent, or the customer came from the CRM): a new `customer.update`
    ///   with the changed fields, after the customer's other messages.
    ///
    /// An edit that changes nothing writes nothing. An unknown key is
    /// [`Error::CustomerNotFound`].
    pub async fn edit_customer(&self, id: CustomerId, edit: &CustomerEdit) -> Result<Customer> {
        let form = self.current_form().await?;
        let region = self.default_region();
        let mut tx = self.write_tx().await?;
        let current = customers::get(&mut *tx, id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
        if current.crm_deleted_at.is_some() {
            return Err(Error::Refused(
                "This customer was deleted in the CRM: discard it, or create it again as a new customer.".into(),
            ));
        }
        let valid = validation::check(&edit.applied_to(&current), &form, region)
            .map_err(Error::Validation)?;
        let change = UpdatePayload {
            base_version: current.crm_version_tag.clone(),
            ..changes(&current, &valid)
        };
        if change.is_empty() {
            return Ok(current);
        }
        let now = time::now();
        let customer = customers::update_index_later(&mut tx, id, &valid, now)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
        queue_change(&mut tx, &customer, change, now).await?;
        tx.commit().await?;
        self.index_queue.queued();
        self.customers_changed(CustomerChange::Edited, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        tracing::info!(customer = %id, "customer edited and its change queued");
        customers::get(&self.pool, id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))
    }
}

/// The fields (and form attributes) whose stored value the edit changes,
/// each from its current value to the new one. Compared in stored form, so
/// retyping a value the same way is no change.
fn changes(current: &Customer, valid: &ValidCustomer) -> UpdatePayload {
    let fields = Field::ALL
        .iter()
        .filter_map(|&f| {
            let (base, new) = (current.fields.get(f), valid.fields.get(f));
            (base != new).then(|| {
                let change = FieldChange {
                    base: base.map(str::to_owned),
                    new: new.map(str::to_owned),
                };
                (f, change)
            })
        })
        .collect();
    let names: std::collections::BTreeSet<&String> = current
        .attributes
        .keys()
        .chain(valid.attributes.keys())
        .collect();
    let attributes = names
        .into_iter()
        .filter_map(|name| {
            let (base, new) = (current.attributes.get(name), valid.attributes.get(name));
            (base != new).then(|| {
                let change = FieldChange {
                    base: base.cloned(),
                    new: new.cloned(),
                };
                (name.clone(), change)
            })
        })
        .collect();
    UpdatePayload {
        base_version: None,
        fields,
        attributes,
    }
}

/// Merges the change into the customer's messages or queues it (the cases
/// of [`Store::edit_customer`]), inside the edit's transaction.
pub(super) async fn queue_change(
    conn: &mut SqliteConnection,
    customer: &Customer,
    change: UpdatePayload,
    now: DateTime<Utc>,
) -> Result<()> {
    let unsent = outbox::unsent_messages_of(conn, customer.id).await?;
    let waiting = |s: &str| {
        matches!(
            OutboxState::parse(s),
            Some(OutboxState::Pending | OutboxState::NeedsAttention)
        )
    };
    let create_waits = unsent
        .iter()
        .find(|m| m.kind == KIND_CUSTOMER_CREATE && waiting(&m.state));
    if let Some(create) = create_waits {
        let snapshot = serde_json::to_value(customer).expect("a customer always serializes");
        outbox::set_payload(conn, create.id, &snapshot, now).await?;
    }
    // Claims go oldest first and one per customer, so only the newest
    // message can be merged into without overtaking another.
    let last = unsent.last();
    if let Some(update) = last.filter(|m| {
        m.kind == KIND_CUSTOMER_UPDATE && OutboxState::parse(&m.state) == Some(OutboxState::Pending)
    }) {
        let mut merged: UpdatePayload = serde_json::from_str(&update.payload)
            .map_err(|e| Error::Corrupt(format!("outbox {} payload: {e}", update.id)))?;
        merged.merge(change);
        if merged.is_empty() {
            outbox::delete_pending(conn, update.id).await?;
        } else {
            outbox::set_payload(conn, update.id, &merged.to_json(), now).await?;
        }
        return Ok(());
    }
    if create_waits.is_some() {
        return Ok(());
    }
    outbox::enqueue(
        conn,
        customer.id,
        KIND_CUSTOMER_UPDATE,
        &change.to_json(),
        now,
    )
    .await?;
    Ok(())
}
