//! Delivering the outbox to CRMs: connectors, the remote-server monitor, the
//! flusher, and the engine that runs one of each per endpoint.

pub mod backoff;
pub mod connector;
pub mod diagnose;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod flusher;
pub mod form_refresh;
pub mod lookup;
pub mod monitor;
pub mod overlay;
pub mod pull;
pub mod secrets;
pub mod throttle;
