//! The remote-server monitor: one per endpoint, driven by real request
//! outcomes (never by an OS "online" flag). Offline, it probes on capped
//! exponential backoff with full jitter, and at once on "Retry now".

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::backoff::Backoff;
use crate::crm::connector::CrmConnector;
use crate::crm::error::{ConnectorError, ErrorClass};
use crate::status::ConnectionState;

/// Offline probes back off exponentially with full jitter up to 15 s. Most
/// outages at a till are short (flaky Wi-Fi, a CRM restart), so for the first
/// 30 s of an outage the ceiling is held at 1 s: the queue resumes within about
/// a second of the CRM coming back, at the cost of at most ~60 cheap probes.
pub const PROBE_BACKOFF: Backoff =
    Backoff::new(Duration::from_millis(250), Duration::from_secs(15));
pub const FAST_WINDOW: Duration = Duration::from_secs(30);
pub const FAST_CAP: Duration = Duration::from_secs(1);
/// While online and idle, a probe now and then notices a silent outage.
const IDLE_HEARTBEAT: Duration = Duration::from_secs(30);
/// Rejected credentials are re-tried rarely: an admin usually has to act.
const UNAUTHORIZED_RECHECK: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EndpointStatus {
    pub endpoint: String,
    pub state: ConnectionState,
    #[ts(type = "string")]
    pub since: DateTime<Utc>,
    pub last_error: Option<String>,
}

pub struct Monitor {
    connector: Arc<dyn CrmConnector>,
    status: watch::Sender<EndpointStatus>,
    probe_now: Notify,
}

impl Monitor {
    pub fn new(endpoint: &str, connector: Arc<dyn CrmConnector>) -> Arc<Self> {
        let (status, _) = watch::channel(EndpointStatus {
            endpoint: endpoint.to_owned(),
            state: ConnectionState::Offline,
            since: Utc::now(),
            last_error: Some("not checked yet".into()),
        });
        Arc::new(Monitor {
            connector,
            status,
            probe_now: Notify::new(),
        })
    }

    pub fn subscribe(&self) -> watch::Receiver<EndpointStatus> {
        self.status.subscribe()
    }

    pub fn status(&self) -> EndpointStatus {
        self.status.borrow().clone()
    }

    pub fn state(&self) -> ConnectionState {
        self.status.borrow().state
    }

    /// "Retry now", the window regaining focus, "Sync now".
    pub fn probe_now(&self) {
        self.probe_now.notify_one();
    }

    /// Any successful exchange with the CRM.
    pub fn report_success(&self) {
        self.set(ConnectionState::Online, None);
    }

    /// A failed exchange; only failures that say something about the
    /// connection change the state.
    pub fn report_failure(&self, e: &ConnectorError) {
        match e.class() {
            ErrorClass::Offline => self.set(ConnectionState::Offline, Some(e.to_string())),
            ErrorClass::Queue => self.set(ConnectionState::Unauthorized, Some(e.to_string())),
            // The CRM answered: it is reachable, merely busy or failing.
            ErrorClass::Transient => {}
        }
    }

    fn set(&self, state: ConnectionState, error: Option<String>) {
        self.status.send_if_modified(|s| {
            let changed = s.state != state || s.last_error != error;
            if s.state != state {
                s.since = Utc::now();
                if state == ConnectionState::Online {
                    tracing::info!(endpoint = %s.endpoint, "CRM is reachable");
                } else {
                    tracing::warn!(endpoint = %s.endpoint, state = ?state, error = error.as_deref().unwrap_or(""), "CRM connection changed");
                }
            }
            s.state = state;
            s.last_error = error;
            changed
        });
    }

    async fn probe(&self) {
        match self.connector.probe().await {
            Ok(()) => self.report_success(),
            Err(e) => {
                // A transient answer still proves the CRM is there.
                if e.class() == ErrorClass::Transient {
                    self.report_success();
                } else {
                    self.report_failure(&e);
                }
            }
        }
    }

    /// Runs until cancelled.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        let mut changes = self.subscribe();
        self.probe().await;
        loop {
            let wait = match self.state() {
                ConnectionState::Online => {
                    failures = 0;
                    IDLE_HEARTBEAT
                }
                ConnectionState::Unauthorized => UNAUTHORIZED_RECHECK,
                ConnectionState::Offline | ConnectionState::NotConfigured => {
                    let offline_for = (Utc::now() - self.status().since)
                        .to_std()
                        .unwrap_or_default();
                    let backoff = if offline_for < FAST_WINDOW {
                        Backoff::new(PROBE_BACKOFF.base, FAST_CAP)
                    } else {
                        PROBE_BACKOFF
                    };
                    let d = backoff.delay(failures);
                    failures = failures.saturating_add(1);
                    d
                }
            };
            changes.borrow_and_update();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.probe_now.notified() => failures = 0,
                _ = tokio::time::sleep(wait) => {}
                // A state change reported by the flusher restarts the wait
                // with the right interval (e.g. offline: start probing).
                _ = changes.changed() => continue,
            }
            self.probe().await;
        }
    }
}
