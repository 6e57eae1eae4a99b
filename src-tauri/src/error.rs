//! The one error shape that leaves the process: the UI receives it as the
//! rejection of `invoke`, and the CLI prints it (and derives its exit code).
//! Every core error becomes one here, in `From<AppError>`, and nowhere else.

use outpost_core::admin::AdminError;
use outpost_core::endpoint::secrets::SecretError;
use outpost_core::error::UnusableFile;
use outpost_core::{AppError, Error, FieldError};
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
    /// The disk is full: the change was not saved (the words say so).
    DiskFull,
    /// The database file is not Outpost's (not SQLite, or another
    /// application's); it was left unchanged.
    NotOutpostDatabase,
    /// The database file was written by a newer Outpost; it was left unchanged.
    NewerDatabase,
    /// The OS keyring is locked: the person must unlock it (the message says how).
    KeyringLocked,
    /// The CRM could not be reached, rejected the credentials, or failed.
    Crm,
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
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            fields: vec![],
        }
    }

    /// The CLI's own prompt could not ask for the passphrase.
    pub fn forbidden(message: impl Into<String>) -> Self {
        IpcError::new(ErrorCode::Forbidden, message)
    }

    /// The process could not even start its runtime.
    pub fn cannot_start(e: std::io::Error) -> Self {
        IpcError::new(ErrorCode::Internal, format!("cannot start: {e}"))
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

impl From<AppError> for IpcError {
    fn from(e: AppError) -> Self {
        let (code, fields) = match &e {
            AppError::InvalidInput(field) => (ErrorCode::InvalidInput, vec![field.clone()]),
            AppError::Core(Error::Validation(v)) => {
                return IpcError {
                    code: ErrorCode::Validation,
                    message: v.to_string(),
                    fields: v.fields().to_vec(),
                }
            }
            AppError::Core(Error::Refused(_)) | AppError::NoEndpoint => {
                (ErrorCode::Refused, vec![])
            }
            AppError::Core(Error::CustomerNotFound(_) | Error::ConflictNotFound { .. })
            | AppError::EndpointNotFound(_) => (ErrorCode::NotFound, vec![]),
            AppError::Core(Error::DiskFull) | AppError::Admin(AdminError::DiskFull) => {
                tracing::warn!("the disk is full");
                (ErrorCode::DiskFull, vec![])
            }
            AppError::Core(Error::UnusableFile(UnusableFile::Newer { .. })) => {
                (ErrorCode::NewerDatabase, vec![])
            }
            AppError::Core(Error::UnusableFile(_)) => (ErrorCode::NotOutpostDatabase, vec![]),
            AppError::Core(
                Error::Open { .. } | Error::Migration(_) | Error::Database(_) | Error::Corrupt(_),
            )
            | AppError::Admin(AdminError::Store(_)) => {
                tracing::error!(error = %e, "storage failure");
                (ErrorCode::Storage, vec![])
            }
            AppError::Admin(AdminError::Weak) => {
                let field = FieldError::new("passphrase", e.to_string());
                return IpcError {
                    code: ErrorCode::InvalidInput,
                    message: format!("passphrase: {e}"),
                    fields: vec![field],
                };
            }
            AppError::Admin(_) | AppError::SettingsLocked => (ErrorCode::Forbidden, vec![]),
            AppError::Keyring(SecretError::Locked) => (ErrorCode::KeyringLocked, vec![]),
            AppError::Keyring(_) => {
                tracing::error!(error = %e, "keyring failure");
                (ErrorCode::Internal, vec![])
            }
            AppError::Crm(_) | AppError::TestFailed(_) => (ErrorCode::Crm, vec![]),
        };
        IpcError {
            code,
            message: e.to_string(),
            fields,
        }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        AppError::from(e).into()
    }
}

/// A request whose JSON does not fit the expected shape, e.g. an unknown field.
impl From<serde_json::Error> for IpcError {
    fn from(e: serde_json::Error) -> Self {
        AppError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_core::crm::error::ConnectorError;
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

    #[test]
    fn a_locked_keyring_says_how_to_unlock_it_wherever_it_was_met() {
        let direct: IpcError = AppError::Keyring(SecretError::Locked).into();
        assert_eq!(direct.code, ErrorCode::KeyringLocked);
        assert!(direct.message.starts_with("keyring locked: unlock it"));
        assert_eq!(direct.exit_code(), 1);
        // Met while building a connector (a sync or pull run).
        let via_crm: IpcError = AppError::from(ConnectorError::Queue(
            outpost_core::crm::error::QueueProblem::Keyring(SecretError::Locked),
        ))
        .into();
        assert_eq!(via_crm, direct);
    }

    #[test]
    fn each_failure_has_its_code_and_exit_code() {
        let cases: Vec<(AppError, ErrorCode, u8)> = vec![
            (
                AppError::invalid_input("limit", "too big"),
                ErrorCode::InvalidInput,
                2,
            ),
            (
                AppError::Admin(AdminError::Weak),
                ErrorCode::InvalidInput,
                2,
            ),
            (AppError::Admin(AdminError::Wrong), ErrorCode::Forbidden, 1),
            (AppError::SettingsLocked, ErrorCode::Forbidden, 1),
            (AppError::refused("no"), ErrorCode::Refused, 1),
            (AppError::NoEndpoint, ErrorCode::Refused, 1),
            (
                AppError::EndpointNotFound("x".into()),
                ErrorCode::NotFound,
                1,
            ),
            (
                AppError::Crm(ConnectorError::Unreachable("refused".into())),
                ErrorCode::Crm,
                1,
            ),
            (
                AppError::Keyring(SecretError::Unavailable("no bus".into())),
                ErrorCode::Internal,
                1,
            ),
            (Error::DiskFull.into(), ErrorCode::DiskFull, 1),
            (
                AppError::Admin(AdminError::DiskFull),
                ErrorCode::DiskFull,
                1,
            ),
            (
                Error::from(UnusableFile::NotSqlite { path: "x".into() }).into(),
                ErrorCode::NotOutpostDatabase,
                1,
            ),
            (
                Error::from(UnusableFile::Newer {
                    path: "x".into(),
                    found: 2,
                    known: 1,
                })
                .into(),
                ErrorCode::NewerDatabase,
                1,
            ),
        ];
        for (e, code, exit) in cases {
            let ipc = IpcError::from(e);
            assert_eq!((ipc.code, ipc.exit_code()), (code, exit), "{ipc:?}");
        }
        let weak = IpcError::from(AppError::Admin(AdminError::Weak));
        assert_eq!(weak.fields[0].field, "passphrase");
        assert!(weak.message.starts_with("passphrase: "));
        let full = IpcError::from(AppError::Admin(AdminError::DiskFull));
        assert_eq!(full.message, "the disk is full: nothing was saved");
        let bad = IpcError::from(AppError::invalid_input("limit", "too big"));
        assert_eq!(bad.message, "limit: too big");
        assert_eq!(bad.fields, [FieldError::new("limit", "too big")]);
    }
}
