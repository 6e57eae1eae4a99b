//! Runs the sync machinery: a monitor per configured endpoint and a flusher
//! for the primary one, rebuilt whenever the endpoint settings change.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::flusher::Flusher;
use super::lookup::{self, Lookup, Remote};
use super::monitor::{EndpointStatus, Monitor};
use super::pull::{PullScope, Puller};
use crate::crm;
use crate::crm::connector::CrmConnector;
use crate::customer::Customer;
use crate::endpoint::secrets::SecretStore;
use crate::endpoint::EndpointConfig;
use crate::error::Result;
use crate::status::{ConnectionState, StatusSnapshot};
use crate::store::{CustomerChange, CustomersChanged, Store, StoreEvent, WorkingSet};

/// One endpoint's running parts.
struct Runtime {
    config: EndpointConfig,
    /// `None` when the connector could not be built (the monitor says why).
    connector: Option<Arc<dyn CrmConnector>>,
    monitor: Arc<Monitor>,
    /// Only the primary endpoint has one.
    flusher: Option<Arc<Flusher>>,
    /// Only the primary endpoint, and only if its settings keep a working set.
    puller: Option<Arc<Puller>>,
}

pub struct SyncEngine {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    runtimes: Mutex<Vec<Runtime>>,
    /// Cancels the current runtimes' tasks (replaced on reload).
    generation: Mutex<(CancellationToken, JoinSet<()>)>,
    cancel: CancellationToken,
    status_events: broadcast::Sender<()>,
}

