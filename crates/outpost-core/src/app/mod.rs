//! The one facade both edges call: the window's Tauri commands and the CLI.
//! Each rule about what a caller may ask lives here once (the online-only
//! refusal, the secret rule, argument limits, endpoint import, the admin
//! gate), so the edges only parse their transport and present the result.
//!
//! The window runs it over a [`SyncEngine`] that knows each CRM's state; the
//! CLI runs it one-shot, asking the CRM once when a call needs it.

mod customers;
mod error;
pub mod input;
mod session;
mod settings;
mod sync;

use std::sync::Arc;
use std::time::Duration;

pub use customers::Reach;
pub use error::{AppError, AppResult};
pub use session::{AdminSession, IDLE_LOCK};
pub use settings::{AdminStatus, EndpointView, NewEndpointSecrets, SavedEndpoint};
pub use sync::{PullSummary, SyncReport};

use crate::endpoint::secrets::SecretStore;
use crate::endpoint::EndpointConfig;
use crate::store::Store;
use crate::sync::engine::SyncEngine;

/// Cheap to clone: every clone is the same app.
#[derive(Clone)]
pub struct Outpost {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    mode: Mode,
    admin: Arc<AdminSession>,
}

#[derive(Clone)]
enum Mode {
    /// The window: a running engine monitors each CRM and delivers.
    Running(Arc<SyncEngine>),
    /// The CLI: a call that needs the CRM asks it once.
    OneShot,
}

impl Outpost {
    /// The window's app (and `outpost sync --watch`): starts the sync engine
    /// over the store. It delivers when it gets the database's delivery
    /// lease (recovering what a crashed deliverer left in flight), else it
    /// works locally until the other deliverer goes away.
    pub async fn start(store: Store, secrets: Arc<dyn SecretStore>) -> AppResult<Self> {
        let engine = SyncEngine::start(store.clone(), secrets.clone()).await?;
        Ok(Outpost::new(store, secrets, Mode::Running(engine)))
    }

    /// The CLI's app: no background tasks.
    pub fn one_shot(store: Store, secrets: Arc<dyn SecretStore>) -> Self {
        Outpost::new(store, secrets, Mode::OneShot)
    }

    fn new(store: Store, secrets: Arc<dyn SecretStore>, mode: Mode) -> Self {
        Outpost {
            store,
            secrets,
            mode,
            admin: Arc::new(AdminSession::default()),
        }
    }

    /// For the edge's event forwarding (store events).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A signal whenever something the status bar shows may have changed
    /// (the running engine's; `None` one-shot).
    pub fn status_signals(&self) -> Option<tokio::sync::broadcast::Receiver<()>> {
        match &self.mode {
            Mode::Running(engine) => Some(engine.subscribe()),
            Mode::OneShot => None,
        }
    }

    /// Whether this process delivers and pulls for the database now (its
    /// running engine holds the delivery lease).
    pub fn delivers(&self) -> bool {
        match &self.mode {
            Mode::Running(engine) => engine.delivers(),
            Mode::OneShot => false,
        }
    }

    /// Stops the engine's tasks, waiting at most `timeout`.
    pub async fn stop(&self, timeout: Duration) {
        if let Mode::Running(engine) = &self.mode {
            engine.stop(timeout).await;
        }
    }

    /// Closes the store (the CLI, before it exits).
    pub async fn close(&self) {
        self.store.close().await;
    }

    async fn primary_config(&self) -> AppResult<Option<EndpointConfig>> {
        Ok(self.store.primary_endpoint().await?)
    }
}
