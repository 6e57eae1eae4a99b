//! The outbox flusher: one per endpoint that receives creations. Takes due
//! messages in order, at most a batch at a time, delivers them through the
//! connector and records every outcome. Wakes on a new message, the monitor
//! going online, the next retry falling due, or "Sync now".

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::monitor::Monitor;
use crate::crm::connector::{
    CallInfo, CrmConnector, Delivery, Outgoing, OutgoingUpdate, RecordOutcome, UpdateOutcome,
};
use crate::crm::error::{ConnectorError, ErrorClass, RecordError};
use crate::error::Result;
use crate::outbox;
use crate::status::ConnectionState;
use crate::store::{AuditEntry, Claimed, RoundOutcomes, Store, UpdatedRecord};

/// Per-message retry delays after 5xx / 429 answers.
pub const RETRY_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
/// Upper bound on an idle wait: messages queued by another process on the
/// same database (which send no event here) go within about this long, and a
/// clock change cannot strand the queue.
pub const OTHER_PROCESSES_POLL: Duration = Duration::from_secs(1);

/// What one round delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundResult {
    pub delivered: u64,
    pub rejected: u64,
    pub deferred: u64,
}

impl std::ops::AddAssign for RoundResult {
    fn add_assign(&mut self, r: RoundResult) {
        self.delivered += r.delivered;
        self.rejected += r.rejected;
        self.deferred += r.deferred;
    }
}

/// Rounds one call of [`Flusher::round`] overlaps at most before it hands
/// control back (to notice a stop, the monitor, a new configuration).
const PIPELINED_ROUNDS: usize = 16;
/// Requests per concurrency slot in one round (see [`requests_per_round`]).
const REQUESTS_PER_SLOT: usize = 4;

pub struct Flusher {
    endpoint: String,
    store: Store,
    connector: Arc<dyn CrmConnector>,
    monitor: Arc<Monitor>,
    batch_size: u32,
    wake: Notify,
    /// A round the CRM answered whose outcomes could not be stored (a full
    /// disk): its messages are still in flight here, so the next round
    /// stores these outcomes first instead of leaving them in flight until
    /// the next start (and sending them again then).
    unrecorded: tokio::sync::Mutex<Option<(Vec<Claimed>, Vec<Done>)>>,
    /// The connector delivers `customer.update` messages; without it they
    /// wait, pending, for a connector that does.
    updates: bool,
}

/// What the CRM said about one claimed message.
#[derive(Debug, Clone)]
pub enum Done {
    Created(Delivery),
    Updated(UpdateOutcome),
}

impl Done {
    /// The request failed (the message goes back in the queue).
    fn failed(&self) -> bool {
        matches!(
            self,
            Done::Created(Delivery {
                outcome: RecordOutcome::Failed(_),
                ..
            }) | Done::Updated(UpdateOutcome::Failed(_))
        )
    }
}

impl Flusher {
    pub fn new(
        endpoint: &str,
        store: Store,
        connector: Arc<dyn CrmConnector>,
        monitor: Arc<Monitor>,
        batch_size: u32,
    ) -> Arc<Self> {
        let capabilities = connector.capabilities();
        let max = capabilities.max_batch.max(1) as u32;
        Arc::new(Flusher {
            endpoint: endpoint.to_owned(),
            store,
            connector,
            monitor,
            // `batch_size` is records per request; a round has a request's
            // worth for each the connector sends at once, several per slot
            // where there are several slots, so a slot freed early takes
            // the next request instead of waiting for the round's slowest.
            batch_size: batch_size
                .clamp(1, max)
                .saturating_mul(requests_per_round(capabilities.requests_at_once)),
            wake: Notify::new(),
            unrecorded: Default::default(),
            updates: capabilities.updates,
        })
    }

