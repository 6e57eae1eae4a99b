//! One Web API answer as plain data, so the same handler result becomes an
//! HTTP response or a part of a `$batch` response.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const JSON_TYPE: &str = "application/json; odata.metadata=minimal";

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// A JSON body, or none (204).
    pub body: Option<Value>,
    /// A raw body with its content type (the `$batch` multipart answer).
    pub raw: Option<(String, String)>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            raw: None,
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            raw: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text and its content type (`None` for no body).
    pub fn body_text(&self) -> Option<(String, String)> {
        if let Some(raw) = &self.raw {
            return Some(raw.clone());
        }
        self.body
            .as_ref()
            .map(|v| (JSON_TYPE.to_string(), v.to_string()))
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let text = self.body_text();
        let mut resp = match text {
            Some((ty, body)) => {
                let mut r = Response::new(Body::from(body));
                if let Ok(v) = HeaderValue::from_str(&ty) {
                    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
                }
                r
            }
            None => Response::new(Body::empty()),
        };
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        h.insert("odata-version", HeaderValue::from_static("4.0"));
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                h.insert(n, v);
            }
        }
        resp
    }
}
