//! The desktop window: opens the store, starts the sync engine, registers the
//! commands, forwards events, and stops the engine on exit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use outpost_core::endpoint::secrets::{KeyringSecrets, SecretStore};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::Store;
use tauri::{Manager, RunEvent, WindowEvent};

use crate::admin_session::AdminSession;
use crate::state::AppState;
use crate::{commands, events};

/// How long the engine may take to finish its current request on exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

pub fn run(db: Option<PathBuf>) -> anyhow::Result<()> {
    let path = db.unwrap_or_else(outpost_core::paths::default_db_path);
    let app = tauri::Builder::default()
        .setup(move |app| {
            let secrets: Arc<dyn SecretStore> = Arc::new(KeyringSecrets::default());
            let (store, engine) = tauri::async_runtime::block_on(async {
                let store = Store::open(&path).await?;
                let engine = SyncEngine::start(store.clone(), secrets.clone()).await?;
                Ok::<_, outpost_core::Error>((store, engine))
            })?;
            tracing::info!(db = %path.display(), "local store open, sync engine started");
            events::forward(app.handle().clone(), store.clone(), engine.clone());
            app.manage(AppState {
                store,
                engine,
                secrets,
                admin: AdminSession::default(),
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            // Coming back to the window is a good moment to re-check the CRM.
            if let WindowEvent::Focused(true) = event {
                let engine = window.state::<AppState>().engine.clone();
                tauri::async_runtime::spawn(async move { engine.retry_now().await });
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::customers::create_customer,
            commands::customers::check_customer,
            commands::customers::search_customers,
            commands::customers::lookup_customers,
            commands::customers::find_duplicates,
            commands::customers::get_form_metadata,
            commands::sync::get_working_set,
            commands::sync::pull_now,
            commands::customers::get_customer,
            commands::customers::get_status,
            commands::sync::sync_now,
            commands::sync::list_outbox,
            commands::sync::retry_customer,
            commands::sync::update_customer,
            commands::sync::discard_customer,
            commands::settings::admin_status,
            commands::settings::admin_set_passphrase,
            commands::settings::admin_unlock,
            commands::settings::admin_lock,
            commands::settings::list_endpoints,
            commands::settings::test_endpoint,
            commands::settings::save_endpoint,
            commands::settings::remove_endpoint,
        ])
        .build(tauri::generate_context!())
        .context("the Outpost window could not be created")?;
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let engine = handle.state::<AppState>().engine.clone();
            tauri::async_runtime::block_on(engine.stop(STOP_TIMEOUT));
        }
    });
    Ok(())
}
