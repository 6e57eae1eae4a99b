//! Turns store events into the UI's live updates.

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

/// Runs for the life of the app, forwarding store events to the window.
pub fn forward(app: AppHandle, store: Store) {
    let mut events = store.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(StoreEvent::CustomerCreated(id)) => {
                    let _ = app.emit(CUSTOMERS_CHANGED, CustomerChanged { id: id.to_string() });
                }
                // After a lag some events are gone: resend the status, which is
                // all the UI derives from them.
                Ok(StoreEvent::OutboxChanged) | Err(RecvError::Lagged(_)) => {
                    match store.status().await {
                        Ok(status) => {
                            let _ = app.emit(STATUS_CHANGED, status);
                        }
                        Err(e) => tracing::warn!(error = %e, "could not read the outbox status"),
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
