//! `GET contacts` with `$select`, the strict `$filter`, `$orderby`, `$top`,
//! `$count`; pages of `Prefer: odata.maxpagesize` (≤ 5,000) linked by
//! `@odata.nextLink` with an opaque `$skiptoken` (the last row's sort key,
//! like Dataverse's paging cookie); change tracking (`Prefer:
//! odata.track-changes` → `@odata.deltaLink`, `$deltatoken` →
//! changed rows plus `$deletedEntity` entries).

use std::cmp::Ordering;

use axum::http::StatusCode;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{code, DvError};
use super::filter::{self, Filter};
use super::model::{self, Contact};
use super::records::select;
use super::reply::Reply;
use super::{api_base, pct_encode, Call};
use crate::state::Shared;
use crate::store::Store;

/// Dataverse's largest page.
pub const MAX_PAGE: u32 = 5000;
const OPTIONS: [&str; 7] = [
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$skiptoken",
    "$deltatoken",
    "$count",
];

/// One `$orderby` item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Order {
    column: &'static str,
    desc: bool,
}

/// What `$skiptoken` carries: the last row's sort key, and the row version
/// the first page saw (for the delta link of the last page).
#[derive(Debug, Serialize, Deserialize)]
struct Cookie {
    k: Vec<Part>,
    v: u64,
}

fn orderby(call: &Call) -> Result<Vec<Order>, DvError> {
    let mut out = Vec::new();
    if let Some(s) = call.param("$orderby") {
        for item in s.split(',') {
            let mut words = item.split_whitespace();
            let name = words
                .next()
                .ok_or_else(|| DvError::syntax("empty $orderby item"))?;
            let col = model::column(name).ok_or_else(|| DvError::unknown_property(name))?;
            let desc = match words.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(w) => return Err(DvError::syntax(format!("unexpected '{w}' in $orderby"))),
            };
            if words.next().is_some() {
                return Err(DvError::syntax("unexpected text in $orderby"));
            }
            out.push(Order {
                column: col.name,
                desc,
            });
        }
    }
    // The primary id breaks ties so pages never skip or repeat a row.
    if !out.iter().any(|o| o.column == "contactid") {
        out.push(Order {
            column: "contactid",
            desc: false,
        });
    }
    Ok(out)
}

/// One column's value as a sort key: nulls first, then numbers (datetimes
/// as Unix seconds), then text compared case-insensitively (the original as
/// the tie-breaker), computed once per row rather than per comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Part {
    Null,
    Num(i64),
    Text(String, String),
}

impl Part {
    fn of(c: &Contact, column: &str) -> Part {
        match column {
            "createdon" => Part::Num(c.created.timestamp()),
            "modifiedon" => Part::Num(c.modified.timestamp()),
            "versionnumber" => Part::Num(c.version as i64),
            "contactid" => Part::Text(c.id.clone(), c.id.clone()),
            other => match c.values.get(other) {
                Some(Value::String(s)) => Part::Text(s.to_lowercase(), s.clone()),
                Some(Value::Number(n)) => Part::Num(n.as_i64().unwrap_or(0)),
                _ => Part::Null,
            },
        }
    }

