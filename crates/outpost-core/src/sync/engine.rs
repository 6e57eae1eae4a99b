//! Runs the sync machinery: a monitor per configured endpoint and a flusher
//! for the primary one, rebuilt whenever the endpoint settings change.
//!
//! Only the holder of the database's delivery lease ([`Lease`]) runs the
//! flusher and the working-set pull. An engine without it keeps the monitors
//! (lookups, the connection state, the form) and takes the lease over when
//! its holder goes away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::flusher::Flusher;
use super::lease::{self, Lease};
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
    /// `Some` while this engine is the database's deliverer.
    lease: std::sync::Mutex<Option<Lease>>,
    /// Waits for the lease while another process holds it.
    lease_waiter: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// How often an engine without the lease re-reads the outbox counts, which
/// the delivering process changes without telling this one (when they moved,
/// it tells its listeners which customers were delivered meanwhile).
const OUTSIDE_STATUS_EVERY: u32 = 8; // × lease::RETRY = 2 s

/// Messages in flight are recovered only by the lease's holder: whoever held
/// it before is gone (exited or killed), so nobody is sending them.
async fn recover_left_in_flight(store: &Store) -> Result<()> {
    let recovered = store.recover_in_flight().await?;
    if recovered > 0 {
        tracing::info!(
            recovered,
            "messages left in flight by a process that is gone are due again"
        );
    }
    Ok(())
}

impl SyncEngine {
    /// Takes the delivery lease if it is free (recovering what a crash left
    /// in flight), then starts every endpoint. Without the lease the engine
    /// works locally and waits for it in the background.
    pub async fn start(store: Store, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        let lease = Lease::try_take(store.path())?;
        if lease.is_some() {
            recover_left_in_flight(&store).await?;
        }
        let (status_events, _) = broadcast::channel(64);
        let engine = Arc::new(SyncEngine {
            store,
            secrets,
            runtimes: Mutex::new(Vec::new()),
            generation: Mutex::new((CancellationToken::new(), JoinSet::new())),
            cancel: CancellationToken::new(),
            status_events,
            lease: std::sync::Mutex::new(lease),
            lease_waiter: std::sync::Mutex::new(None),
        });
        engine.reload().await?;
        engine.clone().watch_store();
        if !engine.delivers() {
            tracing::info!(
                "{}: this one works locally and takes over when that process stops",
                Lease::describe_holder(engine.store.path())
            );
            let waiter = tokio::spawn(engine.clone().wait_for_lease());
            *lock(&engine.lease_waiter) = Some(waiter);
        }
        Ok(engine)
    }

    /// Whether this engine holds the lease: it delivers and pulls.
    pub fn delivers(&self) -> bool {
        lock(&self.lease).is_some()
    }

