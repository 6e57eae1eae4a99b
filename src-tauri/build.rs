#[path = "ui_dist.rs"]
mod ui_dist;

fn main() {
    // Stop with one line instead of a proc-macro panic when ui/dist was never built.
    let root = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed={}/index.html", ui_dist::UI_DIST);
    if let Err(message) = ui_dist::check_ui_dist(&root) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
    // Declaring the app's commands makes Tauri require an explicit permission
    // for each, so the capability file is the single list of what the UI may call.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "create_customer",
        "check_customer",
        "search_customers",
        "lookup_customers",
        "find_duplicates",
        "get_form_metadata",
        "get_working_set",
        "pull_now",
        "get_customer",
        "edit_customer",
        "get_status",
        "sync_now",
        "list_outbox",
        "retry_customer",
        "update_customer",
        "discard_customer",
        "list_conflicts",
        "resolve_conflict",
        "admin_status",
        "admin_set_passphrase",
        "admin_unlock",
        "admin_lock",
        "list_endpoints",
        "test_endpoint",
        "endpoint_crm_fields",
        "save_endpoint",
        "remove_endpoint",
        "get_app_settings",
        "set_app_settings",
    ]);
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(manifest);
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
