//! The desktop window: one per database (a second start focuses it), opens
//! the store, starts the app (and its sync engine), registers the commands,
//! forwards events, and stops the engine on exit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use outpost_core::endpoint::secrets::KeyringSecrets;
use outpost_core::{Outpost, Store, StoreOptions};
use tauri::{Manager, RunEvent, WindowEvent};

use crate::error::IpcError;
use crate::{commands, events, single_instance, start_error, webview};

/// How long the engine may take to finish its current request on exit.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

pub fn run(db: Option<PathBuf>) -> anyhow::Result<()> {
    let path = db.unwrap_or_else(outpost_core::paths::default_db_path);
    let app = tauri::Builder::default()
        // First: a second start on this database exits here, before the store opens.
        .plugin(single_instance::plugin(&path))
        .setup(move |app| {
            if let Some(window) = app.get_webview_window("main") {
                webview::lighten(&window);
            }
            let opened = tauri::async_runtime::block_on(async {
                let options = StoreOptions {
                    warm_up_phones: false,
                    ..StoreOptions::default()
                };
                let store = Store::open_with(&path, options).await?;
                Outpost::start(store, Arc::new(KeyringSecrets::default())).await
            });
            let outpost = match opened {
                Ok(outpost) => outpost,
                // Said in a dialog, not a panic in Tauri's event loop (what a
                // setup error becomes) behind an empty window.
                Err(e) => start_error::show_and_exit(app, &IpcError::from(e)),
            };
            tracing::info!(db = %path.display(), "local store open, sync engine started");
            events::forward(app.handle().clone(), &outpost);
            app.manage(outpost);
            Ok(())
        })
        .on_window_event(|window, event| {
            // Coming back to the window is a good moment to re-check the CRM.
            if let WindowEvent::Focused(true) = event {
                let outpost = window.state::<Outpost>().inner().clone();
                tauri::async_runtime::spawn(async move { outpost.retry_now().await });
            }
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .context("the Outpost window could not be created")?;
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            if let Some(outpost) = handle.try_state::<Outpost>() {
                let outpost = outpost.inner().clone();
                tauri::async_runtime::block_on(outpost.stop(STOP_TIMEOUT));
            }
        }
    });
    Ok(())
}
