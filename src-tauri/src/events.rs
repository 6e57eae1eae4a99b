//! Turns store and sync-engine events into the UI's live updates.

use outpost_core::{Outpost, StoreEvent};
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

pub const STATUS_CHANGED: &str = "status-changed";
pub const CUSTOMERS_CHANGED: &str = "customers-changed";
pub const WORKING_SET_CHANGED: &str = "working-set-changed";
pub const FORM_CHANGED: &str = "form-changed";
/// A pull stores a page every few hundred milliseconds; the status bar is
/// told at most this often (counting a million rows is not free).
const WORKING_SET_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs for the life of the app, forwarding events to the window.
pub fn forward(app: AppHandle, outpost: &Outpost) {
    let mut store_events = outpost.store().subscribe();
    let customers_app = app.clone();
    let (working_set_tx, working_set_rx) = tokio::sync::watch::channel(());
    tauri::async_runtime::spawn(async move {
        loop {
            match store_events.recv().await {
                // One event per transaction, carrying its keys and what
                // happened to them (`CustomersChanged` in the bindings).
                Ok(StoreEvent::CustomersChanged(changed)) => {
                    let _ = customers_app.emit(CUSTOMERS_CHANGED, changed);
                }
                Ok(StoreEvent::WorkingSetChanged) => {
                    let _ = working_set_tx.send(());
                }
                Ok(StoreEvent::FormChanged) => {
                    let _ = customers_app.emit(FORM_CHANGED, ());
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
    forward_working_set(app.clone(), outpost.clone(), working_set_rx);
    // The engine signals every change of the outbox or a connection.
    let Some(mut status_events) = outpost.status_signals() else {
        return;
    };
    let outpost = outpost.clone();
    tauri::async_runtime::spawn(async move {
        // A lagged receiver skipped some signals: one status read covers them all.
        while let Ok(()) | Err(RecvError::Lagged(_)) = status_events.recv().await {
            match outpost.status().await {
                Ok(status) => {
                    let _ = app.emit(STATUS_CHANGED, status);
                }
                Err(e) => tracing::warn!(error = %e, "could not read the sync status"),
            }
        }
    });
}

/// Coalesces working-set changes into at most one event per second, each
/// carrying the current size and freshness.
fn forward_working_set(
    app: AppHandle,
    outpost: Outpost,
    mut changes: tokio::sync::watch::Receiver<()>,
) {
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            match outpost.working_set().await {
                Ok(ws) => {
                    let _ = app.emit(WORKING_SET_CHANGED, ws);
                }
                Err(e) => tracing::warn!(error = %e, "could not read the working set"),
            }
            tokio::time::sleep(WORKING_SET_EVERY).await;
        }
    });
}
