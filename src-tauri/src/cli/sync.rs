//! `outpost sync --once`: deliver what is due to the primary CRM and report.

use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::sync::once::{flush_once, FlushError};
use outpost_core::Store;
use serde::Serialize;
use std::sync::Arc;

use super::output::Output;
use crate::error::IpcError;

#[derive(Debug, Serialize)]
struct SyncReport {
    delivered: u64,
    needs_attention: u64,
    pending: u64,
    /// Records deferred in this run (CRM busy or unreachable).
    deferred: u64,
    connection: outpost_core::ConnectionState,
}

pub async fn once(
    store: &Store,
    secrets: &Arc<dyn SecretStore>,
    out: &Output,
) -> Result<(), IpcError> {
    let summary = flush_once(store, secrets.clone())
        .await
        .map_err(|e| match e {
            FlushError::Store(e) => IpcError::from(e),
            other => IpcError::from_other(other.to_string()),
        })?;
    let status = store.status().await?;
    let report = SyncReport {
        delivered: summary.round.delivered,
        needs_attention: status.needs_attention,
        pending: status.pending,
        deferred: summary.round.deferred,
        connection: summary.status.state,
    };
    out.print(&report, || {
        format!(
            "delivered: {}\nneeds attention: {}\nstill pending: {}",
            report.delivered, report.needs_attention, report.pending
        )
    });
    Ok(())
}
