//! A local server that speaks the CRM APIs Outpost syncs to (Outpost's generic
//! REST contract, HubSpot CRM v3, Salesforce REST, the Dataverse Web API and
//! Zoho CRM v8),
//! with fault injection and a control API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), crm_emulator::Error> {
//! use crm_emulator::{Config, Emulator, Faults};
//! let emu = Emulator::start(Config::unlimited()).await?;
//! let base = emu.crm_url();
//! emu.set_faults(Faults { error_rate: 0.2, ..Faults::default() });
//! // ... drive the sync engine against `base` ...
//! assert_eq!(emu.count("PUT /customers/{key}", 201), 0);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod config;
mod control;
pub mod crm_user;
mod emulator;
pub mod error;
pub mod faults;
mod persist;
pub mod proxy;
pub mod ratelimit;
mod server;
pub mod state;
pub mod stats;
pub mod store;

pub use api::dynamics::KeyStatus as DynamicsKeyStatus;
pub use api::hubspot::model::ObjectType;
pub use api::rest::model::{CustomField as RestCustomField, CustomerFields, PicklistOption};
pub use api::zoho::admin::SettingsChange as ZohoSettingsChange;
pub use config::{parse_rate_limit, Config, RateLimit};
pub use emulator::Emulator;
pub use error::Error;
pub use faults::{ErrorKind, Faults, Portal, Race};
pub use proxy::FaultProxy;
pub use state::Api;
pub use stats::{RequestLogEntry, StatsSnapshot};
pub use store::StoredRecord;
