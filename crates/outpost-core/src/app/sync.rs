//! Delivery and the working set: status, the outbox, resubmitting, "Sync
//! now" / "Update now", and the one-shot sync and pull the CLI runs.

use serde::Serialize;

use super::error::{AppError, AppResult};
use super::input::{conflict_field, parse_key, DEFAULT_OUTBOX_PAGE};
use super::{Mode, Outpost};
use crate::error::Error;
use crate::outbox::{OutboxMessage, OutboxState};
use crate::status::{ConnectionState, StatusSnapshot};
use crate::store::WorkingSet;
use crate::sync::lease::{self, Lease};
use crate::sync::once::{flush_once, probe_primary, pull_once, FlushError, PullOnceError};

/// `outpost sync --once --json`: names are part of the CLI contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub delivered: u64,
    pub needs_attention: u64,
    pub pending: u64,
    /// Records deferred in this run (CRM busy or unreachable).
    pub deferred: u64,
    pub connection: ConnectionState,
    /// Present when this run delivered nothing because another Outpost
    /// process holds the delivery lease: `"another process is delivering"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Which process that is, in words (for people; not in the JSON).
    #[serde(skip)]
    pub other_deliverer: Option<String>,
}

/// `outpost pull --json`: names are part of the CLI contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullSummary {
    /// Records received from the CRM in this run.
    pub fetched: u64,
    /// Customers on this device afterwards (created here or pulled).
    pub total_local: u64,
    pub inserted: u64,
    pub updated: u64,
    pub linked: u64,
    pub conflicts: u64,
    /// Customers deleted in the CRM that left this device.
    pub removed: u64,
    /// Customers deleted in the CRM kept because an edit made here is unsent.
    pub deleted_in_crm: u64,
    /// Whether this run listed the CRM's deletions: `false` when the CRM
    /// cannot list them (deleted customers stay here), `null` when the run
    /// did not get that far.
    pub deletions_seen: Option<bool>,
    /// As in [`SyncReport::skipped`]: another process pulls for this database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip)]
    pub other_deliverer: Option<String>,
}

const NO_WORKING_SET: &str = "This computer does not keep the CRM's customers: no CRM is configured, or the working set is turned off in Settings.";

impl Outpost {
    /// Outbox counts with the primary CRM's connection state (one-shot: the
    /// CRM is probed once).
    pub async fn status(&self) -> AppResult<StatusSnapshot> {
        if let Mode::Running(engine) = &self.mode {
            return Ok(engine.status().await?);
        }
        let mut s = self.store.status().await?;
        // Held for an instant only: is a deliverer running (the window, a
        // `sync --watch` service)?
        if Lease::try_take(self.store.path())?.is_none() {
            s.other_deliverer = Some(Lease::describe_holder(self.store.path()));
        }
        if let Some((config, endpoint)) = probe_primary(&self.store, self.secrets.clone()).await? {
            s.connection = endpoint.state;
            s.last_error = endpoint.last_error;
            s.interception = endpoint.interception;
            s.last_success_at = self
                .store
                .last_success(&config.name)
                .await?
                .map(|t| t.to_rfc3339());
            s.api_budget = self.store.api_budget(&config.name).await?;
        }
        Ok(s)
    }

    /// Outbox messages in delivery order (absent limit: [`DEFAULT_OUTBOX_PAGE`]).
    pub async fn outbox(
        &self,
        state: Option<OutboxState>,
        limit: Option<u32>,
    ) -> AppResult<Vec<OutboxMessage>> {
        Ok(self
            .store
            .outbox(state, limit.unwrap_or(DEFAULT_OUTBOX_PAGE))
            .await?)
    }

    /// Resubmits a customer whose delivery needs attention; how many
    /// messages were queued again. The running engine sends them at once.
    pub async fn retry(&self, key: &str) -> AppResult<u64> {
        let id = parse_key(key)?;
        if self.store.customer(id).await?.is_none() {
            return Err(Error::CustomerNotFound(key.to_owned()).into());
        }
        let requeued = self.store.retry_customer(id).await?;
        if let Mode::Running(engine) = &self.mode {
            engine.sync_now().await;
        }
        Ok(requeued)
    }

    /// How big and how fresh the working set is.
    pub async fn working_set(&self) -> AppResult<WorkingSet> {
        if let Mode::Running(engine) = &self.mode {
            return Ok(engine.working_set().await?);
        }
        let primary = self.primary_config().await?;
        let mut ws = self
            .store
            .working_set(primary.as_ref().map(|c| c.name.as_str()))
            .await?;
        ws.pull_enabled = primary.is_some_and(|c| c.settings.pulls());
        Ok(ws)
    }