impl SyncEngine {
    /// Recovers messages a crash left in flight, then starts every endpoint.
    pub async fn start(store: Store, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        let recovered = store.recover_in_flight().await?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "messages left in flight by an earlier run are due again"
            );
        }
        let (status_events, _) = broadcast::channel(64);
        let engine = Arc::new(SyncEngine {
            store,
            secrets,
            runtimes: Mutex::new(Vec::new()),
            generation: Mutex::new((CancellationToken::new(), JoinSet::new())),
            cancel: CancellationToken::new(),
            status_events,
        });
        engine.reload().await?;
        engine.clone().watch_store();
        Ok(engine)
    }

    /// Something the status bar shows may have changed.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.status_events.subscribe()
    }

    /// Stops every endpoint and starts them again from the stored settings.
    /// A paused queue resumes by itself if the new settings work.
    pub async fn reload(self: &Arc<Self>) -> Result<()> {
        let configs = self.store.endpoints().await?;
        let mut generation = self.generation.lock().await;
        generation.0.cancel();
        while generation.1.join_next().await.is_some() {}
        let token = self.cancel.child_token();
        let mut tasks = JoinSet::new();
        let mut runtimes = Vec::new();
        let mut keys = None;
        for (i, config) in configs.into_iter().enumerate() {
            // Listed primary first, as `Store::primary_endpoint` defines it.
            let primary = i == 0;
            let runtime = match crm::build(&config, self.secrets.clone()).await {
                Ok(connector) => {
                    if primary {
                        keys = connector.key_generator();
                    }
                    self.start_runtime(config, connector, primary, &token, &mut tasks)
                }
                Err(e) => {
                    if primary {
                        // Keys do not wait for the keyring or the CRM.
                        keys = crm::key_generator(&config);
                    }
                    tracing::warn!(endpoint = %config.name, error = %e, "endpoint cannot start");
                    let monitor = Monitor::new(&config.name, Arc::new(crm::Unusable(e.clone())));
                    monitor.report_failure(&e);
                    Runtime {
                        config,
                        connector: None,
                        monitor,
                        flusher: None,
                        puller: None,
                    }
                }
            };
            self.forward_status(runtime.monitor.clone(), &token, &mut tasks);
            runtimes.push(runtime);
        }
        // Customers created from now on get the primary connector's keys.
        self.store.use_key_generator(keys);
        *self.runtimes.lock().await = runtimes;
        *generation = (token, tasks);
        let _ = self.status_events.send(());
        Ok(())
    }

    fn start_runtime(
        &self,
        config: EndpointConfig,
        connector: Arc<dyn CrmConnector>,
        primary: bool,
        token: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) -> Runtime {
        let monitor = Monitor::new(&config.name, connector.clone());
        tasks.spawn(monitor.clone().run(token.clone()));
        let flusher = primary.then(|| {
            let batch = config.settings.batch_size.unwrap_or(u32::MAX);
            let f = Flusher::new(
                &config.name,
                self.store.clone(),
                connector.clone(),
                monitor.clone(),
                batch,
            );
            tasks.spawn(f.clone().run(token.clone()));
            f
        });
        if primary {
            tasks.spawn(super::form_refresh::run(
                config.name.clone(),
                self.store.clone(),
                connector.clone(),
                monitor.clone(),
                token.clone(),
            ));
        }
        let puller = (primary && config.settings.pulls()).then(|| {
            let p = Puller::new(
                &config.name,
                self.store.clone(),
                connector.clone(),
                monitor.clone(),
                PullScope::from_settings(&config.settings),
            );
            tasks.spawn(p.clone().run(token.clone()));
            p
        });
        Runtime {
            config,
            connector: Some(connector),
            monitor,
            flusher,
            puller,
        }
    }

    fn forward_status(
        &self,
        monitor: Arc<Monitor>,
        token: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) {
        let events = self.status_events.clone();
        let token = token.clone();
        let mut rx = monitor.subscribe();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => return,
                    changed = rx.changed() => if changed.is_err() { return },
                }
                let _ = events.send(());
            }
        });
    }

    /// New customers wake the flusher; changed endpoints rebuild everything.
    fn watch_store(self: Arc<Self>) {
        let mut events = self.store.subscribe();
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = cancel.cancelled() => return,
                    e = events.recv() => e,
                };
                match event {
                    Ok(StoreEvent::CustomersChanged(CustomersChanged {
                        change: CustomerChange::Created,
                        ..
                    })) => self.wake().await,
                    Ok(StoreEvent::EndpointsChanged) => {
                        if let Err(e) = self.reload().await {
                            tracing::error!(error = %e, "could not apply the new endpoint settings");
                        }
                    }
                    Ok(StoreEvent::OutboxChanged) => {
                        let _ = self.status_events.send(());
                    }
                    // Missed events may have included new customers.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.wake().await;
                        let _ = self.status_events.send(());
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    async fn wake(&self) {
        for r in self.runtimes.lock().await.iter() {
            if let Some(f) = &r.flusher {
                f.wake();
            }
        }
    }

    /// "Sync now": probe every endpoint and flush what is due.
    pub async fn sync_now(&self) {
        for r in self.runtimes.lock().await.iter() {
            r.monitor.probe_now();
            if let Some(f) = &r.flusher {
                f.wake();
            }
        }
    }

    /// Lookup merged from the local store and the primary CRM (see [`lookup`]).
    pub async fn lookup(&self, query: &str, limit: u32) -> Result<Lookup> {
        let remote = self.primary_remote().await;
        let believed_online = remote.as_ref().is_some_and(|r| r.online);
        let found = lookup::lookup(&self.store, remote, query, limit, lookup::DEADLINE).await?;
        if believed_online && found.remote == lookup::RemoteLookup::Offline {
            // The CRM went away since the monitor last looked: let it find out
            // now, so the status bar says so.
            self.retry_now().await;
        }
        Ok(found)
    }

    /// Customers with the same email or phone, here or in the primary CRM.
    pub async fn possible_duplicates(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Vec<Customer>> {
        lookup::possible_duplicates(
            &self.store,
            self.primary_remote().await,
            email,
            phone,
            lookup::DEADLINE,
        )
        .await
    }

    async fn primary_remote(&self) -> Option<Remote> {
        let runtimes = self.runtimes.lock().await;
        let primary = runtimes.first()?;
        Some(Remote {
            connector: primary.connector.clone()?,
            online: primary.monitor.state() == ConnectionState::Online,
        })
    }

    /// Starts a working-set pull now (or when the CRM is back).
    /// "Update now"; `false` when the primary endpoint does not keep a
    /// working set (none configured, or its pull is off).
    pub async fn pull_now(&self) -> bool {
        let puller = self
            .runtimes
            .lock()
            .await
            .first()
            .and_then(|r| r.puller.clone());
        if let Some(p) = &puller {
            p.pull_now();
        }
        puller.is_some()
    }

    /// How big and how fresh the working set is.
    pub async fn working_set(&self) -> Result<WorkingSet> {
        let (primary, pulling) = self
            .runtimes
            .lock()
            .await
            .first()
            .map(|r| (Some(r.config.name.clone()), r.puller.is_some()))
            .unwrap_or((None, false));
        let mut ws = self.store.working_set(primary.as_deref()).await?;
        ws.pull_enabled = pulling;
        Ok(ws)
    }

    /// "Retry now" / the window regained focus: probe at once.
    pub async fn retry_now(&self) {
        for r in self.runtimes.lock().await.iter() {
            r.monitor.probe_now();
        }
    }

    pub async fn endpoint_statuses(&self) -> Vec<EndpointStatus> {
        self.runtimes
            .lock()
            .await
            .iter()
            .map(|r| r.monitor.status())
            .collect()
    }

    /// The store's counts with the primary endpoint's connection state.
    pub async fn status(&self) -> Result<StatusSnapshot> {
        let mut snapshot = self.store.status().await?;
        if let Some(primary) = self.runtimes.lock().await.first() {
            snapshot.connection = primary.monitor.state();
            snapshot.last_success_at = self
                .store
                .last_success(&primary.config.name)
                .await?
                .map(|t| t.to_rfc3339());
            let monitor = primary.monitor.status();
            snapshot.last_error = monitor.last_error;
            snapshot.interception = monitor.interception;
        }
        Ok(snapshot)
    }

    /// The primary endpoint's settings and what its monitor knows.
    pub async fn primary_status(&self) -> Option<(EndpointConfig, EndpointStatus)> {
        let runtimes = self.runtimes.lock().await;
        let primary = runtimes.first()?;
        Some((primary.config.clone(), primary.monitor.status()))
    }

    /// Cancels every task and waits for them, at most `timeout`. Messages cut
    /// off mid-flight stay in flight and are recovered at the next start.
    pub async fn stop(&self, timeout: Duration) {
        self.cancel.cancel();
        let mut generation = self.generation.lock().await;
        let drain = async { while generation.1.join_next().await.is_some() {} };
        if tokio::time::timeout(timeout, drain).await.is_err() {
            tracing::warn!("sync tasks did not stop in time; aborting them");
            generation.1.abort_all();
        }
    }
}
