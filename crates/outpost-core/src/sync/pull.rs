//! The working-set pull: keeps the CRM's customers on this device, fresh and
//! searchable offline, one page at a time.
//!
//! A pass lists what changed in the CRM since the previous pass (the
//! connector's own paging: HubSpot time windows under its 10,000-result cap,
//! the generic REST cursor). Each page is stored with the pass's cursor in one
//! transaction, so memory stays flat whatever the CRM's size and a pass cut
//! off by a crash or a lost connection resumes at the first page not stored.
//! Every request runs with background priority: uploads of pending creations
//! go first on the endpoint's shared request budget.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::backoff::Backoff;
use super::monitor::Monitor;
use crate::crm::connector::{CrmConnector, PullFilter};
use crate::crm::error::{ConnectorError, ErrorClass};
use crate::crm::throttle;
use crate::endpoint::EndpointSettings;
use crate::status::ConnectionState;
use crate::store::{Reconciled, Store};

/// A CRM's search index may show a change a little after its timestamp;
/// each pass re-reads this much before the previous pass's newest record.
pub const OVERLAP: Duration = Duration::from_secs(120);
/// A busy CRM (429, 5xx) is retried this many times per page before the pass
/// gives up for now (it resumes at that page next time).
const PAGE_RETRIES: u32 = 6;
const PAGE_BACKOFF: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

/// What to pull, from the endpoint's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullScope {
    /// Only customers changed within this long before the pass starts.
    pub modified_within: Option<Duration>,
    /// Region and owner, filtered by the CRM where its API can.
    pub filter: PullFilter,
}

impl PullScope {
    pub fn from_settings(s: &EndpointSettings) -> Self {
        PullScope {
            modified_within: s
                .pull_modified_within_days
                .map(|d| Duration::from_secs(u64::from(d) * 86_400)),
            filter: PullFilter {
                country: s.pull_country.clone(),
                owner: s.pull_owner.clone(),
            },
        }
    }
}

/// The outcome of one pass (`outpost pull --json` prints `fetched`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PullReport {
    /// Records received in this run (a resumed pass counts only its rest).
    #[ts(type = "number")]
    pub fetched: u64,
    #[ts(type = "number")]
    pub inserted: u64,
    #[ts(type = "number")]
    pub updated: u64,
    /// Local creations found in the CRM and linked.
    #[ts(type = "number")]
    pub linked: u64,
    /// Changed in the CRM while this device has an unsent change.
    #[ts(type = "number")]
    pub conflicts: u64,
    #[ts(type = "number")]
    pub pages: u64,
    /// Customers the CRM deleted (or archived) that left this device.
    #[ts(type = "number")]
    pub removed: u64,
    /// Customers the CRM deleted that stay, "deleted in the CRM", because
    /// an edit made here is unsent.
    #[ts(type = "number")]
    pub deleted_in_crm: u64,
    /// Whether this run listed the CRM's deletions: `false` when the CRM
    /// cannot list them, `None` when the run did not get that far.
    pub deletions_listed: Option<bool>,
}

impl PullReport {
    fn add(&mut self, items: usize, r: Reconciled) {
        self.fetched += items as u64;
        self.inserted += r.inserted;
        self.updated += r.updated;
        self.linked += r.linked;
        self.conflicts += r.conflicts;
        self.pages += 1;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The pass stopped at a page; what was stored stays, and the next pass
    /// resumes there.
    #[error("the pull stopped after {} records: {error}", .report.fetched)]
    Connector {
        error: ConnectorError,
        report: PullReport,
    },
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// Runs (or resumes) one pass to its end. `progress` is called after each
/// stored page with the records stored so far in this run.
pub async fn pull_pass(
    store: &Store,
    connector: &dyn CrmConnector,
    endpoint: &str,
    scope: PullScope,
    progress: &(dyn Fn(&PullReport) + Send + Sync),
) -> Result<PullReport, PullError> {
    let mut state = store.pull_state(endpoint).await?;
    if !state.in_pass() {
        let floor = scope
            .modified_within
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() - d);
        let since = match (state.since, floor) {
            (Some(s), Some(f)) => Some(s.max(f)),
            (s, f) => s.or(f),
        };
        store.begin_pull_pass(endpoint, since).await?;
        state = store.pull_state(endpoint).await?;
    }
    let since = state.since;
    let mut cursor = state.cursor;
    let mut report = PullReport::default();
    let mut retries = 0;
    let mut restarted = false;
    // The next page is requested while this one is stored, so the pass's
    // pace is set by the CRM (and its rate limit), not by request + store.
    let mut prefetched = None;
    loop {
        let fetched = match prefetched.take() {
            Some(result) => result,
            None => {
                let listing = connector.list_modified_since(since, cursor.clone(), &scope.filter);
                throttle::background(listing).await
            }
        };
        let page = match fetched {
            Ok(page) => page,
            // A stored cursor the CRM no longer accepts: start the pass
            // over from its beginning (records already stored are kept).
            Err(ConnectorError::Protocol(reason)) if cursor.is_some() && !restarted => {
                tracing::warn!(endpoint, %reason, "pull cursor refused; restarting the pass");
                restarted = true;
                cursor = None;
                store.restart_pull_pass(endpoint).await?;
                continue;
            }
            Err(e) if e.class() == ErrorClass::Transient && retries < PAGE_RETRIES => {
                let wait = e
                    .retry_after()
                    .unwrap_or_else(|| PAGE_BACKOFF.delay(retries));
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(error) => {
                store
                    .record_pull_error(endpoint, &error.to_string())
                    .await?;
                return Err(PullError::Connector { error, report });
            }
        };
        retries = 0;
        let stored = store.store_pulled_page(endpoint, &page.items, page.next.as_deref());
        let stats = match &page.next {
            Some(next) => {
                let ahead = connector.list_modified_since(since, Some(next.clone()), &scope.filter);
                let (stats, ahead) = tokio::join!(stored, throttle::background(ahead));
                // Dropped unused if storing failed: the stored cursor still
                // points at this page's successor.
                prefetched = Some(ahead);
                stats?
            }
            None => stored.await?,
        };
        report.add(page.items.len(), stats);
        progress(&report);
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                store.finish_pull_pass(endpoint, OVERLAP).await?;
                pull_deletions(store, connector, endpoint, &mut report).await?;
                if let Some(budget) = connector.api_budget() {
                    let usage = connector.device_usage();
                    store
                        .record_api_budget(endpoint, &budget, usage.as_ref())
                        .await?;
                }
                tracing::info!(
                    endpoint,
                    fetched = report.fetched,
                    inserted = report.inserted,
                    updated = report.updated,
                    linked = report.linked,
                    "working-set pull complete"
                );
                return Ok(report);
            }
        }
    }
}

