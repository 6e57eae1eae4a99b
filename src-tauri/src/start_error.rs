//! The window's start-up failure (the database cannot be opened: not
//! Outpost's, from a newer version, the disk full...) told in a native
//! message dialog instead of a window that never comes: the person who
//! double-clicked the icon sees why, and the words are on stderr too.

use tauri::{Manager, Runtime};

use crate::error::IpcError;

/// The dialog's window title (the end-to-end test looks for it).
pub const DIALOG_TITLE: &str = "Outpost cannot start";

/// Closes the main window, says what went wrong until the dialog is
/// closed, and exits 1 (the CLI's code for the same failure).
pub fn show_and_exit<R: Runtime>(app: &tauri::App<R>, error: &IpcError) -> ! {
    eprintln!("error: {error}");
    if let Some(window) = app.get_webview_window("main") {
        // At once, in GTK: Tauri's own `hide` would wait for the event loop
        // this setup call (and then the dialog) blocks.
        #[cfg(target_os = "linux")]
        if let Ok(gtk_window) = window.gtk_window() {
            use gtk::prelude::WidgetExt;
            gtk_window.hide();
        }
        let _ = window.destroy();
    }
    show(&error.message);
    std::process::exit(1)
}

#[cfg(target_os = "linux")]
fn show(message: &str) {
    use gtk::prelude::*;
    let dialog = gtk::MessageDialog::new(
        None::<&gtk::Window>,
        gtk::DialogFlags::MODAL,
        gtk::MessageType::Error,
        gtk::ButtonsType::Close,
        "Outpost cannot open its database",
    );
    dialog.set_title(DIALOG_TITLE);
    dialog.set_secondary_text(Some(message));
    dialog.run();
    dialog.close();
}

/// Elsewhere stderr only, until a platform dialog is wired up.
#[cfg(not(target_os = "linux"))]
fn show(_message: &str) {}
