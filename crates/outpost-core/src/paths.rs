//! Where the local database lives.

use std::path::PathBuf;

/// The app's identifier; Tauri derives its data directory from the same string
/// (see `identifier` in tauri.conf.json), so the app and the CLI share one store.
pub const APP_IDENTIFIER: &str = "app.outpost.desktop";
/// Overrides the database path for tests, scripts and kiosks.
pub const DB_ENV: &str = "OUTPOST_DB";
pub const DB_FILE: &str = "outpost.db";

/// `$OUTPOST_DB`, else the platform's app data directory
/// (`~/.local/share/app.outpost.desktop/outpost.db` on Linux).
pub fn default_db_path() -> PathBuf {
    if let Some(p) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(APP_IDENTIFIER)
        .join(DB_FILE)
}
