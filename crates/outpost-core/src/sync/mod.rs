//! What runs: the remote-server monitor, the flusher, the working-set puller
//! and the form refresh per endpoint, the engine that runs them, and the
//! one-shot paths the CLI uses.

pub mod backoff;
mod connector;
pub mod engine;
pub mod flusher;
pub mod form_refresh;
pub mod lease;
pub mod lookup;
pub mod monitor;
pub mod once;
pub mod pull;
