//! HubSpot CRM v3 emulation: objects (contacts, companies), search, properties
//! and the OAuth token endpoint.

pub mod error;
pub mod model;
pub mod oauth;
pub mod objects;
pub mod properties;
pub mod search;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;

use self::error::HsError;
use self::model::ObjectType;
use crate::api::body::read_limited;
use crate::auth::bearer;
use crate::state::{Api, Shared};

type S = State<Arc<Shared>>;
type Params = Query<Vec<(String, String)>>;

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let mut r = Router::new();
    for ty in ObjectType::ALL {
        let base = format!("/crm/v3/objects/{}", ty.path());
        r = r
            .route(
                &base,
                post(move |State(s): S, h: HeaderMap, b: Body| objects::create(ty, s, h, b)).get(
                    move |State(s): S, Query(p): Params, h: HeaderMap| objects::list(ty, s, p, h),
                ),
            )
            .route(
                &format!("{base}/{{id}}"),
                get(
                    move |State(s): S, Path(id): Path<String>, Query(p): Params, h: HeaderMap| {
                        objects::get_one(ty, s, id, p, h)
                    },
                )
                .patch(
                    move |State(s): S,
                          Path(id): Path<String>,
                          Query(p): Params,
                          h: HeaderMap,
                          b: Body| objects::update(ty, s, id, p, h, b),
                )
                .delete(
                    move |State(s): S, Path(id): Path<String>, h: HeaderMap| {
                        objects::archive(ty, s, id, h)
                    },
                ),
            )
            .route(
                &format!("{base}/batch/create"),
                post(move |State(s): S, h: HeaderMap, b: Body| objects::batch_create(ty, s, h, b)),
            )
            .route(
                &format!("{base}/batch/read"),
                post(move |State(s): S, h: HeaderMap, b: Body| objects::batch_read(ty, s, h, b)),
            )
            .route(
                &format!("{base}/batch/update"),
                post(move |State(s): S, h: HeaderMap, b: Body| objects::batch_update(ty, s, h, b)),
            )
            .route(
                &format!("{base}/batch/upsert"),
                post(move |State(s): S, h: HeaderMap, b: Body| objects::batch_upsert(ty, s, h, b)),
            )
            .route(
                &format!("{base}/search"),
                post(move |State(s): S, h: HeaderMap, b: Body| search::search(ty, s, h, b)),
            );
        let props = format!("/crm/v3/properties/{}", ty.path());
        r = r
            .route(
                &props,
                get(move |State(s): S, h: HeaderMap| properties::list(ty, s, h)).post(
                    move |State(s): S, h: HeaderMap, b: Body| properties::create(ty, s, h, b),
                ),
            )
            .route(
                &format!("{props}/{{name}}"),
                get(move |State(s): S, Path(n): Path<String>, h: HeaderMap| {
                    properties::get_one(ty, s, n, h)
                })
                .delete(
                    move |State(s): S, Path(n): Path<String>, h: HeaderMap| {
                        properties::archive(ty, s, n, h)
                    },
                ),
            );
    }
    r.route_layer(axum::middleware::from_fn_with_state(
        (shared, Api::Hubspot),
        crate::api::limit::rate_limit,
    ))
    // The token endpoint is outside the API rate limit, as in HubSpot.
    .route(
        "/oauth/v1/token",
        post(|State(s): S, b: Body| oauth::token(s, b)),
    )
}

/// Checks the bearer token and one scope it must grant.
pub fn authorize(shared: &Shared, headers: &HeaderMap, scope: &str) -> Result<(), HsError> {
    shared
        .tokens()
        .check(bearer(headers), Some(scope), Utc::now())
        .map_err(HsError::from)
}

pub async fn read_body(shared: &Shared, body: Body) -> Result<Bytes, HsError> {
    Ok(read_limited(body, shared.config.max_body_bytes).await?)
}
