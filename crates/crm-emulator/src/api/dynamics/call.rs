//! One Web API request as plain data (from a route or a `$batch` part), its
//! `Prefer` preferences, and the URL decoding OData needs.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};

/// One Web API request, for a route handler or one operation of a `$batch`.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// `v9.2`.
    pub version: String,
    /// The path after `/api/data/{version}/`, percent-decoded.
    pub resource: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Call {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn prefer(&self) -> Prefer {
        Prefer::of(&self.headers)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The `Prefer` preferences the emulator honours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    pub representation: bool,
    pub max_page_size: Option<u32>,
    pub track_changes: bool,
    pub continue_on_error: bool,
}

impl Prefer {
    pub fn of(headers: &HeaderMap) -> Self {
        let mut p = Prefer::default();
        for v in headers.get_all("prefer") {
            let Ok(v) = v.to_str() else { continue };
            for item in v.split(',') {
                let item = item.trim();
                let (name, value) = item.split_once('=').unwrap_or((item, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "return" if value.trim() == "representation" => p.representation = true,
                    "odata.maxpagesize" => p.max_page_size = value.trim().parse().ok(),
                    "odata.track-changes" => p.track_changes = true,
                    "odata.continue-on-error" => p.continue_on_error = true,
                    _ => {}
                }
            }
        }
        p
    }
}

/// Percent-decoding without `+` → space (OData URLs are not forms).
pub fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(n) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a query value for links the emulator hands out.
pub fn pct_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$,()'!*:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}
