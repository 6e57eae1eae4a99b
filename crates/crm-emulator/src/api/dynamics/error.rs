//! Dataverse's error body: `{"error":{"code":"0x...","message":"..."}}`
//! (webapi/compose-http-requests-handle-errors.md), with the codes the
//! emulator answers named once here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::reply::Reply;
use crate::api::body::BodyError;
use crate::auth::AuthError;

/// Dataverse error codes the emulator uses.
pub mod code {
    /// Query/property syntax problems (`Could not find a property named ...`).
    pub const BAD_PROPERTY: &str = "0x80060888";
    /// `ObjectDoesNotExist`.
    pub const NOT_FOUND: &str = "0x80040217";
    /// `ConcurrencyVersionMismatch` (stale `If-Match`).
    pub const VERSION_MISMATCH: &str = "0x80060882";
    /// `DuplicateRecord` (a record with the same key or id already exists).
    pub const DUPLICATE_KEY: &str = "0x80040237";
    /// `DuplicateRecordEntityKey`: another row has the alternate key's value.
    pub const DUPLICATE_ENTITY_KEY: &str = "0x80060892";
    /// Duplicate detection blocked the save.
    pub const DUPLICATE_DETECTED: &str = "0x80040333";
    /// A text value longer than the column's `MaxLength`.
    pub const TOO_LONG: &str = "0x80044331";
    /// An option-set value not among the column's options.
    pub const BAD_OPTION: &str = "0x8004431a";
    /// A `SystemRequired` column left empty (the emulator's choice of code).
    pub const REQUIRED: &str = "0x80040200";
    /// `PrivilegeDenied`: the user lacks a privilege.
    pub const PRIVILEGE_DENIED: &str = "0x80040220";
    /// Generic bad argument (bad JSON, bad GUID, bad key).
    pub const BAD_ARGUMENT: &str = "0x80040203";
    /// Missing, invalid or expired bearer token (the emulator's choice of code).
    pub const AUTH: &str = "0x80072560";
    /// Change tracking is off on the table.
    pub const NO_CHANGE_TRACKING: &str = "0x80048d19";
    /// Service protection: number of requests.
    pub const LIMIT_REQUESTS: &str = "0x80072322";
    /// Service protection: combined execution time.
    pub const LIMIT_TIME: &str = "0x80072321";
    /// Service protection: concurrent requests.
    pub const LIMIT_CONCURRENCY: &str = "0x80072326";
    pub const INTERNAL: &str = "0x80040216";
    pub const UNAVAILABLE: &str = "0x80040265";
}

/// An error answer of the Web API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct DvError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl DvError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        DvError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.contact'.`
    pub fn unknown_property(name: &str) -> Self {
        Self::bad_request(
            code::BAD_PROPERTY,
            format!("Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.contact'."),
        )
    }

    /// A query option the strict parser does not take.
    pub fn syntax(message: impl Into<String>) -> Self {
        Self::bad_request(
            code::BAD_PROPERTY,
            format!("The query parameter has a syntax error: {}", message.into()),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
    }

    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code::BAD_PROPERTY,
            format!("Resource not found for the segment in {method} {path}."),
        )
    }

    pub fn precondition(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, code, message)
    }

    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }

    pub fn reply(&self) -> Reply {
        Reply::json(self.status, self.body())
    }
}

impl From<AuthError> for DvError {
    fn from(e: AuthError) -> Self {
        let why = match e {
            AuthError::Missing => "no bearer token was sent",
            AuthError::Invalid => "the bearer token is not valid",
            AuthError::Expired { .. } => "the bearer token has expired",
            AuthError::MissingScope { .. } => "the bearer token lacks a scope",
        };
        DvError::new(
            StatusCode::UNAUTHORIZED,
            code::AUTH,
            format!("Authentication failed: {why}."),
        )
    }
}

impl From<BodyError> for DvError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => DvError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::BAD_ARGUMENT,
                e.to_string(),
            ),
            BodyError::Read(_) => DvError::bad_request(code::BAD_ARGUMENT, e.to_string()),
        }
    }
}

impl IntoResponse for DvError {
    fn into_response(self) -> Response {
        self.reply().into_response()
    }
}
