//! The accounts server's `POST /oauth/v2/token` (`grant_type=refresh_token`,
//! or `authorization_code` with a code from the control API; parameters in the query or a form body, as Zoho takes both). Errors are
//! HTTP 200 with `{"error": ...}`, as Zoho's accounts server answers them.
//! Refresh tokens belong to a data centre: one of another data centre is
//! `invalid_code`. A refresh token mints at most 10 access tokens per 10
//! minutes and keeps at most 30 live; the 31st evicts the oldest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use super::{LIVE_TOKENS, MINTS_PER_WINDOW, MINT_WINDOW};
use crate::api::body::{parse_form, read_limited};
use crate::state::Shared;

/// The scopes a minted token reports.
pub const SCOPE: &str =
    "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.org.READ";

/// The body Zoho answers when a refresh token mints too often.
pub const TOO_MANY_MINTS: &str =
    "You have made too many requests continuously. Please try again after some time.";

fn error(e: &str) -> Response {
    Json(json!({"error": e})).into_response()
}

pub async fn token(shared: Arc<Shared>, uri: Uri, body: Body) -> Response {
    let mut params: HashMap<String, String> = uri
        .query()
        .and_then(|q| parse_form(q.as_bytes()))
        .unwrap_or_default();
    let Ok(body) = read_limited(body, shared.config.max_body_bytes).await else {
        return error("invalid_request");
    };
    if let Some(form) = parse_form(&body) {
        params.extend(form);
    }
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let cfg = &shared.config;
    let grant = get("grant_type");
    if grant.is_empty() {
        return error("invalid_request");
    }
    if grant != "refresh_token" && grant != "authorization_code" {
        return error("unsupported_grant_type");
    }
    if get("client_id") != cfg.oauth_client_id || get("client_secret") != cfg.oauth_client_secret {
        return error("invalid_client");
    }
    // A grant code becomes a new refresh token of this data centre, which
    // then mints the first access token.
    let new_refresh = if grant == "authorization_code" {
        if !shared.zoho().grant_codes.remove(get("code")) {
            return error("invalid_code");
        }
        Some(super::admin::issue_refresh_token(&shared, None))
    } else {
        None
    };
    let refresh = new_refresh
        .clone()
        .unwrap_or_else(|| get("refresh_token").to_string());
    let configured =
        refresh == cfg.oauth_refresh_token && shared.tokens().knows_refresh_token(&refresh);
    let mut rt = shared.zoho();
    let dc = rt.data_centre.clone();
    let valid = match rt.refresh.get(&refresh) {
        Some(s) if !configured => s.data_centre == dc,
        _ => configured,
    };
    if !valid {
        return error("invalid_code");
    }
    let now = Instant::now();
    let mint_limit = rt.mint_limit;
    let lifetime = rt.token_lifetime;
    let state = rt.refresh.entry(refresh).or_default();
    if state.data_centre.is_empty() {
        state.data_centre = dc.clone();
    }
    while state
        .mints
        .front()
        .is_some_and(|at| now.duration_since(*at) >= MINT_WINDOW)
    {
        state.mints.pop_front();
    }
    if mint_limit && state.mints.len() >= MINTS_PER_WINDOW {
        return Json(json!({
            "error": "Access Denied",
            "error_description": TOO_MANY_MINTS,
        }))
        .into_response();
    }
    state.mints.push_back(now);
    let access = shared.tokens().issue_for(Utc::now(), lifetime);
    state.live.push_back(access.clone());
    let evicted = if state.live.len() > LIVE_TOKENS {
        state.live.pop_front()
    } else {
        None
    };
    if let Some(old) = &evicted {
        shared.tokens().revoke(Some(old));
        rt.token_dc.remove(old);
    }
    rt.token_dc.insert(access.clone(), dc);
    rt.tokens_minted += 1;
    drop(rt);
    let mut body = json!({
        "access_token": access,
        "expires_in": lifetime.as_secs(),
        "api_domain": super::own_url(&shared),
        "token_type": "Bearer",
        "scope": SCOPE,
    });
    if let Some(r) = new_refresh {
        body["refresh_token"] = json!(r);
    }
    Json(body).into_response()
}
