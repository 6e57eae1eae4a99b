//! `GET /query?q=` and `/queryAll?q=` (queryAll also sees the recycle bin),
//! paged by `nextRecordsUrl` cursors that expire after 15 minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use super::error::SfError;
use super::model::FieldDef;
use super::soql;
use super::{authorize, Locator};
use crate::state::Shared;

pub const DEFAULT_BATCH: usize = 2000;
pub const MIN_BATCH: usize = 200;
pub const LOCATOR_TTL: Duration = Duration::from_secs(15 * 60);
/// Open cursors kept; older ones are dropped first.
const MAX_LOCATORS: usize = 64;

/// `Sforce-Query-Options: batchSize=N`, clamped to 200..=2000.
fn batch_size(h: &HeaderMap) -> usize {
    h.get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|p| {
                let (k, n) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| n.trim().parse::<usize>().ok())?
            })
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

/// Runs a query: every matching record, rendered with the selected fields.
pub fn run(shared: &Shared, q: &str, all: bool, version: &str) -> Result<Vec<Value>, SfError> {
    let parsed = soql::parse(q, Utc::now())?;
    let store = shared.store();
    let data = &store.salesforce;
    let (o, q) = parsed.bind(&data.defs)?;
    let def = data.def(o);
    let mut hits: Vec<_> = data
        .records()
        .filter(|r| r.object == o && (all || r.deleted.is_none()))
        .filter(|r| q.filter.as_ref().is_none_or(|e| soql::eval(e, def, r)))
        .collect();
    hits.sort_by(|a, b| soql::compare(&q.order, def, a, b));
    if let Some(n) = q.limit {
        hits.truncate(n);
    }
    let fields: Vec<&FieldDef> = q
        .fields
        .iter()
        .map(|n| def.field(n).expect("bound"))
        .collect();
    Ok(hits
        .into_iter()
        .map(|r| r.render(def, Some(&fields), version))
        .collect())
}

fn page(shared: &Shared, version: &str, id: &str, loc: &Locator, offset: usize) -> Value {
    let total = loc.records.len();
    let end = (offset + loc.batch).min(total);
    let records: Vec<Value> = loc.records[offset.min(total)..end].to_vec();
    let mut out = json!({"totalSize": total, "done": end >= total, "records": records});
    if end < total {
        let kind = if loc.all { "queryAll" } else { "query" };
        out["nextRecordsUrl"] = json!(format!("/services/data/{version}/{kind}/{id}-{end}"));
    }
    let _ = shared;
    out
}

pub async fn query(
    shared: Arc<Shared>,
    version: String,
    params: Vec<(String, String)>,
    h: HeaderMap,
    all: bool,
) -> Response {
    let go = || {
        authorize(&shared, &h)?;
        let q = params
            .iter()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| SfError::malformed("missing query parameter q"))?;
        let records = run(&shared, q, all, &version)?;
        let loc = Locator {
            records,
            created: Instant::now(),
            batch: batch_size(&h),
            all,
        };
        let mut rt = shared.salesforce();
        rt.next_locator += 1;
        let id = format!("01g{:012}", rt.next_locator);
        let out = page(&shared, &version, &id, &loc, 0);
        if out.get("nextRecordsUrl").is_some() {
            if rt.locators.len() >= MAX_LOCATORS {
                if let Some(oldest) = rt
                    .locators
                    .iter()
                    .min_by_key(|(_, l)| l.created)
                    .map(|(k, _)| k.clone())
                {
                    rt.locators.remove(&oldest);
                }
            }
            rt.locators.insert(id, loc);
        }
        Ok::<_, SfError>(Json(out))
    };
    go().into_response()
}

fn invalid_locator() -> SfError {
    SfError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
}

pub async fn more(
    shared: Arc<Shared>,
    (version, locator): (String, String),
    h: HeaderMap,
) -> Response {
    let go = || {
        authorize(&shared, &h)?;
        let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
        let offset: usize = offset.parse().map_err(|_| invalid_locator())?;
        let mut rt = shared.salesforce();
        let expired = rt
            .locators
            .get(id)
            .is_none_or(|l| l.created.elapsed() > LOCATOR_TTL || offset > l.records.len());
        if expired {
            rt.locators.remove(id);
            return Err(invalid_locator());
        }
        let loc = &rt.locators[id];
        Ok(Json(page(&shared, &version, id, loc, offset)))
    };
    go().into_response()
}

/// Makes every open cursor older than its lifetime (tests of `INVALID_QUERY_LOCATOR`).
pub fn expire_locators(shared: &Shared) -> usize {
    let mut rt = shared.salesforce();
    let n = rt.locators.len();
    rt.locators.clear();
    n
}
