//! Turns store and sync-engine events into the UI's live updates.

use std::sync::Arc;

use outpost_core::sync::engine::SyncEngine;
use outpost_core::{Store, StoreEvent};
use serde::Serialize;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

pub const STATUS_CHANGED: &str = "status-changed";
pub const CUSTOMERS_CHANGED: &str = "customers-changed";

#[derive(Clone, Serialize)]
struct CustomerChanged {
    id: String,
}

/// Runs for the life of the app, forwarding events to the window.
pub fn forward(app: AppHandle, store: Store, engine: Arc<SyncEngine>) {
    let mut store_events = store.subscribe();
    let customers_app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match store_events.recv().await {
                Ok(StoreEvent::CustomerCreated(id)) | Ok(StoreEvent::CustomerChanged(id)) => {
                    let _ = customers_app
                        .emit(CUSTOMERS_CHANGED, CustomerChanged { id: id.to_string() });
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });
    // The engine signals every change of the outbox or a connection.
    let mut status_events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        // A lagged receiver skipped some signals: one status read covers them all.
        while let Ok(()) | Err(RecvError::Lagged(_)) = status_events.recv().await {
            match engine.status().await {
                Ok(status) => {
                    let _ = app.emit(STATUS_CHANGED, status);
                }
                Err(e) => tracing::warn!(error = %e, "could not read the sync status"),
            }
        }
    });
}
