//! `POST /oauth/token`: OAuth 2.0 client credentials (RFC 6749 §4.4) for the
//! generic REST contract. The client authenticates with HTTP Basic (§2.3.1,
//! id and secret form-urlencoded first) or with `client_id`/`client_secret`
//! in the body, never both. Issued tokens are ordinary bearer tokens of the
//! emulator's registry: both APIs accept them until they expire.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::Utc;
use serde_json::json;

use crate::api::body::{parse_form, read_limited};
use crate::state::Shared;

/// An error answer of RFC 6749 §5.2.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// Set when the client tried HTTP Basic: the answer must name the scheme.
    basic_challenge: bool,
}

impl OAuthError {
    fn bad(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description,
            basic_challenge: false,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut r = (self.status, no_store(), Json(body)).into_response();
        if self.basic_challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"crm-emulator\""),
            );
        }
        r
    }
}

/// §5.1: token answers must not be cached.
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// Client id and secret of an `Authorization: Basic` header, if there is one.
/// `Some(None)` is a Basic header that cannot be read.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let form_decode = |s: &str| parse_form(format!("v={s}").as_bytes())?.remove("v");
    Some(decoded.and_then(|text| {
        let (id, secret) = text.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    }))
}

pub async fn token(shared: Arc<Shared>, headers: HeaderMap, body: Body) -> Response {
    match issue(&shared, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn issue(shared: &Shared, headers: &HeaderMap, body: Body) -> Result<Response, OAuthError> {
    let body = read_limited(body, shared.config.max_body_bytes)
        .await
        .map_err(|_| OAuthError::bad("invalid_request", "unreadable or oversize body"))?;
    let form = parse_form(&body).ok_or(OAuthError::bad(
        "invalid_request",
        "the body must be application/x-www-form-urlencoded",
    ))?;
    let basic = basic_credentials(headers);
    let in_body = form.get("client_id").zip(form.get("client_secret"));
    let rejected = |basic_challenge| OAuthError {
        status: if basic_challenge {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        },
        error: "invalid_client",
        description: "client authentication failed",
        basic_challenge,
    };
    let (id, secret, via_basic) = match (basic, in_body) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::bad(
                "invalid_request",
                "use one client authentication method, not both",
            ))
        }
        (Some(None), None) => return Err(rejected(true)),
        (Some(Some((id, secret))), None) => (id, secret, true),
        (None, Some((id, secret))) => (id.clone(), secret.clone(), false),
        (None, None) => return Err(rejected(false)),
    };
    match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::bad("invalid_request", "grant_type is missing")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::bad(
                "unsupported_grant_type",
                "only client_credentials is offered here",
            ))
        }
    }
    let cfg = &shared.config;
    if id != cfg.oauth_client_id || secret != cfg.oauth_client_secret {
        return Err(rejected(via_basic));
    }
    let mut tokens = shared.tokens();
    let access = tokens.issue(Utc::now());
    Ok((
        no_store(),
        Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": tokens.lifetime().as_secs(),
        })),
    )
        .into_response())
}
