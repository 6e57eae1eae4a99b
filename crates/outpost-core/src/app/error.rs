//! Everything the facade can fail with, typed. The edges (IPC, CLI) map
//! these once each, in one place (`src-tauri/src/error.rs`).

use crate::admin::AdminError;
use crate::crm::error::{ConnectorError, QueueProblem};
use crate::endpoint::diagnose::TestResult;
use crate::endpoint::save::EndpointError;
use crate::endpoint::secrets::SecretError;
use crate::error::{Error, FieldError, ValidationErrors};
use crate::sync::once::{FlushError, PullOnceError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A malformed argument (bad key, unknown JSON field, out-of-range
    /// limit), named by its field.
    #[error("{}: {}", .0.field, .0.message)]
    InvalidInput(FieldError),
    /// Validation, a customer not found, a refusal, the local database.
    #[error(transparent)]
    Core(#[from] Error),
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// An endpoint command while the window's settings are locked.
    #[error("The settings are locked: enter the admin passphrase.")]
    SettingsLocked,
    #[error(transparent)]
    Keyring(#[from] SecretError),
    /// The CRM could not be reached, refused the credentials, or failed.
    #[error(transparent)]
    Crm(ConnectorError),
    #[error("no endpoint named {0}")]
    EndpointNotFound(String),
    /// A one-shot sync or pull with no endpoint to talk to.
    #[error("no CRM endpoint is configured: add one with `outpost endpoints add`")]
    NoEndpoint,
    /// "Test connection" found a problem (the result says which).
    #[error("{}", .0.message)]
    TestFailed(TestResult),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid_input(field: &str, message: impl Into<String>) -> Self {
        AppError::InvalidInput(FieldError::new(field, message))
    }

    pub fn refused(message: impl Into<String>) -> Self {
        AppError::Core(Error::Refused(message.into()))
    }

    pub(crate) fn validation(fields: Vec<FieldError>) -> Self {
        AppError::Core(Error::Validation(ValidationErrors(fields)))
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Core(Error::Validation(e))
    }
}

/// A keyring problem is the keyring's, wherever it was met.
impl From<ConnectorError> for AppError {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::Queue(QueueProblem::Keyring(k)) => AppError::Keyring(k),
            other => AppError::Crm(other),
        }
    }
}

impl From<EndpointError> for AppError {
    fn from(e: EndpointError) -> Self {
        match e {
            EndpointError::NotFound(name) => AppError::EndpointNotFound(name),
            EndpointError::Secrets(s) => AppError::Keyring(s),
            EndpointError::Store(s) => AppError::Core(s),
        }
    }
}

impl From<FlushError> for AppError {
    fn from(e: FlushError) -> Self {
        match e {
            FlushError::NoEndpoint => AppError::NoEndpoint,
            FlushError::AnotherDeliverer(holder) => AppError::refused(holder),
            FlushError::Connector(c) => c.into(),
            FlushError::Store(s) => AppError::Core(s),
        }
    }
}

impl From<PullOnceError> for AppError {
    fn from(e: PullOnceError) -> Self {
        match e {
            PullOnceError::NoEndpoint => AppError::NoEndpoint,
            PullOnceError::AnotherDeliverer(holder) => AppError::refused(holder),
            PullOnceError::UnknownEndpoint(_) => AppError::invalid_input("endpoint", e.to_string()),
            PullOnceError::Connector(c) => c.into(),
            PullOnceError::Store(s) => AppError::Core(s),
        }
    }
}

/// JSON that does not fit the expected shape, e.g. an unknown field: the
/// field serde names (in backticks) is the one reported.
impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("unknown field") || text.starts_with("invalid type"))
            .unwrap_or("input")
            .to_owned();
        AppError::invalid_input(&field, text)
    }
}