/// After a complete pass: the CRM's deletions since the last listing,
/// each page applied with its cursor in one transaction (a listing cut off
/// resumes at its first page not applied). A CRM that cannot list
/// deletions (`Ok(None)`) ends it at once.
async fn pull_deletions(
    store: &Store,
    connector: &dyn CrmConnector,
    endpoint: &str,
    report: &mut PullReport,
) -> Result<(), PullError> {
    let state = store.deletions_state(endpoint).await?;
    let since = state.since;
    let mut cursor = state.cursor;
    let mut retries = 0;
    let mut restarted = false;
    let (mut removed, mut kept) = (0, 0);
    loop {
        let listing = connector.list_deleted_since(since, cursor.clone());
        let page = match throttle::background(listing).await {
            Ok(Some(page)) => page,
            Ok(None) => {
                store.record_deletions_unlisted(endpoint).await?;
                report.deletions_listed = Some(false);
                return Ok(());
            }
            Err(ConnectorError::Protocol(reason)) if cursor.is_some() && !restarted => {
                tracing::warn!(endpoint, %reason, "deletions cursor refused; listing again");
                restarted = true;
                cursor = None;
                continue;
            }
            Err(e) if e.class() == ErrorClass::Transient && retries < PAGE_RETRIES => {
                let wait = e
                    .retry_after()
                    .unwrap_or_else(|| PAGE_BACKOFF.delay(retries));
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(error) => {
                store
                    .record_pull_error(endpoint, &error.to_string())
                    .await?;
                return Err(PullError::Connector {
                    error,
                    report: *report,
                });
            }
        };
        retries = 0;
        let applied = store.store_deleted_page(endpoint, &page).await?;
        removed += applied.removed;
        kept += applied.kept;
        report.deletions_listed = Some(true);
        report.removed += applied.removed;
        report.deleted_in_crm += applied.kept;
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                if removed + kept > 0 {
                    tracing::info!(
                        endpoint,
                        removed,
                        kept,
                        "customers deleted in the CRM left the working set"
                    );
                }
                return Ok(());
            }
        }
    }
}

/// Keeps one endpoint's working set fresh in the background: a pass when the
/// CRM comes online, then every [`INTERVAL`] or on "pull now".
pub struct Puller {
    endpoint: String,
    store: Store,
    connector: Arc<dyn CrmConnector>,
    monitor: Arc<Monitor>,
    scope: PullScope,
    wake: Notify,
}

/// How often a fresh working set is brought up to date.
pub const INTERVAL: Duration = Duration::from_secs(300);
/// After a failed pass with the CRM still reachable (a queue problem, a CRM
/// that stayed busy), the next try waits this long unless woken.
const AFTER_FAILURE: Duration = Duration::from_secs(60);

impl Puller {
    pub fn new(
        endpoint: &str,
        store: Store,
        connector: Arc<dyn CrmConnector>,
        monitor: Arc<Monitor>,
        scope: PullScope,
    ) -> Arc<Self> {
        Arc::new(Puller {
            endpoint: endpoint.to_owned(),
            store,
            connector,
            monitor,
            scope,
            wake: Notify::new(),
        })
    }

    /// Starts a pass now (or as soon as the CRM is online).
    pub fn pull_now(&self) {
        self.wake.notify_one();
    }

    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut status = self.monitor.subscribe();
        loop {
            while self.monitor.state() != ConnectionState::Online {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    changed = status.changed() => if changed.is_err() { return },
                }
            }
            let pass = pull_pass(
                &self.store,
                self.connector.as_ref(),
                &self.endpoint,
                self.scope.clone(),
                &|_| {},
            );
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = pass => r,
            };
            let pause = match result {
                Ok(_) => INTERVAL,
                Err(PullError::Connector { error, .. }) => {
                    tracing::warn!(endpoint = %self.endpoint, %error, "working-set pull stopped");
                    if error.class() != ErrorClass::Transient {
                        self.monitor.report_failure(&error);
                    }
                    if self.monitor.state() != ConnectionState::Online {
                        continue;
                    }
                    AFTER_FAILURE
                }
                Err(PullError::Store(e)) => {
                    tracing::error!(endpoint = %self.endpoint, error = %e, "working-set pull could not store a page");
                    AFTER_FAILURE
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}
