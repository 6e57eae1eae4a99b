//! HubSpot CRM v3 contacts. Every creation is a `batch/upsert` keyed by a
//! unique custom property holding Outpost's key (default `outpost_key`), so a
//! retry after a lost response updates the same contact instead of creating a
//! second one.

mod auth;
pub(crate) mod listing;
pub(crate) mod mapping;
mod update;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::crm::connector::{
    CallInfo, Capabilities, CrmConnector, DeletedPage, DeletedRecord, Delivery, Outgoing,
    OutgoingUpdate, Page, PullFilter, RateLimit, RecordOutcome, RemoteCustomer, UpdateOutcome,
};
use crate::crm::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};
use crate::crm::field_check::FieldList;
use crate::crm::field_map::FieldMap;
use crate::crm::form::CrmForm;
use crate::crm::http::{body_or_empty, parse_json, Http, Timed};
use crate::customer::{Customer, CustomerId};
pub use auth::{Auth, OAuth};
pub use mapping::DEFAULT_MAP;

/// HubSpot accepts at most 100 inputs per batch call.
pub const MAX_BATCH: usize = 100;
/// Public apps and lower tiers: 100 requests per rolling 10 s.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    requests: 100,
    per: std::time::Duration::from_secs(10),
};
pub const DEFAULT_KEY_PROPERTY: &str = "outpost_key";
/// HubSpot's API host (the settings form's URL placeholder).
pub const API_URL: &str = "https://api.hubapi.com";
const SEARCH_PAGE: usize = 200;

pub struct HubSpot {
    http: Http,
    base: Url,
    auth: Auth,
    key_property: String,
    map: FieldMap,
}

/// HubSpot's error body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiError {
    message: Option<String>,
    category: Option<String>,
    correlation_id: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    message: Option<String>,
    #[serde(default)]
    context: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct BatchResponse {
    results: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
struct Contact {
    id: String,
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    results: Vec<Contact>,
    paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
struct PropertyList {
    results: Vec<mapping::Property>,
}

#[derive(Debug, Deserialize)]
struct Paging {
    next: Option<Next>,
}

#[derive(Debug, Deserialize)]
struct Next {
    after: String,
}

impl HubSpot {
    pub fn new(
        base: Url,
        auth: Auth,
        key_property: Option<String>,
        map: FieldMap,
        http: Http,
    ) -> Self {
        HubSpot {
            map,
            http,
            base,
            auth,
            key_property: key_property.unwrap_or_else(|| DEFAULT_KEY_PROPERTY.into()),
        }
    }

    fn url(&self, path: &str) -> Url {
        crate::crm::http::join(&self.base, path)
    }

    /// Sends with the current bearer token; on a 401 renews an OAuth token
    /// once and tries again.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Timed, ConnectorError> {
        let build = || {
            let mut r = self.http.client().request(method.clone(), url.clone());
            if let Some(b) = body {
                r = r.json(b);
            }
            r
        };
        self.http.send_authorized(&self.auth, build).await
    }

    /// The body of a successful answer; an unsuccessful one is classified.
    async fn body(timed: Timed) -> Result<Vec<u8>, ConnectorError> {
        if !timed.response.status().is_success() {
            return Err(error_for(timed).await.0);
        }
        timed
            .response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| ConnectorError::Protocol(format!("unreadable {RESPONSE}: {e}")))
    }

    /// Upserts `batch`. HubSpot validates a batch as a whole, so when it
    /// refuses one, the batch is split in halves until the refused records
    /// stand alone; the others still arrive.
    async fn upsert(&self, batch: &[Customer]) -> Result<Vec<Delivery>, ConnectorError> {
        let inputs: Vec<Value> = batch
            .iter()
            .map(|c| {
                json!({
                    "idProperty": self.key_property,
                    "id": c.id.to_string(),
                    "properties": mapping::properties(c, &self.map, &self.key_property),
                })
            })
            .collect();
        let url = self.url("crm/v3/objects/contacts/batch/upsert");
        let timed = self
            .send(Method::POST, url, Some(&json!({ "inputs": inputs })))
            .await?;
        let call = call_info(&timed);
        let status = call.status.unwrap_or(0);
        if timed.response.status().is_success() {
            let body = timed.response.bytes().await.map_err(|e| {
                ConnectorError::Protocol(format!("unreadable {BATCH_RESPONSE}: {e}"))
            })?;
            let keys: Vec<String> = batch.iter().map(|c| c.id.to_string()).collect();
            return Ok(batch_outcomes(&body, &keys, &self.key_property)?
                .into_iter()
                .map(|outcome| Delivery {
                    outcome,
                    call: call.clone(),
                })
                .collect());
        }
        if status == 400 || status == 409 {
            let (error, detail) = error_for(timed).await;
            if batch.len() == 1 {
                let reason = detail
                    .map(|d| record_error(&self.map, status, &d))
                    .unwrap_or_else(|| RecordError {
                        message: error.to_string(),
                        field: None,
                    });
                return Ok(vec![Delivery {
                    outcome: RecordOutcome::Rejected(reason),
                    call,
                }]);
            }
            let (left, right) = batch.split_at(batch.len() / 2);
            let mut out = Box::pin(self.upsert(left)).await?;
            out.extend(Box::pin(self.upsert(right)).await?);
            return Ok(out);
        }
        Err(error_for(timed).await.0)
    }

    async fn check_key_property(&self) -> Result<(), ConnectorError> {
        let url = self.url(&format!("crm/v3/properties/contacts/{}", self.key_property));
        let timed = self.send(Method::GET, url, None).await?;
        match timed.response.status().as_u16() {
            200 => match key_property_problem(&body_or_empty(timed.response).await) {
                Some(problem) => Err(missing_property(&self.key_property, problem)),
                None => Ok(()),
            },
            404 => Err(missing_property(&self.key_property, "does not exist")),
            _ => Err(error_for(timed).await.0),
        }
    }

    async fn search_body(&self, body: Value) -> Result<SearchPage, ConnectorError> {
        let timed = self
            .send(
                Method::POST,
                self.url("crm/v3/objects/contacts/search"),
                Some(&body),
            )
            .await?;
        search_page(&Self::body(timed).await?, &self.key_property, &self.map)
    }

    /// Every contact property (`GET /crm/v3/properties/contacts`).
    async fn properties(&self) -> Result<Vec<mapping::Property>, ConnectorError> {
        let timed = self
            .send(Method::GET, self.url("crm/v3/properties/contacts"), None)
            .await?;
        properties(&Self::body(timed).await?)
    }
}

