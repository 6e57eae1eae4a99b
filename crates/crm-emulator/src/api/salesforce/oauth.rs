//! `POST /services/oauth2/token` (form-encoded): `refresh_token` and
//! `client_credentials` grants, answered like Salesforce with `instance_url`,
//! `id`, `issued_at` and an HMAC-SHA256 `signature`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::model::{DEFAULT_OWNER, ORG_ID};
use super::{own_url, read_body};
use crate::api::body::parse_form;
use crate::state::Shared;

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// base64(HMAC-SHA256(client secret, id + issued_at)).
pub fn signature(secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub async fn token(shared: Arc<Shared>, body: Body) -> Response {
    let body = match read_body(&shared, body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let Some(form): Option<HashMap<String, String>> = parse_form(&body) else {
        return oauth_error(
            "invalid_request",
            "body must be application/x-www-form-urlencoded",
        );
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let cfg = &shared.config;
    let grant = get("grant_type");
    if grant != "refresh_token" && grant != "client_credentials" {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    if get("client_id") != cfg.oauth_client_id {
        return oauth_error("invalid_client", "invalid client credentials");
    }
    if get("client_secret") != cfg.oauth_client_secret {
        return oauth_error("invalid_client", "invalid client credentials");
    }
    let (instance, rotation) = {
        let rt = shared.salesforce();
        (rt.instance_url.clone(), rt.rotation)
    };
    let instance = instance.unwrap_or_else(|| own_url(&shared));
    let mut tokens = shared.tokens();
    let mut new_refresh = None;
    if grant == "refresh_token" {
        let refresh = get("refresh_token");
        if !tokens.knows_refresh_token(refresh) {
            return oauth_error("invalid_grant", "authentication failure");
        }
        if rotation {
            let fresh = format!("5Aep{}", uuid::Uuid::new_v4().simple());
            tokens.replace_refresh_token(refresh, &fresh);
            new_refresh = Some(fresh);
        }
    }
    let now = Utc::now();
    let access = tokens.issue(now);
    drop(tokens);
    let id = format!("{instance}/id/{ORG_ID}/{DEFAULT_OWNER}");
    let issued_at = now.timestamp_millis().to_string();
    let mut answer = json!({
        "access_token": access,
        "instance_url": instance,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature(&cfg.oauth_client_secret, &id, &issued_at),
        "scope": "api refresh_token",
    });
    if let Some(r) = new_refresh {
        answer["refresh_token"] = json!(r);
    }
    Json(answer).into_response()
}
