//! Error body of the generic REST API: `{"code", "message", "field"?}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::api::body::BodyError;
use crate::auth::AuthError;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct RestError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl RestError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        RestError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<AuthError> for RestError {
    fn from(e: AuthError) -> Self {
        let (code, message) = match e {
            AuthError::Missing => ("unauthorized", "missing bearer token".to_string()),
            AuthError::Invalid => ("invalid_token", "unknown or revoked token".to_string()),
            AuthError::Expired { seconds_ago } => (
                "token_expired",
                format!("token expired {seconds_ago} second(s) ago"),
            ),
            AuthError::MissingScope { required } => {
                ("unauthorized", format!("token lacks scope {required}"))
            }
        };
        RestError::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

impl From<BodyError> for RestError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                e.to_string(),
            ),
            BodyError::Read(_) => RestError::bad_request("invalid_body", e.to_string()),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            body["field"] = json!(field);
        }
        (self.status, Json(body)).into_response()
    }
}