    fn cmp(&self, other: &Part) -> Ordering {
        let rank = |p: &Part| match p {
            Part::Null => 0,
            Part::Num(_) => 1,
            Part::Text(..) => 2,
        };
        match (self, other) {
            (Part::Num(a), Part::Num(b)) => a.cmp(b),
            (Part::Text(a, x), Part::Text(b, y)) => a.cmp(b).then_with(|| x.cmp(y)),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

fn cmp_keys(order: &[Order], a: &[Part], b: &[Part]) -> Ordering {
    for (i, o) in order.iter().enumerate() {
        let (x, y) = (
            a.get(i).unwrap_or(&Part::Null),
            b.get(i).unwrap_or(&Part::Null),
        );
        let c = x.cmp(y);
        let c = if o.desc { c.reverse() } else { c };
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

fn sort_key(order: &[Order], c: &Contact) -> Vec<Part> {
    order.iter().map(|o| Part::of(c, o.column)).collect()
}

fn encode_cookie(c: &Cookie) -> String {
    let json = serde_json::to_vec(c).expect("cookie serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cookie(s: &str) -> Result<Cookie, DvError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| DvError::bad_request(code::BAD_ARGUMENT, "The $skiptoken is not valid."))
}

fn collection_context(shared: &Shared, call: &Call, sel: Option<&[String]>, delta: bool) -> String {
    let cols = sel
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    let tail = if delta { "/$delta" } else { "" };
    format!(
        "{}/$metadata#contacts{cols}{tail}",
        api_base(shared, &call.version)
    )
}

/// The same query with other paging options.
fn link(shared: &Shared, call: &Call, extra: (&str, String)) -> String {
    let mut parts: Vec<String> = call
        .query
        .iter()
        .filter(|(k, _)| k != "$skiptoken" && k != "$deltatoken")
        .filter(|(k, _)| extra.0 != "$deltatoken" || k == "$select")
        .map(|(k, v)| format!("{k}={}", pct_encode(v)))
        .collect();
    parts.push(format!("{}={}", extra.0, pct_encode(&extra.1)));
    format!(
        "{}/contacts?{}",
        api_base(shared, &call.version),
        parts.join("&")
    )
}

fn delta_token(version: u64) -> String {
    format!(
        "{version}!{}",
        chrono::Utc::now().format("%m/%d/%Y %H:%M:%S")
    )
}

fn tracking_off() -> DvError {
    DvError::bad_request(
        code::NO_CHANGE_TRACKING,
        "Change tracking is not enabled for the entity 'contact'. Change tracking is not enabled.",
    )
}

pub fn list(shared: &Shared, store: &mut Store, call: &Call) -> Result<Reply, DvError> {
    for (k, _) in &call.query {
        if k.starts_with('$') && !OPTIONS.contains(&k.as_str()) {
            return Err(DvError::syntax(format!(
                "the query option '{k}' is not supported"
            )));
        }
    }
    let sel = select(call)?;
    let prefer = call.prefer();
    let tracking = shared.dynamics().change_tracking;
    if let Some(token) = call.param("$deltatoken") {
        if !tracking {
            return Err(tracking_off());
        }
        return delta(shared, store, call, token, sel.as_deref());
    }
    if prefer.track_changes && !tracking {
        return Err(tracking_off());
    }
    let filter: Option<Filter> = call.param("$filter").map(filter::parse).transpose()?;
    let order = orderby(call)?;
    let top: Option<usize> = match call.param("$top") {
        None => None,
        Some(t) => Some(
            t.parse()
                .map_err(|_| DvError::syntax("$top takes a number"))?,
        ),
    };
    let count = match call.param("$count") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(DvError::syntax("$count takes true or false")),
    };
    let page = prefer.max_page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE) as usize;
    let cookie = call.param("$skiptoken").map(decode_cookie).transpose()?;
    let snapshot = cookie.as_ref().map_or(store.dynamics.version, |c| c.v);

    let matched = store
        .dynamics
        .contacts
        .values()
        .filter(|c| filter.as_ref().is_none_or(|f| f.matches(c)));
    let mut total = 0;
    // Only rows after the cookie, and of those only the page (plus one, to
    // know whether there is more) gets sorted: each page costs O(n).
    let mut rows: Vec<(Vec<Part>, &Contact)> = matched
        .inspect(|_| total += 1)
        .map(|c| (sort_key(&order, c), c))
        .filter(|(k, _)| {
            cookie
                .as_ref()
                .is_none_or(|ck| cmp_keys(&order, k, &ck.k) == Ordering::Greater)
        })
        .collect();
    let take = top.map_or(page, |t| t.min(page));
    if rows.len() > take + 1 {
        rows.select_nth_unstable_by(take, |a, b| cmp_keys(&order, &a.0, &b.0));
        rows.truncate(take + 1);
    }
    rows.sort_by(|a, b| cmp_keys(&order, &a.0, &b.0));
    let slice = &rows[..];
    let more = top.is_none() && slice.len() > take;
    let shown: Vec<Value> = slice
        .iter()
        .take(take)
        .map(|(_, c)| c.render(sel.as_deref()))
        .collect();
    let mut body = json!({
        "@odata.context": collection_context(shared, call, sel.as_deref(), false),
    });
    if count {
        body["@odata.count"] = json!(total);
    }
    body["value"] = Value::Array(shown);
    if more {
        let last = &slice[take - 1].0;
        let token = encode_cookie(&Cookie {
            k: last.clone(),
            v: snapshot,
        });
        body["@odata.nextLink"] = json!(link(shared, call, ("$skiptoken", token)));
    } else if prefer.track_changes {
        body["@odata.deltaLink"] =
            json!(link(shared, call, ("$deltatoken", delta_token(snapshot))));
    }
    let mut applied = Vec::new();
    if let Some(n) = prefer.max_page_size {
        applied.push(format!("odata.maxpagesize={}", n.clamp(1, MAX_PAGE)));
    }
    if prefer.track_changes {
        applied.push("odata.track-changes".to_string());
    }
    let mut reply = Reply::json(StatusCode::OK, body);
    if !applied.is_empty() {
        reply = reply.header("preference-applied", applied.join(","));
    }
    Ok(reply)
}

/// Rows created or changed after the token's version, then the rows
/// deleted since, then a new delta link. Not paged.
fn delta(
    shared: &Shared,
    store: &Store,
    call: &Call,
    token: &str,
    sel: Option<&[String]>,
) -> Result<Reply, DvError> {
    let since: u64 = token
        .split('!')
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| DvError::bad_request(code::BAD_ARGUMENT, "The $deltatoken is not valid."))?;
    let data = &store.dynamics;
    let mut changed: Vec<&Contact> = data
        .contacts
        .values()
        .filter(|c| c.version > since)
        .collect();
    changed.sort_by_key(|c| c.version);
    let mut value: Vec<Value> = changed.iter().map(|c| c.render(sel)).collect();
    let deleted_context = format!(
        "{}/$metadata#contacts/$deletedEntity",
        api_base(shared, &call.version)
    );
    for (v, id) in &data.tombstones {
        if *v > since && !data.contacts.contains_key(id) {
            value.push(json!({"@odata.context": deleted_context, "id": id, "reason": "deleted"}));
        }
    }
    let body = json!({
        "@odata.context": collection_context(shared, call, sel, true),
        "value": value,
        "@odata.deltaLink": link(shared, call, ("$deltatoken", delta_token(data.version))),
    });
    Ok(Reply::json(StatusCode::OK, body).header("preference-applied", "odata.track-changes"))
}