    /// "Update now": a working-set pull at once (or when the CRM is back);
    /// refused in words when the primary endpoint keeps no working set.
    pub async fn pull_now(&self) -> AppResult<()> {
        match &self.mode {
            Mode::Running(engine) if engine.pull_now().await => Ok(()),
            Mode::Running(_) => Err(AppError::refused(NO_WORKING_SET)),
            Mode::OneShot => self.pull_once(None).await.map(drop),
        }
    }

    /// "Sync now" / "Retry now": probe the CRM and send what is due.
    pub async fn sync_now(&self) -> AppResult<()> {
        match &self.mode {
            Mode::Running(engine) => {
                engine.sync_now().await;
                Ok(())
            }
            Mode::OneShot => self.sync_once().await.map(drop),
        }
    }

    /// The window regained focus: a good moment to re-check the CRM.
    pub async fn retry_now(&self) {
        if let Mode::Running(engine) = &self.mode {
            engine.retry_now().await;
        }
    }

    /// Delivers what is due to the primary CRM, waits for the outcome and
    /// reports (`outpost sync --once`). When another process holds the
    /// delivery lease (beside a window or a `sync --watch` service, or this
    /// process's own engine) it waits up to [`lease::ONE_SHOT_WAIT`], then
    /// reports `skipped` with the counts as they stand: that process delivers.
    pub async fn sync_once(&self) -> AppResult<SyncReport> {
        let (summary, other_deliverer) = match flush_once(&self.store, self.secrets.clone()).await {
            Ok(summary) => (Some(summary), None),
            Err(FlushError::AnotherDeliverer(holder)) => (None, Some(holder)),
            Err(e) => return Err(e.into()),
        };
        let connection = match &summary {
            Some(s) => s.status.state,
            None => self.probed_connection().await?,
        };
        let status = self.store.status().await?;
        Ok(SyncReport {
            delivered: summary.as_ref().map_or(0, |s| s.round.delivered),
            needs_attention: status.needs_attention,
            pending: status.pending,
            deferred: summary.as_ref().map_or(0, |s| s.round.deferred),
            connection,
            skipped: other_deliverer
                .is_some()
                .then(|| lease::ANOTHER_PROCESS.to_owned()),
            other_deliverer,
        })
    }

    /// One incremental working-set pull from `endpoint` (the primary when
    /// absent), resuming an interrupted one (`outpost pull`). Beside another
    /// deliverer it is `skipped` like [`Outpost::sync_once`]: that one pulls.
    pub async fn pull_once(&self, endpoint: Option<&str>) -> AppResult<PullSummary> {
        let (report, other_deliverer) =
            match pull_once(&self.store, self.secrets.clone(), endpoint).await {
                Ok(report) => (report, None),
                Err(PullOnceError::AnotherDeliverer(holder)) => (Default::default(), Some(holder)),
                Err(e) => return Err(e.into()),
            };
        let total_local = self.store.working_set(None).await?.total_local;
        Ok(PullSummary {
            fetched: report.fetched,
            total_local,
            inserted: report.inserted,
            updated: report.updated,
            linked: report.linked,
            conflicts: report.conflicts,
            removed: report.removed,
            deleted_in_crm: report.deleted_in_crm,
            deletions_seen: report.deletions_listed,
            skipped: other_deliverer
                .is_some()
                .then(|| lease::ANOTHER_PROCESS.to_owned()),
            other_deliverer,
        })
    }

    /// The primary CRM's connection state from one probe.
    async fn probed_connection(&self) -> AppResult<ConnectionState> {
        Ok(probe_primary(&self.store, self.secrets.clone())
            .await?
            .map_or(ConnectionState::NotConfigured, |(_, s)| s.state))
    }
}

/// Conflicts found while delivering edits, and settling them.
impl Outpost {
    /// Every conflict waiting for a person, oldest first.
    pub async fn conflicts(&self) -> AppResult<Vec<crate::store::Conflict>> {
        Ok(self.store.conflicts().await?)
    }

    /// One customer's open conflicts (the detail view); an unknown key is
    /// `CustomerNotFound`, a customer without conflicts an empty list.
    pub async fn conflicts_of(&self, key: &str) -> AppResult<Vec<crate::store::Conflict>> {
        let id = self.customer(key).await?.id;
        let mut all = self.store.conflicts().await?;
        all.retain(|c| c.customer_id == id);
        Ok(all)
    }

    /// "Use mine" (queued with the CRM's value as its base, sent at once
    /// when online) or "keep the CRM's" for one field of one customer.
    pub async fn resolve_conflict(
        &self,
        key: &str,
        field: &str,
        choice: crate::store::Resolution,
    ) -> AppResult<crate::Customer> {
        let id = parse_key(key)?;
        let field = conflict_field(field)?;
        // An unknown customer is said as such, not as "no conflict".
        self.customer(key).await?;
        let customer = self.store.resolve_conflict(id, field, choice).await?;
        if let Mode::Running(engine) = &self.mode {
            engine.sync_now().await;
        }
        Ok(customer)
    }
}