/// What an unparsable successful body is called in the protocol error.
const RESPONSE: &str = "HubSpot response";
const BATCH_RESPONSE: &str = "batch/upsert response";

/// A `batch/upsert` answer, one outcome per key in `keys`' order. Results
/// are not promised in input order: they are matched by the key property.
pub(crate) fn batch_outcomes(
    body: &[u8],
    keys: &[String],
    key_property: &str,
) -> Result<Vec<RecordOutcome>, ConnectorError> {
    let body: BatchResponse = parse_json(body, BATCH_RESPONSE)?;
    Ok(keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let found = body
                .results
                .iter()
                .find(|r| {
                    r.properties.get(key_property).and_then(Value::as_str) == Some(key.as_str())
                })
                .or_else(|| (body.results.len() == keys.len()).then(|| &body.results[i]));
            match found {
                Some(r) => RecordOutcome::Delivered {
                    crm_id: r.id.clone(),
                    version: None,
                },
                None => RecordOutcome::Failed(ConnectorError::Protocol(format!(
                    "no result for {key} in batch/upsert"
                ))),
            }
        })
        .collect())
}

/// One search page: the contacts and the paging's next offset.
pub(crate) struct SearchPage {
    pub items: Vec<RemoteCustomer>,
    pub next_after: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct ArchivedContact {
    id: String,
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
    #[serde(rename = "archivedAt", default)]
    archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct ArchivedList {
    results: Vec<ArchivedContact>,
    #[serde(default)]
    paging: Option<Value>,
}

/// A page of the archived listing, keeping those archived since `since`.
pub(crate) fn archived_page(
    body: &[u8],
    key_property: &str,
    since: Option<DateTime<Utc>>,
) -> Result<DeletedPage, ConnectorError> {
    let list: ArchivedList = parse_json(body, RESPONSE)?;
    let items = list
        .results
        .into_iter()
        .filter_map(|c| {
            let at = c.archived_at?;
            if since.is_some_and(|s| at < s) {
                return None;
            }
            Some(DeletedRecord {
                key: c
                    .properties
                    .get(key_property)
                    .and_then(Value::as_str)
                    .and_then(|k| k.parse().ok()),
                crm_id: c.id,
                deleted_at: at,
            })
        })
        .collect();
    let next = list
        .paging
        .as_ref()
        .and_then(|p| p.pointer("/next/after"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(DeletedPage {
        items,
        next,
        resume: None,
    })
}

pub(crate) fn search_page(
    body: &[u8],
    key_property: &str,
    map: &FieldMap,
) -> Result<SearchPage, ConnectorError> {
    let found: SearchResponse = parse_json(body, RESPONSE)?;
    let next_after = found
        .paging
        .and_then(|p| p.next)
        .map(|n| n.after.parse::<usize>())
        .transpose()
        .map_err(|e| ConnectorError::Protocol(format!("paging.next.after: {e}")))?;
    Ok(SearchPage {
        items: found
            .results
            .into_iter()
            .map(|c| remote(c, key_property, map))
            .collect(),
        next_after,
    })
}

/// One contact (`GET /crm/v3/objects/contacts/{key}`).
pub(crate) fn contact(
    body: &[u8],
    key_property: &str,
    map: &FieldMap,
) -> Result<RemoteCustomer, ConnectorError> {
    parse_json(body, RESPONSE).map(|c| remote(c, key_property, map))
}

pub(crate) fn properties(body: &[u8]) -> Result<Vec<mapping::Property>, ConnectorError> {
    parse_json::<PropertyList>(body, RESPONSE).map(|l| l.results)
}

/// The form and the field list from the contact properties.
pub(crate) fn form_and_fields(
    properties: Vec<mapping::Property>,
    map: &FieldMap,
) -> (CrmForm, FieldList) {
    let fields = mapping::field_list(&properties);
    (mapping::form(properties, map), fields)
}

/// What is wrong with the key property as `GET /crm/v3/properties/contacts/{name}`
/// describes it, if anything (an unreadable answer is given the benefit of the doubt).
pub(crate) fn key_property_problem(body: &[u8]) -> Option<&'static str> {
    let prop: Value = serde_json::from_slice(body).unwrap_or_default();
    (prop.get("hasUniqueValue").and_then(Value::as_bool) == Some(false))
        .then_some("exists but does not require unique values")
}

fn remote(c: Contact, key_property: &str, map: &FieldMap) -> RemoteCustomer {
    mapping::remote(c.id, &c.properties, key_property, map)
}

fn missing_property(name: &str, problem: &str) -> ConnectorError {
    ConnectorError::Queue(QueueProblem::Misconfigured(format!(
        "the HubSpot contact property \"{name}\" {problem}. Create it in HubSpot (Settings → Properties → Contact \
         properties → Create property: field type \"Single-line text\", internal name \"{name}\", and tick \"Require \
         unique values for this property\"), or set the endpoint's key property to an existing unique property."
    )))
}

fn call_info(t: &Timed) -> CallInfo {
    t.call_info(&["x-hubspot-correlation-id", "x-request-id"])
}

/// Classifies an unsuccessful answer; also returns the parsed body.
async fn error_for(timed: Timed) -> (ConnectorError, Option<ApiError>) {
    let status = timed.response.status().as_u16();
    let retry_after = parse_retry_after(timed.response.headers().get(reqwest::header::RETRY_AFTER));
    error_from(status, retry_after, &body_or_empty(timed.response).await)
}

/// [`error_for`] once the body is read.
pub(crate) fn error_from(
    status: u16,
    retry_after: Option<std::time::Duration>,
    body: &[u8],
) -> (ConnectorError, Option<ApiError>) {
    let body: Option<ApiError> = serde_json::from_slice(body).ok();
    let reason = body
        .as_ref()
        .and_then(|b| b.message.clone())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let reason = match body.as_ref().and_then(|b| b.category.as_deref()) {
        Some(cat) => format!("{reason} ({cat})"),
        None => reason,
    };
    let reason = match body.as_ref().and_then(|b| b.correlation_id.as_deref()) {
        Some(id) => format!("{reason} [correlation {id}]"),
        None => reason,
    };
    (classify_status(status, reason, retry_after), body)
}

/// Plain words for a refused record, naming the field when HubSpot does.
pub(crate) fn record_error(map: &FieldMap, status: u16, e: &ApiError) -> RecordError {
    let field = e
        .errors
        .iter()
        .filter_map(|d| d.context.as_ref()?.get("propertyName")?.get(0)?.as_str())
        .map(|p| mapping::outpost_field(map, p))
        .next();
    let detail = e.errors.iter().filter_map(|d| d.message.clone()).next();
    let message = match (status, e.category.as_deref()) {
        (409, _) | (_, Some("CONFLICT")) => format!(
            "HubSpot already has a contact with this email ({}). Open that contact instead, or correct the email.",
            e.message.as_deref().unwrap_or("conflict")
        ),
        _ => detail.or_else(|| e.message.clone()).unwrap_or_else(|| "HubSpot refused the contact".into()),
    };
    RecordError { message, field }
}

#[async_trait]
impl CrmConnector for HubSpot {
    fn kind(&self) -> &'static str {
        "hubspot"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            requests_at_once: 1,
            max_batch: MAX_BATCH,
            upsert_by_external_id: true,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            updates: true,
        }
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        let mut url = self.url("crm/v3/objects/contacts");
        url.query_pairs_mut().append_pair("limit", "1");
        let timed = self.send(Method::GET, url, None).await?;
        if !timed.response.status().is_success() {
            return Err(error_for(timed).await.0);
        }
        self.check_key_property().await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        // An upsert by key is safe to repeat: earlier attempts need no look-up.
        let batch: Vec<Customer> = batch.iter().map(|o| o.customer.clone()).collect();
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(MAX_BATCH) {
            out.extend(self.upsert(chunk).await?);
        }
        Ok(out)
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_contacts(std::slice::from_ref(update))
            .await
            .pop()
            .expect("one outcome per update")
    }

    async fn update_batch(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        let mut out = Vec::with_capacity(updates.len());
        for chunk in updates.chunks(MAX_BATCH) {
            out.extend(self.update_contacts(chunk).await);
        }
        out
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        let mut url = self.url(&format!("crm/v3/objects/contacts/{key}"));
        url.query_pairs_mut()
            .append_pair("idProperty", &self.key_property)
            .append_pair(
                "properties",
                &mapping::read_properties(&self.map, &self.key_property),
            );
        let timed = self.send(Method::GET, url, None).await?;
        if timed.response.status().as_u16() == 404 {
            return Ok(None);
        }
        contact(&Self::body(timed).await?, &self.key_property, &self.map).map(Some)
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let body = json!({
            "query": query,
            "limit": limit.clamp(1, SEARCH_PAGE),
            "properties": mapping::read_property_list(&self.map, &self.key_property),
        });
        Ok(self.search_body(body).await?.items)
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        Ok(Some(form_and_fields(self.properties().await?, &self.map).0))
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(Some(form_and_fields(self.properties().await?, &self.map).1))
    }

    /// HubSpot's archived listing (`GET .../contacts?archived=true`), paged
    /// by `after` in id order. It has no time filter: every pass walks all
    /// archived contacts (HubSpot keeps them 90 days) and keeps those
    /// archived at or after `since`.
    async fn list_deleted_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        let mut url = self.url("crm/v3/objects/contacts");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("archived", "true")
                .append_pair("limit", &MAX_BATCH.to_string())
                .append_pair("properties", &self.key_property);
            if let Some(after) = &cursor {
                q.append_pair("after", after);
            }
        }
        let timed = self.send(Method::GET, url, None).await?;
        archived_page(&Self::body(timed).await?, &self.key_property, since).map(Some)
    }

    async fn list_modified_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        let position = match cursor {
            Some(c) => listing::Position::decode(&c)?,
            None => listing::Position::start(since),
        };
        let body = position.request(
            &mapping::read_property_list(&self.map, &self.key_property),
            filter,
        );
        let SearchPage { items, next_after } = self.search_body(body).await?;
        let next = position.next(&items, next_after)?;
        Ok(Page {
            next: next.map(|p| p.encode()),
            items,
        })
    }
}