    /// A new message, or "Sync now".
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until cancelled. Store errors are logged and retried: the queue
    /// must not die because the disk hiccupped once.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut status = self.monitor.subscribe();
        loop {
            if cancel.is_cancelled() {
                return;
            }
            if self.monitor.state() != ConnectionState::Online {
                status.borrow_and_update();
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = status.changed() => {}
                    _ = self.wake.notified() => self.monitor.probe_now(),
                }
                continue;
            }
            match self.round().await {
                Ok(r) if r.delivered + r.rejected + r.deferred > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(endpoint = %self.endpoint, error = %e, "outbox round failed")
                }
            }
            if !self.idle(&cancel, &mut status).await {
                return;
            }
        }
    }

    /// Waits until woken, the monitor changes, or a message is due; `false`
    /// when cancelled. Messages another process queued (a window beside
    /// `outpost sync --watch`) send no event to this one: the next due time
    /// is read again at least every [`OTHER_PROCESSES_POLL`].
    async fn idle(
        &self,
        cancel: &CancellationToken,
        status: &mut tokio::sync::watch::Receiver<super::monitor::EndpointStatus>,
    ) -> bool {
        loop {
            let wait = match self.store.next_due_for(&self.endpoint, self.updates).await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(OTHER_PROCESSES_POLL),
                Ok(None) => OTHER_PROCESSES_POLL,
                Err(_) => Duration::from_secs(1),
            };
            status.borrow_and_update();
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = self.wake.notified() => return true,
                _ = status.changed() => return true,
                _ = tokio::time::sleep(wait) => {}
            }
            // A read, so an idle flusher never takes the write lock for nothing.
            if let Ok(Some(at)) = self.store.next_due_for(&self.endpoint, self.updates).await {
                if at <= Utc::now() {
                    return true;
                }
            }
        }
    }

    /// Claims one batch of due messages and delivers it. An empty result
    /// means nothing was due.
    ///
    /// While the CRM takes every record of a batch, the next batch is
    /// claimed and goes out while this one's outcomes are stored (up to
    /// [`PIPELINED_ROUNDS`]): the local bookkeeping no longer leaves the
    /// CRM's capacity idle between batches. Claims hold one message per
    /// customer and none while an earlier one is unsent (`outbox::claim`),
    /// so a later change still waits for its customer's earlier one.
    pub async fn round(&self) -> Result<RoundResult> {
        let mut unrecorded = self.unrecorded.lock().await;
        if let Some((claimed, deliveries)) = unrecorded.take() {
            let in_flight = match self.in_flight().await {
                Ok(ids) => ids,
                Err(e) => {
                    *unrecorded = Some((claimed, deliveries));
                    return Err(e);
                }
            };
            if claimed.iter().all(|c| in_flight.contains(&c.message_id)) {
                return self
                    .record_or_keep(&mut unrecorded, claimed, deliveries)
                    .await;
            }
            // Taken back meanwhile (recovered): they go again, which the
            // idempotent upsert makes safe.
        }
        let mut claimed = self
            .store
            .claim_due_for(&self.endpoint, self.batch_size, Utc::now(), self.updates)
            .await?;
        if claimed.is_empty() {
            return Ok(RoundResult::default());
        }
        let mut total = RoundResult::default();
        // The batch before this one, delivered, its outcomes being stored.
        let mut previous: Option<(Vec<Claimed>, Vec<Done>)> = None;
        let mut clean = true;
        for turn in 1..=PIPELINED_ROUNDS {
            // The next batch is claimed while this one is out, as long as
            // the CRM took everything so far; a batch claimed is always
            // sent (after a failure, one batch more learns it too).
            let claim_next =
                clean && turn < PIPELINED_ROUNDS && self.monitor.state() == ConnectionState::Online;
            let (recorded, done, next) = tokio::join!(
                async {
                    match &previous {
                        Some((c, d)) => Some(self.record(c, d).await),
                        None => None,
                    }
                },
                self.deliver(&claimed),
                async {
                    if !claim_next {
                        return Vec::new();
                    }
                    self.store
                        .claim_due_for(&self.endpoint, self.batch_size, Utc::now(), self.updates)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(endpoint = %self.endpoint, error = %e, "could not claim the next batch");
                            Vec::new()
                        })
                },
            );
            if let Some(recorded) = recorded {
                match recorded {
                    Ok(r) => total += r,
                    Err(e) => {
                        // Everything answered waits for the next round to
                        // store it; a batch claimed meanwhile goes first.
                        let next_done = self.deliver(&next).await;
                        let (mut c, mut d) = previous.take().expect("recorded a previous batch");
                        c.extend(claimed);
                        d.extend(done);
                        c.extend(next);
                        d.extend(next_done);
                        *unrecorded = Some((c, d));
                        return Err(e);
                    }
                }
            }
            clean = done.iter().all(|d| !d.failed());
            if next.is_empty() {
                total += self.record_or_keep(&mut unrecorded, claimed, done).await?;
                return Ok(total);
            }
            previous = Some((claimed, done));
            claimed = next;
        }
        unreachable!("the last turn claims nothing next, so it returns")
    }

    /// Creates go in one batch; each update with the CRM's precondition
    /// (claims hold one message per customer, so they cannot race).
    async fn deliver(&self, claimed: &[Claimed]) -> Vec<Done> {
        let is_update = |c: &Claimed| c.kind == outbox::KIND_CUSTOMER_UPDATE;
        let creates: Vec<&Claimed> = claimed.iter().filter(|c| !is_update(c)).collect();
        let mut created = if creates.is_empty() {
            Vec::new()
        } else {
            let outgoing: Vec<_> = creates
                .iter()
                .map(|c| Outgoing {
                    customer: c.customer.clone(),
                    earlier_attempts: earlier(c),
                })
                .collect();
            match self.connector.upsert_batch(&outgoing).await {
                Ok(d) if d.len() == creates.len() => d,
                Ok(d) => {
                    let e = ConnectorError::Protocol(format!(
                        "{} results for {} records",
                        d.len(),
                        creates.len()
                    ));
                    creates.iter().map(|_| failed(e.clone())).collect()
                }
                Err(e) => creates.iter().map(|_| failed(e.clone())).collect(),
            }
        }
        .into_iter();
        // Updates go in one call, so a CRM with batch reads and writes
        // (HubSpot) needs two requests for the lot.
        let mut unreadable = Vec::new();
        let mut outgoing = Vec::new();
        for (i, c) in claimed.iter().enumerate().filter(|(_, c)| is_update(c)) {
            match serde_json::from_str(&c.payload) {
                Ok(change) => outgoing.push(OutgoingUpdate {
                    customer: c.customer.clone(),
                    change,
                    earlier_attempts: earlier(c),
                }),
                Err(e) => unreadable.push((
                    i,
                    UpdateOutcome::Rejected(RecordError {
                        message: format!("the queued change cannot be read: {e}"),
                        field: None,
                    }),
                )),
            }
        }
        let mut updated = if outgoing.is_empty() {
            Vec::new()
        } else {
            let d = self.connector.update_batch(&outgoing).await;
            if d.len() == outgoing.len() {
                d
            } else {
                let e = ConnectorError::Protocol(format!(
                    "{} results for {} updates",
                    d.len(),
                    outgoing.len()
                ));
                outgoing
                    .iter()
                    .map(|_| UpdateOutcome::Failed(e.clone()))
                    .collect()
            }
        }
        .into_iter();
        let mut unreadable = unreadable.into_iter().peekable();
        let mut done = Vec::with_capacity(claimed.len());
        for (i, c) in claimed.iter().enumerate() {
            if !is_update(c) {
                done.push(Done::Created(created.next().expect("one per create")));
            } else if unreadable.peek().is_some_and(|(at, _)| *at == i) {
                let (_, outcome) = unreadable.next().expect("peeked");
                done.push(Done::Updated(outcome));
            } else {
                done.push(Done::Updated(updated.next().expect("one per update")));
            }
        }
        done
    }

    /// The messages in flight now.
    async fn in_flight(&self) -> Result<std::collections::HashSet<i64>> {
        Ok(self
            .store
            .outbox(Some(outbox::OutboxState::InFlight), u32::MAX)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect())
    }

    /// Records a round's outcomes, or keeps them for the next round when
    /// the store cannot take them now.
    async fn record_or_keep(
        &self,
        unrecorded: &mut Option<(Vec<Claimed>, Vec<Done>)>,
        claimed: Vec<Claimed>,
        deliveries: Vec<Done>,
    ) -> Result<RoundResult> {
        let recorded = self.record(&claimed, &deliveries).await;
        if recorded.is_err() {
            *unrecorded = Some((claimed, deliveries));
        }
        recorded
    }

    /// Records the round's outcomes in one transaction (see
    /// [`Store::record_round`]).
    async fn record(&self, claimed: &[Claimed], deliveries: &[Done]) -> Result<RoundResult> {
        let mut result = RoundResult::default();
        // One retry time per round: records that failed together wait together,
        // so a failing CRM sees one retry, not one per record.
        let mut retry_at = None;
        // What each call came to, for the audit log: (customer, outcome, CRM id, detail).
        let mut calls = Vec::with_capacity(claimed.len());
        let mut delivered = Vec::new();
        let mut refused = Vec::new();
        let mut released = Vec::new();
        let mut updated = Vec::new();
        let mut versions = Vec::new();
        let no_call = CallInfo::default();
        for (c, d) in claimed.iter().zip(deliveries) {
            let key = c.customer.id;
            // An update's outcome in a create's terms, where they agree.
            let (op, outcome, call) = match d {
                Done::Created(d) => ("customer.upsert", d.outcome.clone(), &d.call),
                Done::Updated(UpdateOutcome::Applied { version, conflicts }) => {
                    updated.push(UpdatedRecord {
                        message_id: c.message_id,
                        customer: key,
                        version: version.clone(),
                        conflicts: conflicts.clone(),
                    });
                    result.delivered += 1;
                    let detail = (!conflicts.is_empty())
                        .then(|| format!("{} conflicting field(s) kept", conflicts.len()));
                    let crm_id = c.customer.crm_id.clone();
                    calls.push((key, "customer.update", "updated", crm_id, detail, &no_call));
                    continue;
                }
                Done::Updated(UpdateOutcome::Rejected(r)) => (
                    "customer.update",
                    RecordOutcome::Rejected(r.clone()),
                    &no_call,
                ),
                Done::Updated(UpdateOutcome::Failed(e)) => (
                    "customer.update",
                    RecordOutcome::Failed(e.clone()),
                    &no_call,
                ),
            };
            match &outcome {
                RecordOutcome::Delivered { crm_id, version } => {
                    delivered.push((c.message_id, key, crm_id.clone()));
                    if let Some(v) = version {
                        versions.push((key, v.clone()));
                    }
                    result.delivered += 1;
                    calls.push((key, op, "delivered", Some(crm_id.clone()), None, call));
                }
                RecordOutcome::Rejected(r) => {
                    let reason = outbox::reason_text(r.field.as_deref(), &r.message);
                    refused.push((c.message_id, key, r.clone()));
                    result.rejected += 1;
                    calls.push((key, op, "rejected", None, Some(reason), call));
                }
                RecordOutcome::Failed(e) => {
                    let next = *retry_at.get_or_insert_with(|| next_attempt(c, e));
                    self.monitor.report_failure(e);
                    released.push((c.message_id, next, e.to_string()));
                    result.deferred += 1;
                    let class = class_name(e.class());
                    calls.push((key, op, class, None, Some(e.to_string()), call));
                }
            }
        }
        let audit = calls
            .iter()
            .map(|(key, op, outcome, crm_id, detail, call)| AuditEntry {
                endpoint: &self.endpoint,
                operation: op,
                customer_id: Some(*key),
                crm_id: crm_id.as_deref(),
                outcome: match call.status {
                    Some(s) => format!("{s} {outcome}"),
                    None => (*outcome).to_owned(),
                },
                duration_ms: call.duration.as_millis() as i64,
                request_id: call.request_id.as_deref(),
                detail: detail.as_deref(),
            })
            .collect();
        self.store
            .record_round(&RoundOutcomes {
                endpoint: &self.endpoint,
                api_budget: self.connector.api_budget(),
                device_usage: self.connector.device_usage(),
                delivered,
                versions,
                updated,
                refused,
                released,
                audit,
            })
            .await?;
        // The CRM answered for some record: it is there, whatever it said.
        if result.delivered + result.rejected > 0 {
            self.monitor.report_success();
        }
        tracing::info!(
            endpoint = %self.endpoint,
            delivered = result.delivered,
            rejected = result.rejected,
            deferred = result.deferred,
            "outbox round"
        );
        Ok(result)
    }
}

/// Requests a round carries: one for a CRM that takes one at a time,
/// [`REQUESTS_PER_SLOT`] per slot for one that takes several.
fn requests_per_round(at_once: usize) -> u32 {
    match at_once {
        0 | 1 => 1,
        n => (n * REQUESTS_PER_SLOT) as u32,
    }
}

/// When a message that failed with `e` is due again, by the failure's class.
fn next_attempt(c: &Claimed, e: &ConnectorError) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    match e.class() {
        // Not the message's fault: due again the moment the CRM is back.
        ErrorClass::Offline | ErrorClass::Queue => now,
        ErrorClass::Transient => {
            let backoff = RETRY_BACKOFF.delay(c.attempts.saturating_sub(1) as u32);
            let wait = e.retry_after().map_or(backoff, |ra| ra.max(backoff));
            now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero())
        }
    }
}

fn earlier(c: &Claimed) -> u32 {
    c.attempts.saturating_sub(1).max(0) as u32
}

fn failed(e: ConnectorError) -> Delivery {
    Delivery {
        outcome: RecordOutcome::Failed(e),
        call: CallInfo::default(),
    }
}

fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::Offline => "offline",
        ErrorClass::Transient => "transient",
        ErrorClass::Queue => "queue-paused",
    }
}
