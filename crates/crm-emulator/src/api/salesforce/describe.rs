//! Metadata: the version list, the version's resources, the sObject list
//! and `describe`.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::authorize;
use super::error::SfError;
use super::model::SObject;
use crate::state::Shared;

/// The newest version listed by `GET /services/data/` (any v20.0–v99.0 is served).
pub const LATEST: u32 = 65;

fn release(v: u32) -> String {
    let k = v as i64 - 59;
    let year = 24 + k.div_euclid(3);
    let season = ["Winter", "Spring", "Summer"][k.rem_euclid(3) as usize];
    format!("{season} '{year:02}")
}

pub async fn versions() -> Json<Value> {
    let list: Vec<Value> = (20..=LATEST)
        .map(|v| {
            json!({"label": release(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")})
        })
        .collect();
    Json(Value::Array(list))
}

pub async fn resources(shared: Arc<Shared>, v: String, h: HeaderMap) -> Response {
    if let Err(e) = authorize(&shared, &h) {
        return e.into_response();
    }
    let b = format!("/services/data/{v}");
    Json(json!({
        "sobjects": format!("{b}/sobjects"),
        "query": format!("{b}/query"),
        "queryAll": format!("{b}/queryAll"),
        "parameterizedSearch": format!("{b}/parameterizedSearch"),
        "composite": format!("{b}/composite"),
        "limits": format!("{b}/limits"),
    }))
    .into_response()
}

fn summary(o: SObject, v: &str) -> Value {
    let b = format!("/services/data/{v}/sobjects/{}", o.name());
    json!({
        "name": o.name(),
        "label": o.name(),
        "labelPlural": o.label_plural(),
        "keyPrefix": o.prefix(),
        "custom": false,
        "createable": true,
        "updateable": true,
        "deletable": true,
        "queryable": true,
        "searchable": true,
        "urls": {"sobject": b, "describe": format!("{b}/describe"), "rowTemplate": format!("{b}/{{ID}}")},
    })
}

pub async fn sobjects(shared: Arc<Shared>, v: String, h: HeaderMap) -> Response {
    if let Err(e) = authorize(&shared, &h) {
        return e.into_response();
    }
    let list: Vec<Value> = SObject::ALL.into_iter().map(|o| summary(o, &v)).collect();
    Json(json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list})).into_response()
}

pub async fn describe(
    shared: Arc<Shared>,
    (v, object): (String, String),
    h: HeaderMap,
) -> Response {
    if let Err(e) = authorize(&shared, &h) {
        return e.into_response();
    }
    let Some(o) = SObject::from_name(&object) else {
        return SfError::not_found().into_response();
    };
    let fields: Vec<Value> = shared
        .store()
        .salesforce
        .def(o)
        .fields
        .iter()
        .map(|f| f.describe())
        .collect();
    let mut d = summary(o, &v);
    d["fields"] = Value::Array(fields);
    Json(d).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_names() {
        assert_eq!(super::release(59), "Winter '24");
        assert_eq!(super::release(62), "Winter '25");
        assert_eq!(super::release(20), "Winter '11");
    }
}
