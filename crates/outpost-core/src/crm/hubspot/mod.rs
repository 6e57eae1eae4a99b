//! HubSpot CRM v3 contacts. Every creation is a `batch/upsert` keyed by a
//! unique custom property holding Outpost's key (default `outpost_key`), so a
//! retry after a lost response updates the same contact instead of creating a
//! second one.

mod auth;
mod listing;
mod mapping;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::crm::connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Outgoing, Page, PullFilter, RateLimit,
    RecordOutcome, RemoteCustomer,
};
use crate::crm::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};
use crate::crm::field_check::FieldList;
use crate::crm::field_map::FieldMap;
use crate::crm::form::CrmForm;
use crate::crm::http::{Http, Timed};
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
struct ApiError {
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

    async fn json<T: for<'de> Deserialize<'de>>(timed: Timed) -> Result<T, ConnectorError> {
        if !timed.response.status().is_success() {
            return Err(error_for(timed).await.0);
        }
        timed
            .response
            .json()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable HubSpot response: {e}")))
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
            let body: BatchResponse = timed.response.json().await.map_err(|e| {
                ConnectorError::Protocol(format!("unreadable batch/upsert response: {e}"))
            })?;
            return Ok(self.match_results(batch, body, call));
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

    /// Results are not promised in input order: match them by the key property.
    fn match_results(
        &self,
        batch: &[Customer],
        body: BatchResponse,
        call: CallInfo,
    ) -> Vec<Delivery> {
        batch
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let key = c.id.to_string();
                let found = body
                    .results
                    .iter()
                    .find(|r| {
                        r.properties.get(&self.key_property).and_then(Value::as_str)
                            == Some(key.as_str())
                    })
                    .or_else(|| (body.results.len() == batch.len()).then(|| &body.results[i]));
                let outcome = match found {
                    Some(r) => RecordOutcome::Delivered {
                        crm_id: r.id.clone(),
                    },
                    None => RecordOutcome::Failed(ConnectorError::Protocol(format!(
                        "no result for {key} in batch/upsert"
                    ))),
                };
                Delivery {
                    outcome,
                    call: call.clone(),
                }
            })
            .collect()
    }

    async fn check_key_property(&self) -> Result<(), ConnectorError> {
        let url = self.url(&format!("crm/v3/properties/contacts/{}", self.key_property));
        let timed = self.send(Method::GET, url, None).await?;
        match timed.response.status().as_u16() {
            200 => {
                let prop: Value = timed.response.json().await.unwrap_or_default();
                if prop.get("hasUniqueValue").and_then(Value::as_bool) == Some(false) {
                    return Err(missing_property(
                        &self.key_property,
                        "exists but does not require unique values",
                    ));
                }
                Ok(())
            }
            404 => Err(missing_property(&self.key_property, "does not exist")),
            _ => Err(error_for(timed).await.0),
        }
    }

    async fn search_body(&self, body: Value) -> Result<SearchResponse, ConnectorError> {
        let timed = self
            .send(
                Method::POST,
                self.url("crm/v3/objects/contacts/search"),
                Some(&body),
            )
            .await?;
        Self::json(timed).await
    }

    /// Every contact property (`GET /crm/v3/properties/contacts`).
    async fn properties(&self) -> Result<Vec<mapping::Property>, ConnectorError> {
        let timed = self
            .send(Method::GET, self.url("crm/v3/properties/contacts"), None)
            .await?;
        let list: PropertyList = Self::json(timed).await?;
        Ok(list.results)
    }

    fn remote(&self, c: Contact) -> RemoteCustomer {
        mapping::remote(c.id, &c.properties, &self.key_property, &self.map)
    }
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
    let body: Option<ApiError> = timed.response.json().await.ok();
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
fn record_error(map: &FieldMap, status: u16, e: &ApiError) -> RecordError {
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
            max_batch: MAX_BATCH,
            upsert_by_external_id: true,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
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
        Ok(Some(self.remote(Self::json::<Contact>(timed).await?)))
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
        let found = self.search_body(body).await?;
        Ok(found.results.into_iter().map(|c| self.remote(c)).collect())
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        Ok(Some(mapping::form(self.properties().await?, &self.map)))
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(Some(mapping::field_list(&self.properties().await?)))
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
        let found = self.search_body(body).await?;
        let next_after = found
            .paging
            .and_then(|p| p.next)
            .map(|n| n.after.parse::<usize>())
            .transpose()
            .map_err(|e| ConnectorError::Protocol(format!("paging.next.after: {e}")))?;
        let items: Vec<RemoteCustomer> =
            found.results.into_iter().map(|c| self.remote(c)).collect();
        let next = position.next(&items, next_after)?;
        Ok(Page {
            next: next.map(|p| p.encode()),
            items,
        })
    }
}
