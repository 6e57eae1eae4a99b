//! `POST /crm/v3/objects/{type}/search`: filter groups, sorts, free text, paging,
//! the 10,000-result cap and the optional index lag.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{parse_json, HsError};
use super::model::{HsObject, ObjectTable, ObjectType};
use super::{authorize, read_body};
use crate::state::Shared;

pub const MAX_LIMIT: usize = 200;
pub const DEFAULT_LIMIT: usize = 10;
/// Search never pages past this many results.
pub const RESULT_CAP: usize = 10_000;
pub const MAX_GROUPS: usize = 5;
pub const MAX_FILTERS_PER_GROUP: usize = 10;
pub const MAX_FILTERS: usize = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SearchRequest {
    filter_groups: Vec<FilterGroup>,
    sorts: Vec<Sort>,
    properties: Vec<String>,
    query: Option<String>,
    limit: Option<Value>,
    after: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    value: Option<Value>,
    high_value: Option<Value>,
    values: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Sort {
    /// `"createdate"` or `"-createdate"`.
    Short(String),
    #[serde(rename_all = "camelCase")]
    Full {
        property_name: String,
        #[serde(default)]
        direction: Option<String>,
    },
}

impl Sort {
    fn key(&self) -> (&str, bool) {
        match self {
            Sort::Short(s) => match s.strip_prefix('-') {
                Some(name) => (name, true),
                None => (s.as_str(), false),
            },
            Sort::Full {
                property_name,
                direction,
            } => (
                property_name.as_str(),
                direction.as_deref() == Some("DESCENDING"),
            ),
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_usize(v: &Value, what: &str) -> Result<usize, HsError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    n.map(|n| n as usize)
        .ok_or_else(|| HsError::validation(format!("{what} must be a non-negative integer")))
}

/// Date values may be epoch milliseconds, RFC 3339 or a plain date.
fn date_millis(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

/// Compares a stored value with a filter value by the property's type.
fn compare(kind: &str, stored: &str, given: &str) -> Option<Ordering> {
    if kind == "datetime" || kind == "date" {
        return Some(date_millis(stored)?.cmp(&date_millis(given)?));
    }
    if let (Ok(a), Ok(b)) = (stored.parse::<f64>(), given.parse::<f64>()) {
        return a.partial_cmp(&b);
    }
    Some(stored.to_lowercase().cmp(&given.to_lowercase()))
}

fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || !s.ends_with(last) || s.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Token match: the whole value or any word of it, `*` as a wildcard.
fn contains_token(stored: &str, token: &str) -> bool {
    let stored = stored.to_lowercase();
    let token = token.to_lowercase();
    glob(&token, &stored)
        || stored
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .any(|w| glob(&token, w))
}

const OPERATORS: [&str; 13] = [
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
];

impl Filter {
    fn validate(&self) -> Result<(), HsError> {
        if !OPERATORS.contains(&self.operator.as_str()) {
            return Err(HsError::validation(format!(
                "Unknown operator {}; expected one of {}",
                self.operator,
                OPERATORS.join(", ")
            )));
        }
        let needs_value = !matches!(
            self.operator.as_str(),
            "HAS_PROPERTY" | "NOT_HAS_PROPERTY" | "IN" | "NOT_IN"
        );
        if needs_value && self.value.is_none() {
            return Err(HsError::validation(format!(
                "Filter on {} with operator {} needs a value",
                self.property_name, self.operator
            )));
        }
        Ok(())
    }

    fn matches(&self, table: &ObjectTable, obj: &HsObject) -> bool {
        let kind = table
            .properties
            .get(&self.property_name)
            .map_or("string", |d| d.kind.as_str());
        let stored = obj
            .properties
            .get(&self.property_name)
            .map(String::as_str)
            .filter(|v| !v.is_empty());
        let value = self.value.as_ref().map(text).unwrap_or_default();
        let cmp = |given: &str| stored.and_then(|s| compare(kind, s, given));
        let eq = |given: &str| cmp(given) == Some(Ordering::Equal);
        let in_values = || self.values.iter().flatten().any(|v| eq(&text(v)));
        match self.operator.as_str() {
            "EQ" => eq(&value),
            "NEQ" => !eq(&value),
            "LT" => cmp(&value) == Some(Ordering::Less),
            "LTE" => matches!(cmp(&value), Some(Ordering::Less | Ordering::Equal)),
            "GT" => cmp(&value) == Some(Ordering::Greater),
            "GTE" => matches!(cmp(&value), Some(Ordering::Greater | Ordering::Equal)),
            "BETWEEN" => {
                let high = self.high_value.as_ref().map(text).unwrap_or_default();
                matches!(cmp(&value), Some(Ordering::Greater | Ordering::Equal))
                    && matches!(cmp(&high), Some(Ordering::Less | Ordering::Equal))
            }
            "IN" => in_values(),
            "NOT_IN" => !in_values(),
            "HAS_PROPERTY" => stored.is_some(),
            "NOT_HAS_PROPERTY" => stored.is_none(),
            "CONTAINS_TOKEN" => stored.is_some_and(|s| contains_token(s, &value)),
            "NOT_CONTAINS_TOKEN" => !stored.is_some_and(|s| contains_token(s, &value)),
            _ => false,
        }
    }
}

fn matches_query(ty: ObjectType, obj: &HsObject, words: &[String]) -> bool {
    words.iter().all(|w| {
        ty.text_search_properties().iter().any(|p| {
            obj.properties
                .get(*p)
                .is_some_and(|v| v.to_lowercase().contains(w.as_str()))
        })
    })
}

pub async fn search(
    ty: ObjectType,
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, HsError> {
    authorize(&shared, &headers, ty.read_scope())?;
    let req: SearchRequest = parse_json(&read_body(&shared, body).await?)?;
    let limit = req
        .limit
        .as_ref()
        .map(|v| as_usize(v, "limit"))
        .transpose()?
        .unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(HsError::validation(format!(
            "limit must be at most {MAX_LIMIT}, got {limit}"
        )));
    }
    let after = req
        .after
        .as_ref()
        .map(|v| as_usize(v, "after"))
        .transpose()?
        .unwrap_or(0);
    if after >= RESULT_CAP {
        return Err(HsError::validation(format!(
            "Search results are limited to {RESULT_CAP}; after={after} pages past that limit"
        )));
    }
    if req.filter_groups.len() > MAX_GROUPS {
        return Err(HsError::validation(format!(
            "At most {MAX_GROUPS} filterGroups are allowed"
        )));
    }
    let total_filters: usize = req.filter_groups.iter().map(|g| g.filters.len()).sum();
    if total_filters > MAX_FILTERS
        || req
            .filter_groups
            .iter()
            .any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
    {
        return Err(HsError::validation(format!(
            "At most {MAX_FILTERS_PER_GROUP} filters per group and {MAX_FILTERS} in total are allowed"
        )));
    }
    for f in req.filter_groups.iter().flat_map(|g| &g.filters) {
        f.validate()?;
    }
    let words: Vec<String> = req
        .query
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let lag = chrono::Duration::from_std(shared.search_lag()).unwrap_or_default();
    let visible_before = Utc::now() - lag;

    let store = shared.store();
    let table = store.hubspot.table(ty);
    let mut hits: Vec<&HsObject> = table
        .objects
        .values()
        // Objects written within the lag are not indexed yet.
        .filter(|o| lag.is_zero() || o.updated_at <= visible_before)
        .filter(|o| {
            req.filter_groups.is_empty()
                || req
                    .filter_groups
                    .iter()
                    .any(|g| g.filters.iter().all(|f| f.matches(table, o)))
        })
        .filter(|o| matches_query(ty, o, &words))
        .collect();
    if !req.sorts.is_empty() {
        hits.sort_by(|a, b| {
            for s in &req.sorts {
                let (name, desc) = s.key();
                let kind = table
                    .properties
                    .get(name)
                    .map_or("string", |d| d.kind.as_str());
                let (va, vb) = (a.properties.get(name), b.properties.get(name));
                let ord = match (va, vb) {
                    (Some(x), Some(y)) => compare(kind, x, y).unwrap_or(Ordering::Equal),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                let ord = if desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            a.id.cmp(&b.id)
        });
    }
    let total = hits.len();
    let results: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|o| o.render(ty, Some(&req.properties)))
        .collect();
    let mut body = json!({ "total": total, "results": results });
    let next = after + limit;
    if next < total {
        body["paging"] = json!({ "next": { "after": next.to_string() } });
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_globs() {
        assert!(contains_token("Ada Lovelace", "lovelace"));
        assert!(contains_token("ada@example.com", "*@example.com"));
        assert!(contains_token("ada@example.com", "example"));
        assert!(!contains_token("ada@example.com", "exam"));
        assert!(contains_token("ada@example.com", "exam*"));
    }

    #[test]
    fn compares_by_type() {
        assert_eq!(
            compare("datetime", "2024-01-02T00:00:00.000Z", "1704153600000"),
            Some(Ordering::Equal)
        );
        assert_eq!(compare("number", "10", "9"), Some(Ordering::Greater));
        assert_eq!(compare("string", "Ada", "ada"), Some(Ordering::Equal));
    }
}
