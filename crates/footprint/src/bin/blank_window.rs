//! The baseline of the footprint bench: a Tauri v2 window with one line of
//! static HTML, built with the same Tauri, features and profile as Outpost.
// No console window on Windows, as for the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the blank window could not start");
}
