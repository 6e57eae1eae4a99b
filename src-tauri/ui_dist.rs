//! The build's check that the UI was built. `tauri::generate_context!` embeds
//! `build.frontendDist` (tauri.conf.json) and panics inside the proc macro when
//! it is missing, which tells a new developer nothing; `build.rs` stops first
//! with one line saying what to run. Shared by build.rs and the lib's tests.

use std::path::Path;

/// `build.frontendDist` in tauri.conf.json (a test keeps the two in step).
pub const UI_DIST: &str = "ui/dist";

/// What `cargo build` says when the UI was not built.
pub const MISSING_UI: &str =
    "ui/dist is missing: run scripts/build-ui first (the app embeds the built UI), then build again";

/// `Err` with the one-line message when `root/ui/dist/index.html` is absent.
pub fn check_ui_dist(root: &Path) -> Result<(), &'static str> {
    if root.join(UI_DIST).join("index.html").is_file() {
        Ok(())
    } else {
        Err(MISSING_UI)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ui_build_is_one_line_naming_the_script() {
        let root = tempfile::tempdir().unwrap();
        let message = check_ui_dist(root.path()).unwrap_err();
        assert!(message.contains("scripts/build-ui"), "{message}");
        assert!(!message.contains('\n'));
        // An empty ui/dist (an interrupted build) is still missing.
        std::fs::create_dir_all(root.path().join(UI_DIST)).unwrap();
        assert_eq!(check_ui_dist(root.path()), Err(MISSING_UI));
    }

    #[test]
    fn a_built_ui_passes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(UI_DIST)).unwrap();
        std::fs::write(
            root.path().join(UI_DIST).join("index.html"),
            "<!doctype html>",
        )
        .unwrap();
        assert_eq!(check_ui_dist(root.path()), Ok(()));
    }

    #[test]
    fn the_checked_path_is_the_configured_frontend_dist() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["build"]["frontendDist"], UI_DIST);
    }
}
