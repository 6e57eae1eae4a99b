//! The core's typed errors. The IPC edge and the CLI map them once each.

use serde::Serialize;
use ts_rs::TS;

/// One problem with one input field, in words the form shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FieldError {
    /// The field's snake_case name, as in [`crate::NewCustomer`].
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Every field-level problem found in one input; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// The message for one field, if that field has a problem.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    #[error("no customer with key {0}")]
    CustomerNotFound(String),
    #[error("the local database could not be opened at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the local database could not be upgraded: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("local database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Refused(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
