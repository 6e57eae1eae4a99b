//! The one-shot paths the CLI uses (`outpost sync --once`, `outpost pull`,
//! a status probe, a lookup): each builds the primary endpoint's connector,
//! does one thing and returns, without the engine's long-running tasks.
//! Delivering and pulling hold the database's delivery lease while they
//! run ([`Lease`]); when another process holds it they wait up to
//! [`lease::ONE_SHOT_WAIT`] and then leave the work to that process.

use std::sync::Arc;

use super::flusher::{Flusher, RoundResult};
use super::lease::{self, Lease};
use super::lookup::Remote;
use super::monitor::{EndpointStatus, Monitor};
use super::pull::{pull_pass, PullError, PullReport, PullScope};
use crate::crm::{self, ConnectorError, CrmConnector};
use crate::endpoint::secrets::SecretStore;
use crate::endpoint::EndpointConfig;
use crate::error::Result;
use crate::status::ConnectionState;
use crate::store::Store;

/// Flushes what is due for the primary endpoint once and returns (used by
/// `outpost sync --once`): takes the delivery lease, recovers what a gone
/// holder left in flight, probes, then runs rounds until nothing due is left.
pub async fn flush_once(
    store: &Store,
    secrets: Arc<dyn SecretStore>,
) -> Result<FlushSummary, FlushError> {
    let config = store
        .primary_endpoint()
        .await?
        .ok_or(FlushError::NoEndpoint)?;
    let _lease = take_lease(store)
        .await?
        .ok_or_else(|| FlushError::AnotherDeliverer(Lease::describe_holder(store.path())))?;
    store.recover_in_flight().await?;
    let connector = super::connector::build(store, &config, secrets.clone())
        .await
        .map_err(FlushError::Connector)?;
    let monitor = Monitor::new(&config.name, connector.clone());
    connector.probe().await.map_err(FlushError::Connector)?;
    monitor.report_success();
    let flusher = Flusher::new(
        &config.name,
        store.clone(),
        connector,
        monitor.clone(),
        config.settings.batch_size.unwrap_or(u32::MAX),
    );
    let mut total = RoundResult::default();
    loop {
        let r = flusher.round().await?;
        total.delivered += r.delivered;
        total.rejected += r.rejected;
        total.deferred += r.deferred;
        if r == RoundResult::default() || monitor.state() != ConnectionState::Online {
            break;
        }
    }
    Ok(FlushSummary {
        round: total,
        status: monitor.status(),
    })
}

#[derive(Debug, Clone)]
pub struct FlushSummary {
    pub round: RoundResult,
    pub status: EndpointStatus,
}

/// The lease for a one-shot run, waiting a little for its holder.
async fn take_lease(store: &Store) -> Result<Option<Lease>> {
    Lease::take_within(store.path(), lease::ONE_SHOT_WAIT).await
}

#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    #[error("no CRM endpoint is configured: add one with `outpost endpoints add`")]
    NoEndpoint,
    /// Another process holds the delivery lease (it delivers); the words
    /// name it. Not a failure: the customers are being delivered.
    #[error("{0}")]
    AnotherDeliverer(String),
    #[error(transparent)]
    Connector(ConnectorError),
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// Probes the primary endpoint once, for callers without a running monitor
/// (the CLI). `None` when no endpoint is configured.
pub async fn probe_primary(
    store: &Store,
    secrets: Arc<dyn SecretStore>,
) -> Result<Option<(EndpointConfig, EndpointStatus)>> {
    let Some(config) = store.primary_endpoint().await? else {
        return Ok(None);
    };
    let connector: Arc<dyn CrmConnector> = match crm::build(&config, secrets.clone()).await {
        Ok(c) => c,
        Err(e) => Arc::new(crm::Unusable(e)),
    };
    let monitor = Monitor::new(&config.name, connector.clone());
    monitor.report_probe(&connector.probe().await);
    let status = monitor.status();
    Ok(Some((config, status)))
}

/// Before the CLI creates customers: keys from the primary endpoint's
/// connector, known from its settings (no keyring, no network), as the
/// running app's engine uses them.
pub async fn use_primary_keys(store: &Store) -> Result<()> {
    let primary = store.primary_endpoint().await?;
    store.use_key_generator(primary.as_ref().and_then(crm::key_generator));
    Ok(())
}

/// `outpost pull`: one incremental pass for the named endpoint (the primary
/// when `None`) under the delivery lease, then returns.
pub async fn pull_once(
    store: &Store,
    secrets: Arc<dyn SecretStore>,
    endpoint: Option<&str>,
) -> Result<PullReport, PullOnceError> {
    let config = match endpoint {
        Some(name) => store
            .endpoint(name)
            .await?
            .ok_or_else(|| PullOnceError::UnknownEndpoint(name.to_owned()))?,
        None => store
            .primary_endpoint()
            .await?
            .ok_or(PullOnceError::NoEndpoint)?,
    };
    let _lease = take_lease(store)
        .await?
        .ok_or_else(|| PullOnceError::AnotherDeliverer(Lease::describe_holder(store.path())))?;
    let connector = super::connector::build(store, &config, secrets)
        .await
        .map_err(PullOnceError::Connector)?;
    let scope = PullScope::from_settings(&config.settings);
    match pull_pass(store, connector.as_ref(), &config.name, scope, &|_| {}).await {
        Ok(report) => {
            // Going offline next: take the CRM's form and field list along.
            super::form_refresh::fetch_and_cache(store, &config.name, connector.as_ref()).await?;
            Ok(report)
        }
        Err(PullError::Connector { error, .. }) => Err(PullOnceError::Connector(error)),
        Err(PullError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullOnceError {
    #[error("no CRM endpoint is configured: add one with `outpost endpoints add`")]
    NoEndpoint,
    #[error("no endpoint is named {0:?} (see `outpost endpoints list`)")]
    UnknownEndpoint(String),
    /// Another process holds the delivery lease and pulls for this database.
    #[error("{0}")]
    AnotherDeliverer(String),
    #[error(transparent)]
    Connector(ConnectorError),
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// The primary CRM for a lookup from the CLI (no monitor: assumed online,
/// a failed call reports it offline). `None` when none is configured.
pub async fn cli_remote(store: &Store, secrets: Arc<dyn SecretStore>) -> Result<Option<Remote>> {
    let Some(config) = store.primary_endpoint().await? else {
        return Ok(None);
    };
    Ok(crm::build(&config, secrets)
        .await
        .ok()
        .map(|connector| Remote {
            connector,
            online: true,
        }))
}
