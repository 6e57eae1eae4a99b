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
    /// Something else answered in the CRM's place: a captive portal's
    /// sign-in page or a proxy. Retried like an outage.
    Intercepted,
}

/// Who answered in the CRM's place, as far as the answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Interception {
    /// A captive portal: an HTML page, a redirect to another host, 511.
    SignInPage,
    /// A proxy: its own page or headers, a 407, a certificate for another name.
    Proxy,
}

impl Interception {
    /// The words the status bar, the Sync screen and the CLI show.
    pub const fn words(self) -> &'static str {
        match self {
            Interception::SignInPage => {
                "Not reaching the CRM: the network answered with a sign-in page"
            }
            Interception::Proxy => "Not reaching the CRM: a proxy answered",
        }
    }

    pub const ALL: [Interception; 2] = [Interception::SignInPage, Interception::Proxy];
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
    /// While `connection` is `intercepted`: what answered instead.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub interception: Option<Interception>,
    /// Set while another Outpost process holds this database's delivery
    /// lease (this one queues and looks up, that one delivers), in plain
    /// words; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub other_deliverer: Option<String>,
    /// Fields whose edit met a different CRM value, waiting for a person
    /// (`outpost conflicts list`). Always counted by the store; optional
    /// only so snapshots from before conflicts existed still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub conflicts: Option<u64>,
    /// Customers the CRM deleted while an edit made here was unsent, kept
    /// for a person to discard or create again (`outpost customers discard`
    /// / `recreate`). Optional like `conflicts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub deleted_in_crm: Option<u64>,
    /// The primary CRM's request budget as its last answer said, for CRMs
    /// that count one (Salesforce's daily API requests); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub api_budget: Option<crate::crm::connector::ApiBudget>,
}
