//! A configured CRM endpoint: its settings and their validation, its secrets
//! in the OS keyring, saving / renaming / removing it together with them, and
//! "Test connection".

mod config;
pub mod diagnose;
pub mod kinds;
pub mod mapping;
pub mod overlay;
pub mod save;
pub mod secret_input;
pub mod secrets;
pub mod transfer;

pub use config::*;
