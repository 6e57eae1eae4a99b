//! What the status bar shows: connection state and outbox counts.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The CRM connection as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectionState {
    /// No CRM endpoint is configured yet: creations queue in the outbox.
    NotConfigured,
    Online,
    Offline,
    /// The CRM rejected the credentials; an admin must fix the settings.
    Unauthorized,
}

/// A snapshot of the outbox and the connection. Field names are part of the
/// CLI's `outpost status --json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StatusSnapshot {
    /// Messages not yet delivered: waiting or being sent right now.
    #[ts(type = "number")]
    pub pending: u64,
    #[ts(type = "number")]
    pub in_flight: u64,
    #[ts(type = "number")]
    pub needs_attention: u64,
    #[ts(type = "number")]
    pub sent: u64,
    #[ts(type = "number")]
    pub customers: u64,
    pub connection: ConnectionState,
    /// When the primary CRM last confirmed a delivery (RFC 3339).
    pub last_success_at: Option<String>,
    /// Why the primary CRM is offline or paused, in plain words.
    pub last_error: Option<String>,
    /// Set while another Outpost process holds this database's delivery
    /// lease (this one queues and looks up, that one delivers), in plain
    /// words; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub other_deliverer: Option<String>,
}
