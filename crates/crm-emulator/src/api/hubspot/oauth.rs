//! `POST /oauth/v1/token` with `grant_type=refresh_token`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use super::error::correlation_id;
use super::read_body;
use crate::api::body::parse_form;
use crate::state::Shared;

/// OAuth errors use their own shape: `{status:"BAD_...", message, correlationId}`.
fn oauth_error(status: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "status": status,
            "message": message,
            "correlationId": correlation_id(),
        })),
    )
        .into_response()
}

pub async fn token(shared: Arc<Shared>, body: Body) -> Response {
    let body = match read_body(&shared, body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let form: HashMap<String, String> = match parse_form(&body) {
        Some(f) => f,
        None => {
            return oauth_error(
                "BAD_REQUEST",
                "body must be application/x-www-form-urlencoded",
            )
        }
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let cfg = &shared.config;
    if get("grant_type") != "refresh_token" {
        return oauth_error(
            "BAD_GRANT_TYPE",
            "grant_type must be refresh_token (authorization_code is not emulated)",
        );
    }
    if get("client_id") != cfg.oauth_client_id {
        return oauth_error("BAD_CLIENT_ID", "missing or unknown client id");
    }
    if get("client_secret") != cfg.oauth_client_secret {
        return oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret");
    }
    let refresh = get("refresh_token");
    let mut tokens = shared.tokens();
    if !tokens.knows_refresh_token(refresh) {
        return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token");
    }
    let access = tokens.issue(Utc::now());
    Json(json!({
        "token_type": "bearer",
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": tokens.lifetime().as_secs(),
    }))
    .into_response()
}
