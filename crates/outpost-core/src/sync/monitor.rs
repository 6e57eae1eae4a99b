//! The remote-server monitor: one per endpoint, driven by real request
//! outcomes (never by an OS "online" flag). Offline or intercepted (a captive
//! portal or a proxy answering in the CRM's place), it probes on capped
//! exponential backoff with full jitter, and at once on "Retry now"; the
//! first answer that is the CRM's own makes it online again.

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
use crate::status::{ConnectionState, Interception};

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
    /// While `state` is `intercepted`: what answered instead of the CRM.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub interception: Option<Interception>,
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
            interception: None,
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
        self.set(ConnectionState::Online, None, None);
    }

    /// A failed exchange; only failures that say something about the
    /// connection change the state.
    pub fn report_failure(&self, e: &ConnectorError) {
        let why = Some(e.to_string());
        match (e, e.class()) {
            (ConnectorError::Intercepted { by, .. }, _) => {
                self.set(ConnectionState::Intercepted, why, Some(*by))
            }
            (_, ErrorClass::Offline) => self.set(ConnectionState::Offline, why, None),
            (_, ErrorClass::Queue) => self.set(ConnectionState::Unauthorized, why, None),
            // The CRM answered: it is reachable, merely busy or failing.
            (_, ErrorClass::Transient) => {}
        }
    }

    /// What a probe's outcome says: a success, or an error status the CRM
    /// itself gives (5xx, 429), proves it is there; an answer not in the
    /// shape its API documents does not.
    pub fn report_probe(&self, outcome: &Result<(), ConnectorError>) {
        match outcome {
            Ok(()) => self.report_success(),
            Err(e @ ConnectorError::Protocol(_)) => {
                self.set(ConnectionState::Offline, Some(e.to_string()), None)
            }
            Err(e) if e.class() == ErrorClass::Transient => self.report_success(),
            Err(e) => self.report_failure(e),
        }
    }

    fn set(&self, state: ConnectionState, error: Option<String>, by: Option<Interception>) {
        self.status.send_if_modified(|s| {
            let changed = s.state != state || s.last_error != error || s.interception != by;
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
            s.interception = by;
            changed
        });
    }

    async fn probe(&self) {
        let outcome = self.connector.probe().await;
        self.report_probe(&outcome);
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
                // A portal is an outage with a page: the same retry timing.
                ConnectionState::Offline
                | ConnectionState::Intercepted
                | ConnectionState::NotConfigured => {
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::crm::connector::{Capabilities, Delivery, Outgoing, Page, PullFilter};
    use crate::crm::RemoteCustomer;
    use crate::customer::CustomerId;

    /// Behind a portal for its first `portal_probes` probes, then the CRM.
    struct Portal {
        portal_probes: usize,
        probes: Mutex<Vec<tokio::time::Instant>>,
    }

    #[async_trait]
    impl CrmConnector for Portal {
        fn kind(&self) -> &'static str {
            "portal"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                requests_at_once: 1,
                max_batch: 1,
                upsert_by_external_id: true,
                rate_limit: None,
                updates: false,
            }
        }
        async fn probe(&self) -> Result<(), ConnectorError> {
            let mut probes = self.probes.lock().unwrap();
            probes.push(tokio::time::Instant::now());
            if probes.len() <= self.portal_probes {
                Err(ConnectorError::Intercepted {
                    by: Interception::SignInPage,
                    detail: "HTTP 200 text/html".into(),
                })
            } else {
                Ok(())
            }
        }
        async fn upsert_batch(&self, _: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
            unreachable!("the monitor only probes")
        }
        async fn get(&self, _: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
            unreachable!("the monitor only probes")
        }
        async fn search(&self, _: &str, _: usize) -> Result<Vec<RemoteCustomer>, ConnectorError> {
            unreachable!("the monitor only probes")
        }
        async fn list_modified_since(
            &self,
            _: Option<DateTime<Utc>>,
            _: Option<String>,
            _: &PullFilter,
        ) -> Result<Page, ConnectorError> {
            unreachable!("the monitor only probes")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_portal_is_retried_like_an_outage_and_online_again_by_itself() {
        let portal = Arc::new(Portal {
            portal_probes: 8,
            probes: Mutex::new(Vec::new()),
        });
        let monitor = Monitor::new("crm", portal.clone());
        let mut status = monitor.subscribe();
        let cancel = CancellationToken::new();
        let run = tokio::spawn(monitor.clone().run(cancel.clone()));
        status
            .wait_for(|s| s.state == ConnectionState::Intercepted)
            .await
            .unwrap();
        assert_eq!(
            monitor.status().interception,
            Some(Interception::SignInPage)
        );
        status
            .wait_for(|s| s.state == ConnectionState::Online)
            .await
            .unwrap();
        assert_eq!(monitor.status().interception, None);
        cancel.cancel();
        run.await.unwrap();
        let probes = portal.probes.lock().unwrap().clone();
        assert_eq!(
            probes.len(),
            9,
            "probed until the CRM answered, then stopped"
        );
        // The offline backoff's fast window (at most 1 s apart), not the
        // minute an admin's fix waits for.
        for gap in probes.windows(2).map(|w| w[1] - w[0]) {
            assert!(gap <= FAST_CAP, "{gap:?} between probes");
        }
    }
}
