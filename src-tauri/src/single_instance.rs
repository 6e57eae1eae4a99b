//! One window per database. Starting Outpost while it already runs on the
//! same database hands over to the running window (it is shown and focused)
//! and exits; another `--db` opens a window of its own beside it.
//!
//! tauri-plugin-single-instance does the work; on Linux it names the running
//! instance by a D-Bus name on the session bus, which we derive from the
//! database's absolute path (`app.outpost.desktop.db<hash>.SingleInstance`)
//! rather than from the app identifier alone, so the key is the database, not
//! the app. Without a session bus the plugin logs a warning and the app starts
//! as before. macOS and Windows key instances by the app identifier only (one
//! window in all).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Runtime};

/// The plugin, keyed by `db`; register it before any other plugin so a second
/// start exits before the store is opened or a window is made.
pub fn plugin<R: Runtime>(db: &Path) -> TauriPlugin<R> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(db))
        .callback(|app, _args, _cwd| focus_main_window(app))
        .build()
}

/// A second start on this database: bring the window to the front.
fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    tracing::info!("Outpost was started again on this database: focusing its window");
    // Each step may fail on a window manager that refuses it; the others still help.
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

/// `app.outpost.desktop.db` and 16 hex digits of the SHA-256 of the database's
/// absolute path: a valid D-Bus name element, the same however the path was
/// spelled (relative, `./`, `..`, a symlinked directory).
pub fn instance_id(db: &Path) -> String {
    let digest = Sha256::digest(absolute(db).as_os_str().as_encoded_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}.db{hex}", outpost_core::paths::APP_IDENTIFIER)
}

/// The canonical path when the file exists; before its first start, the
/// canonical directory and the file name (the file is created in it).
fn absolute(db: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(db) {
        return path;
    }
    let absolute = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    let in_canonical_dir = absolute
        .parent()
        .zip(absolute.file_name())
        .and_then(|(dir, name)| std::fs::canonicalize(dir).ok().map(|dir| dir.join(name)));
    in_canonical_dir.unwrap_or(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dbus_element(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn one_database_one_id_however_its_path_is_spelled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let plain = dir.path().join("till.db");
        let detour = dir.path().join("sub").join("..").join(".").join("till.db");
        // Before the file exists (the first start creates it) and after.
        assert_eq!(instance_id(&plain), instance_id(&detour));
        let before = instance_id(&plain);
        std::fs::write(&plain, b"").unwrap();
        assert_eq!(instance_id(&plain), before);
        assert_eq!(instance_id(&detour), before);
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path(), &link).unwrap();
            assert_eq!(instance_id(&link.join("till.db")), before);
        }
    }

    #[test]
    fn another_database_another_id() {
        let dir = tempfile::tempdir().unwrap();
        assert_ne!(
            instance_id(&dir.path().join("a.db")),
            instance_id(&dir.path().join("b.db"))
        );
    }

    #[test]
    fn the_id_is_a_valid_dbus_name() {
        let dir = tempfile::tempdir().unwrap();
        let id = instance_id(&dir.path().join("ünïcode till.db"));
        let name = format!("{id}.SingleInstance");
        assert!(name.len() <= 255, "{name}");
        assert!(name.split('.').all(is_dbus_element), "{name}");
        assert!(id.starts_with("app.outpost.desktop.db"), "{id}");
    }
}
