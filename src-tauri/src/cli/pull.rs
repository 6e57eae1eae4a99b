//! `outpost pull [--endpoint NAME]`: one incremental working-set pull.

use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::sync::once::{pull_once, PullOnceError};
use outpost_core::Store;
use serde::Serialize;
use std::sync::Arc;

use super::output::Output;
use crate::error::IpcError;

/// `--json` names are part of the CLI contract.
#[derive(Debug, Serialize)]
struct PullSummary {
    /// Records received from the CRM in this run.
    fetched: u64,
    /// Customers on this device afterwards (created here or pulled).
    total_local: u64,
    inserted: u64,
    updated: u64,
    linked: u64,
    conflicts: u64,
}

pub async fn run(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    endpoint: Option<String>,
    out: &Output,
) -> Result<(), IpcError> {
    let report = pull_once(store, secrets.clone(), endpoint.as_deref())
        .await
        .map_err(|e| match e {
            PullOnceError::Store(e) => IpcError::from(e),
            PullOnceError::UnknownEndpoint(_) => IpcError::invalid_input("endpoint", e.to_string()),
            other => IpcError::from_other(other.to_string()),
        })?;
    let total_local = store.working_set(None).await?.total_local;
    let summary = PullSummary {
        fetched: report.fetched,
        total_local,
        inserted: report.inserted,
        updated: report.updated,
        linked: report.linked,
        conflicts: report.conflicts,
    };
    out.print(&summary, || {
        format!(
            "fetched {} changed customers ({} new, {} updated, {} linked to ones created here, {} with a local change kept)\n{} customers on this device",
            summary.fetched,
            summary.inserted,
            summary.updated,
            summary.linked,
            summary.conflicts,
            summary.total_local
        )
    });
    Ok(())
}
