//! "Test connection": probes an endpoint with the settings as entered and says
//! what happened in plain words, one outcome per thing an admin can fix.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::secrets::SecretStore;
use super::EndpointConfig;
use crate::crm;
use crate::crm::error::{ConnectorError, QueueProblem};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TestOutcome {
    /// Reached and authenticated; everything Outpost needs is there.
    Ok,
    /// DNS, connection refused, timeout, TLS.
    Unreachable,
    CredentialsRejected,
    MissingPermission,
    /// Reached, but the CRM lacks something Outpost needs (e.g. the key property).
    Misconfigured,
    CredentialsMissing,
    /// The CRM answered with an error that says nothing about the settings.
    ServerError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TestResult {
    pub outcome: TestOutcome,
    pub message: String,
}

pub async fn test_connection(config: &EndpointConfig, secrets: Arc<dyn SecretStore>) -> TestResult {
    if let Err(e) = config.validate() {
        return TestResult {
            outcome: TestOutcome::Misconfigured,
            message: e.to_string(),
        };
    }
    let result = match crm::build(config, secrets).await {
        Ok(connector) => connector.probe().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => TestResult {
            outcome: TestOutcome::Ok,
            message: format!("Reached {} and authenticated.", config.base_url),
        },
        Err(e) => explain(&e),
    }
}

fn explain(e: &ConnectorError) -> TestResult {
    let (outcome, message) = match e {
        ConnectorError::Unreachable(why) => (
            TestOutcome::Unreachable,
            format!("Could not reach the CRM ({why}). Check the URL, the network and any proxy or firewall."),
        ),
        ConnectorError::Queue(QueueProblem::Unauthorized(why)) => (
            TestOutcome::CredentialsRejected,
            format!("The CRM rejected the credentials ({why}). Enter a valid token or client secret."),
        ),
        ConnectorError::Queue(QueueProblem::Forbidden(why)) => (
            TestOutcome::MissingPermission,
            format!("The credentials lack a permission Outpost needs ({why})."),
        ),
        ConnectorError::Queue(QueueProblem::CredentialsMissing) => (
            TestOutcome::CredentialsMissing,
            "No credentials are stored for this endpoint yet: enter the token or client secret.".into(),
        ),
        ConnectorError::Queue(QueueProblem::Misconfigured(why)) => (TestOutcome::Misconfigured, why.clone()),
        // Nothing about the settings: the keyring's own words say what to do.
        ConnectorError::Queue(QueueProblem::Keyring(e)) => (TestOutcome::CredentialsMissing, e.to_string()),
        ConnectorError::Transient { reason, .. } | ConnectorError::Protocol(reason) => (
            TestOutcome::ServerError,
            format!("The CRM answered with an error ({reason}); try again later."),
        ),
    };
    TestResult { outcome, message }
}
