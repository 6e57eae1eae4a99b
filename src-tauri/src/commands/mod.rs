//! Tauri commands, one module per screen's concerns. Each validates its raw
//! IPC arguments and hands off to the core in a few lines.

pub mod app_settings;
pub mod customers;
pub mod settings;
pub mod sync;

pub(crate) use customers::{parse_key, search_args};
