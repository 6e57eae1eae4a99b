//! The one error shape that leaves the process: the UI receives it as the
//! rejection of `invoke`, and the CLI prints it (and derives its exit code).

use outpost_core::{Error, FieldError};
use serde::Serialize;
use ts_rs::TS;

/// What the UI branches on. Add a code only when a caller needs to tell it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// Field-level problems in a customer; see `fields`.
    Validation,
    NotFound,
    /// The action is not possible right now (e.g. online-only and offline).
    Refused,
    /// Admin rights are needed (settings locked, wrong passphrase).
    Forbidden,
    /// A malformed argument (bad key, unknown field, out-of-range limit).
    InvalidInput,
    /// The local database failed.
    Storage,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

impl IpcError {
    pub fn invalid_input(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        IpcError {
            code: ErrorCode::InvalidInput,
            fields: vec![FieldError::new(field, message.clone())],
            message: format!("{field}: {message}"),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        IpcError {
            code: ErrorCode::NotFound,
            message: message.into(),
            fields: vec![],
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        IpcError {
            code: ErrorCode::Forbidden,
            message: message.into(),
            fields: vec![],
        }
    }

    pub fn from_other(message: impl Into<String>) -> Self {
        IpcError {
            code: ErrorCode::Internal,
            message: message.into(),
            fields: vec![],
        }
    }

    /// CLI contract: 2 for invalid input, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self.code {
            ErrorCode::Validation | ErrorCode::InvalidInput => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let (code, fields) = match &e {
            Error::Refused(_) => (ErrorCode::Refused, vec![]),
            Error::Validation(v) => (ErrorCode::Validation, v.fields().to_vec()),
            Error::CustomerNotFound(_) => (ErrorCode::NotFound, vec![]),
            Error::Open { .. } | Error::Migration(_) | Error::Database(_) | Error::Corrupt(_) => {
                tracing::error!(error = %e, "storage failure");
                (ErrorCode::Storage, vec![])
            }
        };
        let message = match &e {
            Error::Validation(v) => v.to_string(),
            other => other.to_string(),
        };
        IpcError {
            code,
            message,
            fields,
        }
    }
}

impl From<outpost_core::sync::engine::CreateRefused> for IpcError {
    fn from(e: outpost_core::sync::engine::CreateRefused) -> Self {
        IpcError {
            code: ErrorCode::Refused,
            message: e.0,
            fields: vec![],
        }
    }
}

impl From<outpost_core::endpoint::save::EndpointError> for IpcError {
    fn from(e: outpost_core::endpoint::save::EndpointError) -> Self {
        use outpost_core::endpoint::save::EndpointError;
        match e {
            EndpointError::NotFound(_) => IpcError::not_found(e.to_string()),
            EndpointError::Secrets(s) => IpcError::from_other(s.to_string()),
            EndpointError::Store(s) => s.into(),
        }
    }
}

/// A request whose JSON does not fit the expected shape, e.g. an unknown field.
impl From<serde_json::Error> for IpcError {
    fn from(e: serde_json::Error) -> Self {
        let text = e.to_string();
        // serde names the offending field in backticks: "unknown field `foo`, expected ...".
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("unknown field") || text.starts_with("invalid type"))
            .unwrap_or("input")
            .to_owned();
        IpcError::invalid_input(&field, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::ValidationErrors;

    #[test]
    fn validation_errors_keep_their_fields() {
        let e: IpcError =
            Error::Validation(ValidationErrors(vec![FieldError::new("email", "bad")])).into();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "validation", "message": "email: bad", "fields": [{"field": "email", "message": "bad"}]})
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn unknown_json_fields_name_the_field() {
        let err =
            serde_json::from_str::<outpost_core::NewCustomer>(r#"{"frist_name":"x"}"#).unwrap_err();
        let e = IpcError::from(err);
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert_eq!(e.fields[0].field, "frist_name");
    }

    #[test]
    fn not_found_is_a_plain_failure() {
        let e: IpcError = Error::CustomerNotFound("k".into()).into();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.exit_code(), 1);
    }
}
