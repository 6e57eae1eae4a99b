//! `parameterizedSearch` (GET and POST): a case-insensitive substring match
//! on names (first, last, "first last"), Email, Phone and MobilePhone (also by
//! digits only), after undoing SOSL's backslash escapes. Results come in record-id order (Salesforce ranks by
//! relevance; not emulated). Writes are visible at once unless the search
//! lag control is set.

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{parse_json, SfError};
use super::model::{FieldDef, SObject, SfRecord};
use super::{authorize, read_body};
use crate::state::Shared;

const DEFAULT_LIMIT: usize = 2000;

#[derive(Debug, Default)]
struct Spec {
    q: String,
    /// Objects with their fields (None: Id only) and limits.
    objects: Vec<(SObject, Option<Vec<String>>, Option<usize>)>,
    overall: Option<usize>,
}

fn matches(r: &SfRecord, needle: &str) -> bool {
    let get = |k: &str| r.values.get(k).map(String::as_str).unwrap_or("");
    let full = format!("{} {}", get("FirstName"), get("LastName"));
    let digits: String = needle.chars().filter(char::is_ascii_digit).collect();
    ["FirstName", "LastName", "Email", "Company"]
        .iter()
        .map(|k| get(k).to_lowercase())
        .chain(std::iter::once(full.to_lowercase()))
        .any(|v| v.contains(needle))
        || ["Phone", "MobilePhone"].iter().any(|k| {
            let v = get(k);
            v.to_lowercase().contains(needle)
                || (digits.len() >= 2 && {
                    let vd: String = v.chars().filter(char::is_ascii_digit).collect();
                    vd.contains(&digits)
                })
        })
}

/// The search text with SOSL's escapes undone: a reserved character
/// (`? & | ! { } [ ] ( ) ^ ~ * : \ " ' + -`) stands for itself after a
/// backslash; an unescaped `*` or `"` around the term is a wildcard or a
/// phrase mark, not text.
fn unescape(q: &str) -> String {
    let mut chars: Vec<(char, bool)> = Vec::with_capacity(q.len());
    let mut it = q.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => chars.extend(it.next().map(|e| (e, true))),
            c => chars.push((c, false)),
        }
    }
    let marker =
        |&(c, escaped): &(char, bool)| !escaped && (c == '*' || c == '"' || c.is_whitespace());
    let start = chars.iter().position(|c| !marker(c)).unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|c| !marker(c))
        .map_or(start, |i| i + 1);
    chars[start..end].iter().map(|(c, _)| c).collect()
}

fn run(shared: &Shared, spec: Spec, version: &str) -> Result<Value, SfError> {
    let needle = unescape(&spec.q).trim().to_lowercase();
    if needle.chars().count() < 2 {
        return Err(SfError::bad_request(
            "INVALID_SEARCH",
            "search term must be longer than one character",
        ));
    }
    let lag = chrono::Duration::from_std(shared.search_lag()).unwrap_or_default();
    let cutoff = Utc::now() - lag;
    let store = shared.store();
    let data = &store.salesforce;
    let objects = if spec.objects.is_empty() {
        SObject::ALL.iter().map(|o| (*o, None, None)).collect()
    } else {
        spec.objects
    };
    let mut out = Vec::new();
    for (o, fields, limit) in objects {
        let def = data.def(o);
        let names = fields.unwrap_or_else(|| vec!["Id".to_string()]);
        let defs: Vec<&FieldDef> = names
            .iter()
            .map(|n| {
                def.field(n).ok_or_else(|| {
                    SfError::bad_request(
                        "INVALID_FIELD",
                        format!("No such column '{n}' on entity '{}'.", o.name()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        out.extend(
            data.records()
                .filter(|r| r.object == o && r.deleted.is_none())
                .filter(|r| lag.is_zero() || r.modified <= cutoff)
                .filter(|r| matches(r, &needle))
                .take(limit.unwrap_or(DEFAULT_LIMIT))
                .map(|r| r.render(def, Some(&defs), version)),
        );
    }
    if let Some(n) = spec.overall {
        out.truncate(n);
    }
    Ok(json!({"searchRecords": out}))
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

pub async fn search_get(
    shared: Arc<Shared>,
    version: String,
    params: Vec<(String, String)>,
    h: HeaderMap,
) -> Response {
    let go = || {
        authorize(&shared, &h)?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let mut spec = Spec {
            q: get("q").unwrap_or("").to_string(),
            overall: get("overallLimit").and_then(|v| v.parse().ok()),
            ..Spec::default()
        };
        let global = get("fields").map(list);
        let default_limit = get("defaultLimit").and_then(|v| v.parse().ok());
        for (k, v) in &params {
            if k != "sobject" {
                continue;
            }
            let o = SObject::from_name(v).ok_or_else(|| {
                SfError::bad_request(
                    "INVALID_TYPE",
                    format!("sObject type '{v}' is not supported."),
                )
            })?;
            let fields = get(&format!("{v}.fields"))
                .map(list)
                .or_else(|| global.clone());
            let limit = get(&format!("{v}.limit"))
                .and_then(|n| n.parse().ok())
                .or(default_limit);
            spec.objects.push((o, fields, limit));
        }
        run(&shared, spec, &version).map(Json)
    };
    go().into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    q: String,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    sobjects: Vec<PostObject>,
    #[serde(default)]
    overall_limit: Option<usize>,
    #[serde(default)]
    default_limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct PostObject {
    name: String,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn search_post(
    shared: Arc<Shared>,
    version: String,
    h: HeaderMap,
    body: Body,
) -> Response {
    let go = async {
        authorize(&shared, &h)?;
        let bytes = read_body(&shared, body).await?;
        let b: PostBody = parse_json(&bytes)?;
        let mut spec = Spec {
            q: b.q,
            overall: b.overall_limit,
            ..Spec::default()
        };
        for s in b.sobjects {
            let o = SObject::from_name(&s.name).ok_or_else(|| {
                SfError::bad_request(
                    "INVALID_TYPE",
                    format!("sObject type '{}' is not supported.", s.name),
                )
            })?;
            spec.objects.push((
                o,
                s.fields.or_else(|| b.fields.clone()),
                s.limit.or(b.default_limit),
            ));
        }
        run(&shared, spec, &version).map(Json)
    };
    go.await.into_response()
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn sosl_escapes_stand_for_their_character() {
        assert_eq!(unescape(r"O\'Brien \& Co\*"), "O'Brien & Co*");
        assert_eq!(unescape("*ada*"), "ada");
        assert_eq!(unescape(r"a\\b"), r"a\b");
    }
}
