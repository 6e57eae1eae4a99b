//! Talking to CRMs: the [`CrmConnector`] trait and its data types, connector
//! errors and their classification, the throttle and the shared HTTP client,
//! the CRM's creation form, and one folder per CRM.

pub mod auth;
pub mod bottlecrm;
mod build;
pub mod connector;
pub mod device_day;
pub mod dynamics;
pub mod error;
pub mod field_check;
pub mod field_map;
pub mod form;
pub mod generic_rest;
pub mod http;
pub mod hubspot;
pub mod interception;
pub mod keyset;
pub mod salesforce;
pub mod throttle;
pub mod update_merge;
pub mod zoho;

pub(crate) use build::Unusable;
pub use build::{build, default_map, endpoint_default_map, field_map, key_generator};
pub use connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Outgoing, Page, PullFilter, RateLimit,
    RecordOutcome, RemoteCustomer,
};
pub use error::{ConnectorError, QueueProblem, RecordError};
