//! The baseline of the footprint bench: a Tauri v2 window with one line of
//! static HTML, built with the same Tauri, features and profile as Outpost.
//!
//!   blank-window [--software]
//!
//! `--software` renders the page without GPU compositing, as Outpost's
//! window does (src-tauri/src/webview.rs), for a like-for-like baseline.
// No console window on Windows, as for the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use tauri::Manager;

fn main() {
    let software = std::env::args().any(|a| a == "--software");
    tauri::Builder::default()
        .setup(move |app| {
            if software {
                software_rendering(&app.get_webview_window("main").expect("the window"));
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the blank window could not start");
}

fn software_rendering<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    window
        .with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        })
        .expect("the window's WebKit settings");
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
