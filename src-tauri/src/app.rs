//! The desktop window: opens the store, registers the commands, forwards events.

use std::path::PathBuf;

use anyhow::Context;
use outpost_core::Store;
use tauri::Manager;

use crate::{commands, events};

pub fn run(db: Option<PathBuf>) -> anyhow::Result<()> {
    let path = db.unwrap_or_else(outpost_core::paths::default_db_path);
    tauri::Builder::default()
        .setup(move |app| {
            let store = tauri::async_runtime::block_on(Store::open(&path))?;
            tracing::info!(db = %path.display(), "local store open");
            events::forward(app.handle().clone(), store.clone());
            app.manage(store);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::create_customer,
            commands::search_customers,
            commands::get_customer,
            commands::get_status,
        ])
        .run(tauri::generate_context!())
        .context("the Outpost window failed")
}
