//! Zoho's error body: `{"code","details","message","status":"error"}`
//! (zoho/crm-oas v8.0 common.json), with the emulator's choice of HTTP
//! status per code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::api::body::BodyError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ZError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ZError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ZError {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "invalid oauth token",
        )
    }

    pub fn auth_failure() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILURE",
            "Authentication failed",
        )
    }

    pub fn invalid_module() -> Self {
        Self::bad(
            "INVALID_MODULE",
            "the module name given seems to be invalid",
        )
    }

    pub fn url_pattern() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "The requested method is not allowed for the URL",
        )
    }

    pub fn missing_param(name: &str) -> Self {
        Self::bad(
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
        )
        .details(json!({"param": name}))
    }

    pub fn invalid_param(name: &str, message: &str) -> Self {
        Self::bad("INVALID_DATA", message.to_string()).details(json!({"param_name": name}))
    }

    pub fn no_permission() -> Self {
        Self::new(StatusCode::FORBIDDEN, "NO_PERMISSION", "permission denied")
            .details(json!({"permissions": ["Crm_Implied_Create"]}))
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal Server Error (injected)",
        )
    }

    pub fn body(&self) -> Value {
        json!({"code": self.code, "details": self.details, "message": self.message, "status": "error"})
    }
}

impl From<BodyError> for ZError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => ZError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "LIMIT_EXCEEDED",
                e.to_string(),
            ),
            BodyError::Read(_) => ZError::bad("INVALID_DATA", e.to_string()),
        }
    }
}

impl IntoResponse for ZError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
