//! WebKit settings that keep the window light. Outpost's UI is forms and
//! lists: WebKitGTK's GPU compositing buys it nothing, but costs a GL
//! context (Mesa's llvmpipe where there is no GPU, as on many tills) and
//! its buffers in the web process: 55-65 MB of the window's memory and
//! some of its start-up, and it is the path behind the blank windows Tauri
//! apps show with some Linux GPU drivers. Measured in BENCHMARKS.md
//! ("Footprint and start-up").

use tauri::{Runtime, WebviewWindow};

/// Renders the window's page in software. Called from the app's setup,
/// which runs before the event loop lets the page load.
pub fn lighten<R: Runtime>(window: &WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = applied {
            tracing::warn!("the window's WebKit settings could not be applied: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}
