//! The outbox: one durable message per change that must reach the CRM. It is
//! written in the same transaction as the change itself, so a customer can
//! never exist locally without the message that will deliver it. Its SQL is
//! in `store::outbox`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::customer::CustomerId;

mod update;

pub use update::{FieldChange, UpdatePayload};

pub const KIND_CUSTOMER_CREATE: &str = "customer.create";
/// An edit of a customer: only the changed fields, each `{base, new}`
/// ([`UpdatePayload`]). Delivered after the customer's create, in order.
pub const KIND_CUSTOMER_UPDATE: &str = "customer.update";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Handed to the CRM; the outcome is not yet recorded.
    InFlight,
    /// The CRM refused it; a person must fix or discard it.
    NeedsAttention,
    /// Delivered and confirmed.
    Sent,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::InFlight,
        OutboxState::NeedsAttention,
        OutboxState::Sent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::InFlight => "in-flight",
            OutboxState::NeedsAttention => "needs-attention",
            OutboxState::Sent => "sent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One outbox message. Field names are part of the CLI's `--json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxMessage {
    /// Increasing: delivery follows this order.
    #[ts(type = "number")]
    pub id: i64,
    pub customer_id: CustomerId,
    pub kind: String,
    pub state: OutboxState,
    #[ts(type = "number")]
    pub attempts: i64,
    #[ts(type = "string")]
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt did not deliver it, for people to read: a
    /// refusal that named a field starts with it ("phone: Enter a valid...").
    pub last_error: Option<String>,
    /// While the message needs attention: the field the CRM refused, when it
    /// named one (an Outpost field name, or the CRM's own when it is not
    /// mapped). Cleared when the message is sent again or delivered.
    pub refused_field: Option<String>,
    /// While the message needs attention: the CRM's reason without the field.
    pub refusal_message: Option<String>,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// The snapshot that will be sent.
    pub payload: serde_json::Value,
}

/// The readable reason of a refusal (`last_error`, the audit log): the field
/// it names, if any, in front of the CRM's words.
pub fn reason_text(field: Option<&str>, message: &str) -> String {
    match field {
        Some(f) => format!("{f}: {message}"),
        None => message.to_owned(),
    }
}
