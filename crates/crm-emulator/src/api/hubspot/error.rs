//! HubSpot's error body: `{status:"error", message, correlationId, category, errors?, ...}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::api::body::BodyError;
use crate::auth::AuthError;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {category}: {message}")]
pub struct HsError {
    pub status: StatusCode,
    pub category: &'static str,
    pub message: String,
    /// Extra top-level members (`errors`, `links`, `context`).
    pub extra: Map<String, Value>,
}

pub fn correlation_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl HsError {
    pub fn new(status: StatusCode, category: &'static str, message: impl Into<String>) -> Self {
        HsError {
            status,
            category,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// "Property values were not valid" with one entry per bad property.
    pub fn invalid_properties(problems: &[(String, &'static str, String)]) -> Self {
        let legacy: Vec<Value> = problems
            .iter()
            .map(|(name, code, msg)| {
                json!({"isValid": false, "message": msg, "error": code, "name": name})
            })
            .collect();
        let errors: Vec<Value> = problems
            .iter()
            .map(|(name, code, msg)| {
                json!({"message": msg, "code": code, "context": {"propertyName": [name]}})
            })
            .collect();
        Self::validation(format!(
            "Property values were not valid: {}",
            Value::Array(legacy)
        ))
        .with("errors", Value::Array(errors))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    pub fn conflict(existing_label: &str, existing_id: u64) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            format!("{existing_label} already exists. Existing ID: {existing_id}"),
        )
    }
}

impl From<AuthError> for HsError {
    fn from(e: AuthError) -> Self {
        let unauthorized =
            |category, message: String| HsError::new(StatusCode::UNAUTHORIZED, category, message);
        match e {
            AuthError::Missing => unauthorized(
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication \
                 and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
                    .to_string(),
            ),
            AuthError::Invalid => unauthorized(
                "INVALID_AUTHENTICATION",
                "Authentication credentials are invalid or have been revoked.".to_string(),
            ),
            AuthError::Expired { seconds_ago } => unauthorized(
                "EXPIRED_AUTHENTICATION",
                format!("The OAuth token used to make this call expired {seconds_ago} second(s) ago."),
            ),
            AuthError::MissingScope { required } => HsError::new(
                StatusCode::FORBIDDEN,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. \
                 Read more about required scopes here: https://developers.hubspot.com/scopes.",
            )
            .with(
                "errors",
                json!([{
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredScopes": [required]}
                }]),
            )
            .with("links", json!({"scopes": "https://developers.hubspot.com/scopes"})),
        }
    }
}

impl From<BodyError> for HsError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => HsError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "VALIDATION_ERROR",
                e.to_string(),
            ),
            BodyError::Read(_) => HsError::validation(e.to_string()),
        }
    }
}

impl IntoResponse for HsError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("status".into(), json!("error"));
        body.insert("message".into(), json!(self.message));
        body.insert("correlationId".into(), json!(correlation_id()));
        body.insert("category".into(), json!(self.category));
        body.extend(self.extra);
        (self.status, Json(Value::Object(body))).into_response()
    }
}

/// Parses a JSON body, answering like HubSpot's "Invalid input JSON".
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HsError> {
    serde_json::from_slice(body).map_err(|e| {
        HsError::validation(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}