    /// Tries the lease every [`lease::RETRY`] until it is free (its holder
    /// exited or was killed), then recovers what the holder left in flight
    /// and starts delivering. Meanwhile the status bar's counts follow the
    /// other process's deliveries.
    async fn wait_for_lease(self: Arc<Self>) {
        let mut last = self.store.status().await.ok();
        let mut since = chrono::Utc::now();
        let mut ticks: u32 = 0;
        let mut warned = false;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(lease::RETRY) => {}
            }
            match Lease::try_take(self.store.path()) {
                Ok(Some(lease)) => {
                    *lock(&self.lease) = Some(lease);
                    match self.take_over().await {
                        Ok(()) => {
                            tracing::info!(
                                "the process that delivered is gone: this one delivers now"
                            );
                            return;
                        }
                        Err(e) => {
                            // Let it go and try again: a half-started deliverer
                            // must not sit on the lease.
                            tracing::error!(error = %e, "could not start delivering");
                            drop(lock(&self.lease).take());
                        }
                    }
                }
                Ok(None) => {}
                Err(e) if !warned => {
                    warned = true;
                    tracing::warn!(error = %e, "the delivery lease cannot be checked");
                }
                Err(_) => {}
            }
            ticks = ticks.wrapping_add(1);
            if ticks.is_multiple_of(OUTSIDE_STATUS_EVERY) {
                let checked = chrono::Utc::now();
                let now = self.store.status().await.ok();
                if now != last {
                    last = now;
                    // The outbox event that follows refreshes the status bar.
                    match self.store.announce_outside_outcomes(since).await {
                        Ok(_) => since = checked,
                        Err(e) => {
                            tracing::warn!(error = %e, "could not read the other deliverer's outcomes")
                        }
                    }
                }
            }
        }
    }

    async fn take_over(self: &Arc<Self>) -> Result<()> {
        recover_left_in_flight(&self.store).await?;
        self.reload().await
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
        let delivers = self.delivers();
        for (i, config) in configs.into_iter().enumerate() {
            // Listed primary first, as `Store::primary_endpoint` defines it.
            let primary = i == 0;
            let runtime = match super::connector::build(&self.store, &config, self.secrets.clone())
                .await
            {
                Ok(connector) => {
                    if primary {
                        keys = connector.key_generator();
                    }
                    self.start_runtime(config, connector, primary, delivers, &token, &mut tasks)
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
        delivers: bool,
        token: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) -> Runtime {
        let monitor = Monitor::new(&config.name, connector.clone());
        tasks.spawn(monitor.clone().run(token.clone()));
        let flusher = (primary && delivers).then(|| {
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
        let puller = (primary && delivers && config.settings.pulls()).then(|| {
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
    /// working set (none configured, or its pull is off). Without the lease
    /// the delivering process pulls on its own schedule.
    pub async fn pull_now(&self) -> bool {
        let runtimes = self.runtimes.lock().await;
        let Some(primary) = runtimes.first() else {
            return false;
        };
        if let Some(p) = &primary.puller {
            p.pull_now();
        }
        self.pulling(primary)
    }

    /// The primary's working set is kept up to date, here or by the process
    /// that holds the lease.
    fn pulling(&self, primary: &Runtime) -> bool {
        primary.puller.is_some() || (!self.delivers() && primary.config.settings.pulls())
    }

    /// How big and how fresh the working set is.
    pub async fn working_set(&self) -> Result<WorkingSet> {
        let (primary, pulling) = self
            .runtimes
            .lock()
            .await
            .first()
            .map(|r| (Some(r.config.name.clone()), self.pulling(r)))
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
            snapshot.api_budget = self.store.api_budget(&primary.config.name).await?;
            let monitor = primary.monitor.status();
            snapshot.last_error = monitor.last_error;
            snapshot.interception = monitor.interception;
        }
        if !self.delivers() && !self.cancel.is_cancelled() {
            snapshot.other_deliverer = Some(Lease::describe_holder(self.store.path()));
        }
        Ok(snapshot)
    }

    /// The primary endpoint's settings and what its monitor knows.
    pub async fn primary_status(&self) -> Option<(EndpointConfig, EndpointStatus)> {
        let runtimes = self.runtimes.lock().await;
        let primary = runtimes.first()?;
        Some((primary.config.clone(), primary.monitor.status()))
    }

    /// Cancels every task and waits for them, at most `timeout`. A round
    /// being sent finishes and records its outcomes; messages cut off
    /// mid-flight stay in flight and are recovered by the next holder of the
    /// lease, which is released last, once nothing of this engine sends.
    pub async fn stop(&self, timeout: Duration) {
        let end = Instant::now() + timeout;
        self.cancel.cancel();
        let waiter = lock(&self.lease_waiter).take();
        if let Some(mut waiter) = waiter {
            let left = end.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, &mut waiter).await.is_err() {
                waiter.abort();
                let _ = waiter.await;
            }
        }
        let mut generation = self.generation.lock().await;
        let drain = async { while generation.1.join_next().await.is_some() {} };
        let left = end.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, drain).await.is_err() {
            tracing::warn!("sync tasks did not stop in time; aborting them");
            generation.1.abort_all();
            while generation.1.join_next().await.is_some() {}
        }
        drop(lock(&self.lease).take());
    }
}

/// A poisoned lock only means a panic elsewhere; the value is still sound.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
