//! Editing a stored customer, whoever made it (this device or the CRM): the
//! row, its place in the search indexer's queue and its `customer.update`
//! message change in one transaction. The payload's rules are
//! `outbox::UpdatePayload`'s; how a connector will deliver it is
//! docs/sync-engine.md, "Edits".

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

use super::outbox::{self, MessageWrite};
use super::{customers, time, CustomerChange, Store, StoreEvent};
use crate::crm::form::FormMetadata;
use crate::customer::phone::Region;
use crate::customer::validation::{self, ValidCustomer};
use crate::customer::{Customer, CustomerEdit, CustomerId, Field};
use crate::error::{Error, Result};
use crate::outbox::{
    FieldChange, OutboxState, UpdatePayload, KIND_CUSTOMER_CREATE, KIND_CUSTOMER_UPDATE,
};

impl Store {
    /// Applies `edit` to the customer: the customer as it would be after the
    /// edit is validated as a creation is (the same rules, then the cached
    /// CRM form), and on success the row, its place in the indexer's queue
    /// and the outbox change commit together. The outbox change is, by the
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
        let mut write = self.writer.connection().await?;
        let edited = edit_in_transaction(&mut write.conn, id, edit, &form, region).await;
        if !matches!(edited, Ok(Edited::Committed)) {
            customers::roll_back(&mut write.conn).await;
        }
        drop(write);
        if let Edited::Unchanged(current) = edited? {
            return Ok(*current);
        }
        self.index_queue.queued();
        self.customers_changed(CustomerChange::Edited, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        tracing::info!(customer = %id, "customer edited and its change queued");
        customers::get(&self.pool, id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))
    }
}

/// How an edit's transaction ended.
enum Edited {
    Committed,
    /// Nothing changed: nothing to write (the transaction is still open).
    Unchanged(Box<Customer>),
}

/// The edit in two round trips (see `customers::begin_edit`). Anything but
/// `Committed` leaves the transaction open for the caller to roll back.
async fn edit_in_transaction(
    conn: &mut PoolConnection<Sqlite>,
    id: CustomerId,
    edit: &CustomerEdit,
    form: &FormMetadata,
    region: Option<Region>,
) -> Result<Edited> {
    let start = customers::begin_edit(conn, id)
        .await?
        .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
    let current = &start.customer;
    if current.crm_deleted_at.is_some() {
        return Err(Error::Refused(
            "This customer was deleted in the CRM: discard it, or create it again as a new customer.".into(),
        ));
    }
    let valid =
        validation::check(&edit.applied_to(current), form, region).map_err(Error::Validation)?;
    let change = UpdatePayload {
        base_version: current.crm_version_tag.clone(),
        ..changes(current, &valid)
    };
    if change.is_empty() {
        return Ok(Edited::Unchanged(Box::new(start.customer)));
    }
    let now = time::now();
    let edited = Customer {
        fields: valid.fields.clone(),
        phone_e164: valid.phone_e164.clone(),
        attributes: valid.attributes.clone(),
        updated_at: now,
        ..current.clone()
    };
    let writes = plan(&start.unsent, &edited, change)?;
    customers::commit_edit(conn, &start, &valid, now, &writes).await?;
    Ok(Edited::Committed)
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
/// of [`Store::edit_customer`]), inside the caller's transaction (resolving
/// a conflict with "use mine").
pub(super) async fn queue_change(
    conn: &mut SqliteConnection,
    customer: &Customer,
    change: UpdatePayload,
    now: DateTime<Utc>,
) -> Result<()> {
    let unsent = outbox::unsent_messages_of(conn, customer.id).await?;
    for write in plan(&unsent, customer, change)? {
        write.apply(conn, customer.id, now).await?;
    }
    Ok(())
}

/// What a change does to the customer's unsent messages (oldest first; the
/// cases of [`Store::edit_customer`]). `customer` is the row as edited.
fn plan(
    unsent: &[outbox::Unsent],
    customer: &Customer,
    change: UpdatePayload,
) -> Result<Vec<MessageWrite>> {
    let waiting = |s: &str| {
        matches!(
            OutboxState::parse(s),
            Some(OutboxState::Pending | OutboxState::NeedsAttention)
        )
    };
    let mut writes = Vec::new();
    let create_waits = unsent
        .iter()
        .find(|m| m.kind == KIND_CUSTOMER_CREATE && waiting(&m.state));
    if let Some(create) = create_waits {
        let snapshot = serde_json::to_string(customer).expect("a customer always serializes");
        writes.push(MessageWrite::SetPayload {
            id: create.id,
            payload: snapshot,
        });
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
        writes.push(if merged.is_empty() {
            MessageWrite::DeletePending { id: update.id }
        } else {
            MessageWrite::SetPayload {
                id: update.id,
                payload: merged.to_json().to_string(),
            }
        });
    } else if create_waits.is_none() {
        writes.push(MessageWrite::EnqueueUpdate {
            payload: change.to_json().to_string(),
        });
    }
    Ok(writes)
}
