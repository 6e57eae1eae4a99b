//! Salesforce's error body: a JSON array `[{"message", "errorCode", "fields"?}]`
//! (errorcodes.htm); simple-salesforce reads `body[0]['errorCode']`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::api::body::BodyError;
use crate::auth::AuthError;

/// One error of a record or a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SfErr {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl SfErr {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        SfErr {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn on(mut self, field: impl Into<String>) -> Self {
        self.fields.push(field.into());
        self
    }

    /// As an entry of a request's error array.
    pub fn request_view(&self) -> Value {
        let mut v = json!({"message": self.message, "errorCode": self.code});
        if !self.fields.is_empty() {
            v["fields"] = json!(self.fields);
        }
        v
    }

    /// As an entry of a save result's `errors` (`statusCode`, `message`, `fields`).
    pub fn result_view(&self) -> Value {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }
}

/// An error answer: a status and the array of errors.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {errors:?}")]
pub struct SfError {
    pub status: StatusCode,
    pub errors: Vec<SfErr>,
}

impl SfError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        SfError {
            status,
            errors: vec![SfErr::new(code, message)],
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn of(status: StatusCode, errors: Vec<SfErr>) -> Self {
        SfError { status, errors }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::bad_request("MALFORMED_QUERY", message)
    }

    pub fn json_parse(message: impl Into<String>) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", message)
    }
}

impl From<AuthError> for SfError {
    fn from(_: AuthError) -> Self {
        SfError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }
}

impl From<BodyError> for SfError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { .. } => SfError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_TOO_LARGE",
                e.to_string(),
            ),
            BodyError::Read(_) => SfError::json_parse(e.to_string()),
        }
    }
}

impl IntoResponse for SfError {
    fn into_response(self) -> Response {
        let body: Vec<Value> = self.errors.iter().map(SfErr::request_view).collect();
        (self.status, Json(Value::Array(body))).into_response()
    }
}

/// Parses a JSON body as Salesforce does, `JSON_PARSER_ERROR` otherwise.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SfError> {
    serde_json::from_slice(body).map_err(|e| {
        SfError::json_parse(format!(
            "Unexpected character or end of input at [line:{}, column:{}]: {e}",
            e.line(),
            e.column()
        ))
    })
}
