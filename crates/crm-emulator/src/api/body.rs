//! Bounded request-body reading and form decoding shared by both APIs.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// Bodies beyond the limit are still read (and discarded) up to this many bytes,
/// so the client, which is usually still sending, reads our 413 instead of a reset.
const DRAIN_CAP: usize = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("failed to read the request body: {0}")]
    Read(String),
}

pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut body = body;
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_CAP {
                break;
            }
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(Bytes::from(buf))
}

/// `application/x-www-form-urlencoded` via axum's own parser; `None` when the
/// body is not such a form.
pub fn parse_form(body: &[u8]) -> Option<HashMap<String, String>> {
    let text = std::str::from_utf8(body).ok()?;
    let uri: axum::http::Uri = format!("/?{text}").parse().ok()?;
    axum::extract::Query::<HashMap<String, String>>::try_from_uri(&uri)
        .ok()
        .map(|q| q.0)
}
