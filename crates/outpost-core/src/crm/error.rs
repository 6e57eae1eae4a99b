//! How a failed CRM call is classified. The rule lives here, in one place:
//! every connector reports failures as these types and the flusher acts on
//! the class alone.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::Interception;

/// A problem with one record that a person must look at. Never blocks the
/// records behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    /// The CRM's reason in plain words.
    pub message: String,
    /// The customer field it concerns, when the CRM says.
    pub field: Option<String>,
}

/// Why a whole request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The CRM could not be reached: refused, reset, DNS, TLS, timeout.
    /// The monitor turns the endpoint offline at once.
    #[error("the CRM is unreachable: {0}")]
    Unreachable(String),
    /// The CRM answered but could not take the request now (5xx, 429).
    /// Retried with backoff; `retry_after` is honoured when the CRM gives one.
    #[error("the CRM is busy or failing: {reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Credentials rejected, permission missing, endpoint misconfigured:
    /// the endpoint's queue pauses until an admin changes the settings.
    #[error("{0}")]
    Queue(QueueProblem),
    /// A response we could not understand; treated as transient, logged loudly.
    #[error("unexpected response from the CRM: {0}")]
    Protocol(String),
    /// Something else answered in the CRM's place (a captive portal, a
    /// proxy; see `crm/interception.rs`). Like an outage, nothing of the
    /// answer is believed: no record is marked sent or refused because of it.
    #[error("{} ({detail})", .by.words())]
    Intercepted { by: Interception, detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueProblem {
    #[error("credentials rejected: an admin must fix the settings ({0})")]
    Unauthorized(String),
    #[error("missing permission: {0}")]
    Forbidden(String),
    #[error("the endpoint is misconfigured: {0}")]
    Misconfigured(String),
    #[error("credentials not set: an admin must enter them in the settings")]
    CredentialsMissing,
    /// The credentials could not be read: the OS keyring is locked or absent.
    #[error(transparent)]
    Keyring(#[from] crate::endpoint::secrets::SecretError),
}

/// What the flusher does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Wait for connectivity; the message is not at fault.
    Offline,
    /// Retry this message later, with backoff.
    Transient,
    /// Pause the endpoint's whole queue.
    Queue,
}

impl ConnectorError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ConnectorError::Unreachable(_) | ConnectorError::Intercepted { .. } => {
                ErrorClass::Offline
            }
            ConnectorError::Transient { .. } | ConnectorError::Protocol(_) => ErrorClass::Transient,
            ConnectorError::Queue(_) => ErrorClass::Queue,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Classifies a transport error from reqwest. A certificate for another
    /// name is an interception and says which names it was for.
    pub fn from_transport(e: &reqwest::Error) -> Self {
        if let Some(intercepted) = super::interception::from_tls(e) {
            return intercepted;
        }
        let what = if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            format!("cannot connect ({})", root_cause(e))
        } else {
            root_cause(e)
        };
        ConnectorError::Unreachable(what)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The shared rule for HTTP statuses that are not a per-record answer.
/// Connectors call it for whatever their API does not explain better.
pub fn classify_status(
    status: u16,
    reason: String,
    retry_after: Option<Duration>,
) -> ConnectorError {
    match status {
        401 => ConnectorError::Queue(QueueProblem::Unauthorized(reason)),
        403 => ConnectorError::Queue(QueueProblem::Forbidden(reason)),
        404 | 405 => ConnectorError::Queue(QueueProblem::Misconfigured(reason)),
        408 | 425 | 429 | 500..=599 => ConnectorError::Transient {
            reason,
            retry_after,
        },
        _ => ConnectorError::Protocol(format!("HTTP {status}: {reason}")),
    }
}

/// Parses a `Retry-After` header given in seconds (the HTTP-date form is rare
/// for APIs and is treated as absent).
pub fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    value?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_classes() {
        let c = |s| classify_status(s, "x".into(), None).class();
        assert_eq!(c(401), ErrorClass::Queue);
        assert_eq!(c(403), ErrorClass::Queue);
        assert_eq!(c(429), ErrorClass::Transient);
        assert_eq!(c(500), ErrorClass::Transient);
        assert_eq!(c(503), ErrorClass::Transient);
        assert_eq!(c(404), ErrorClass::Queue);
        assert_eq!(
            ConnectorError::Unreachable("refused".into()).class(),
            ErrorClass::Offline
        );
    }
}
