//! Tauri commands, one module per screen's concerns. Each delegates to the
//! core's [`Outpost`](outpost_core::Outpost) facade in a line or three; the
//! rules live there and the errors are mapped in `crate::error`.

pub mod app_settings;
pub mod customers;
pub mod settings;
pub mod sync;

#[cfg(test)]
mod tests;

/// Every command the window may invoke (each also needs its permission in
/// `build.rs` and `capabilities/main-window.json`).
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        customers::create_customer,
        customers::check_customer,
        customers::search_customers,
        customers::lookup_customers,
        customers::find_duplicates,
        customers::get_form_metadata,
        customers::get_customer,
        customers::edit_customer,
        customers::get_status,
        sync::get_working_set,
        sync::pull_now,
        sync::sync_now,
        sync::list_outbox,
        sync::retry_customer,
        sync::update_customer,
        sync::discard_customer,
        sync::recreate_customer,
        sync::list_conflicts,
        sync::resolve_conflict,
        settings::admin_status,
        settings::admin_set_passphrase,
        settings::admin_unlock,
        settings::admin_lock,
        settings::list_endpoints,
        settings::test_endpoint,
        settings::endpoint_crm_fields,
        settings::save_endpoint,
        settings::remove_endpoint,
        app_settings::get_app_settings,
        app_settings::set_app_settings,
    ]
}
