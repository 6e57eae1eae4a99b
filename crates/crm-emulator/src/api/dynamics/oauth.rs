//! `POST /{tenant}/oauth2/v2.0/token`: Microsoft Entra ID's client
//! credentials grant (form body with `scope` ending in `/.default`),
//! answered `{token_type, expires_in, ext_expires_in, access_token}`; errors
//! as Entra's JSON with `AADSTS` codes. Any tenant name is accepted. The
//! client id and secret come in the body or in HTTP Basic (RFC 6749
//! §2.3.1, which Microsoft's client-credentials page lists as well).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use crate::api::body::{parse_form, read_limited};
use crate::state::Shared;

/// Entra's error body (`error`, `error_description` with the `AADSTS` code
/// and trace lines, `error_codes`, ids and time).
fn entra_error(status: StatusCode, error: &str, aadsts: u32, text: &str) -> Response {
    let trace = uuid::Uuid::new_v4().hyphenated().to_string();
    let correlation = uuid::Uuid::new_v4().hyphenated().to_string();
    let at = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{aadsts}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {at}"),
            "error_codes": [aadsts],
            "timestamp": at,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        })),
    )
        .into_response()
}

pub async fn token(shared: Arc<Shared>, headers: HeaderMap, body: Body) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    let Ok(body) = read_limited(body, shared.config.max_body_bytes).await else {
        return entra_error(
            bad,
            "invalid_request",
            900144,
            "The request body must be a form.",
        );
    };
    let Some(form): Option<HashMap<String, String>> = parse_form(&body) else {
        return entra_error(
            bad,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    // Basic is read only when the body carries no client id.
    let basic = match form.get("client_id") {
        Some(_) => None,
        None => crate::api::rest::oauth::basic_credentials(&headers).flatten(),
    };
    let (client, secret) = match &basic {
        Some((id, secret)) => (id.as_str(), secret.as_str()),
        None => (get("client_id"), get("client_secret")),
    };
    let cfg = &shared.config;
    match get("grant_type") {
        "client_credentials" => {}
        "" => {
            return entra_error(
                bad,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        }
        other => {
            return entra_error(
                bad,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            )
        }
    }
    if client != cfg.oauth_client_id {
        return entra_error(
            bad,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client}' was not found in the directory."),
        );
    }
    // Entra answers a wrong secret with 401 (as clients of
    // login.microsoftonline.com report), its other errors with 400.
    if secret != cfg.oauth_client_secret {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."),
        );
    }
    let scope = get("scope");
    if !scope.ends_with("/.default") || scope.len() <= "/.default".len() {
        return entra_error(
            bad,
            "invalid_scope",
            70011,
            &format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' ('{scope}') is not valid. The scope {scope} is not valid; a client credentials request asks for '<resource>/.default'."),
        );
    }
    let mut tokens = shared.tokens();
    let access = tokens.issue(Utc::now());
    let secs = tokens.lifetime().as_secs();
    drop(tokens);
    Json(json!({
        "token_type": "Bearer",
        "expires_in": secs,
        "ext_expires_in": secs,
        "access_token": access,
    }))
    .into_response()
}
