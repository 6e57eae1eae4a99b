//! Outpost's engine: everything that is not UI.
//!
//! A customer typed at the till travels: [`NewCustomer`] (untrusted input) →
//! [`customer::validation::validate`] → [`Store::create_customer`], which writes the row and
//! its outbox message in one transaction. Nothing here knows about Tauri; the app
//! and the CLI are thin shells over [`Store`].

pub mod admin;
pub mod app;
pub mod app_settings;
pub mod crm;
pub mod customer;
pub mod endpoint;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
pub mod outbox;
pub mod paths;
pub mod search;
pub mod sensitive;
pub mod status;
pub mod store;
pub mod sync;
pub mod template;
pub mod ui_model;

pub use app::{AppError, Outpost};
pub use customer::{Customer, CustomerId, NewCustomer, SyncState};
pub use error::{Error, FieldError, ValidationErrors};
pub use keys::{KeyGenerator, UuidV7Keys};
pub use outbox::{OutboxMessage, OutboxState};
pub use sensitive::Sensitive;
pub use status::{ConnectionState, Interception, StatusSnapshot};
pub use store::{CustomerChange, CustomersChanged, Store, StoreEvent, StoreOptions};
