//! "Test connection": probes an endpoint with the settings as entered and says
//! what happened in plain words, one outcome per thing an admin can fix.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::mapping;
use super::secrets::SecretStore;
use super::EndpointConfig;
use crate::crm;
use crate::crm::error::{ConnectorError, QueueProblem};
use crate::crm::field_check::MapProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TestOutcome {
    /// Reached and authenticated; everything Outpost needs is there.
    Ok,
    /// DNS, connection refused, timeout, TLS; or a captive portal or proxy
    /// answering in its place.
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
    /// What of the field map does not fit the CRM's fields (the outcome is
    /// then `misconfigured`: those customers would be refused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<MapProblem>>", optional)]
    pub map_problems: Vec<MapProblem>,
}

pub async fn test_connection(config: &EndpointConfig, secrets: Arc<dyn SecretStore>) -> TestResult {
    if let Err(e) = config.validate() {
        return TestResult {
            outcome: TestOutcome::Misconfigured,
            message: e.to_string(),
            map_problems: Vec::new(),
        };
    }
    let connector = match crm::build(config, secrets).await {
        Ok(connector) => connector,
        Err(e) => return explain(&e),
    };
    if let Err(e) = connector.probe().await {
        return explain(&e);
    }
    let mut reached = format!("Reached {} and authenticated.", config.base_url);
    // A note is worth saying but fails nothing; an error getting it is dropped.
    for note in connector.setup_notes().await.unwrap_or_default() {
        reached.push(' ');
        reached.push_str(&note);
    }
    let check = mapping::check_with(config, connector.as_ref()).await;
    if !check.problems.is_empty() {
        let problems: Vec<&str> = check.problems.iter().map(|p| p.message.as_str()).collect();
        return TestResult {
            outcome: TestOutcome::Misconfigured,
            message: format!(
                "{reached} The field map does not fit the CRM, so customers would be refused: {}",
                problems.join(" ")
            ),
            map_problems: check.problems,
        };
    }
    let message = match check.unchecked {
        // Only an admin's own map is worth a word; the defaults are the connector's.
        Some(why) if mapping::needs_check(config) => {
            format!(
                "{reached} The field map could not be checked: {}.",
                why.trim_end_matches('.')
            )
        }
        _ => reached,
    };
    TestResult {
        outcome: TestOutcome::Ok,
        message,
        map_problems: Vec::new(),
    }
}

fn explain(e: &ConnectorError) -> TestResult {
    let (outcome, message) = match e {
        ConnectorError::Unreachable(why) => (
            TestOutcome::Unreachable,
            format!("Could not reach the CRM ({why}). Check the URL, the network and any proxy or firewall."),
        ),
        ConnectorError::Intercepted { .. } => (
            TestOutcome::Unreachable,
            format!("{e}. Sign in to the network in a browser, or have the CRM's address let through the proxy."),
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
    TestResult {
        outcome,
        message,
        map_problems: Vec::new(),
    }
}
