//! What the window's commands share: the store and the running sync engine.

use std::sync::Arc;

use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::sync::engine::SyncEngine;
use outpost_core::Store;

use crate::admin_session::AdminSession;

pub struct AppState {
    pub store: Store,
    pub engine: Arc<SyncEngine>,
    pub secrets: Arc<dyn SecretStore>,
    pub admin: AdminSession,
}
