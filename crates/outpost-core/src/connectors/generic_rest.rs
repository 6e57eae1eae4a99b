//! Outpost's own REST contract for in-house CRMs and middleware
//! (docs/crm-rest-api.md): `PUT /customers/{key}` is an idempotent
//! create-or-update keyed by Outpost's key, so every retry is safe.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use super::client_credentials::ClientCredentials;
use super::http::{Http, Timed};
use crate::customer::{Customer, CustomerId};
use crate::form::{CrmForm, FieldKind, FieldOption, FormField, CUSTOMER_FIELDS};
use crate::sensitive::Sensitive;
use crate::sync::connector::Outgoing;
use crate::sync::connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Page, PullFilter, RateLimit, RecordOutcome,
    RemoteCustomer,
};
use crate::sync::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};

/// Records per flush round; each is its own PUT, a few in flight at once.
const MAX_BATCH: usize = 50;
const IN_FLIGHT: usize = 4;
const PAGE_SIZE: usize = 200;

pub struct GenericRest {
    http: Http,
    base: Url,
    auth: Auth,
}

/// How requests are authenticated: a static API token, or tokens bought
/// with OAuth client credentials.
pub enum Auth {
    Token(Sensitive<String>),
    ClientCredentials(Box<ClientCredentials>),
}

impl Auth {
    async fn bearer(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError> {
        match self {
            Auth::Token(t) => Ok(t.clone()),
            Auth::ClientCredentials(c) => c.bearer(http).await,
        }
    }
}

/// The contract's error body: `{code, message, field?}`.
#[derive(Debug, Deserialize)]
struct ApiError {
    code: Option<String>,
    message: Option<String>,
    field: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    key: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    country: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl From<Record> for RemoteCustomer {
    fn from(r: Record) -> Self {
        RemoteCustomer {
            key: r.key.as_deref().and_then(|k| k.parse().ok()),
            crm_id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            company: r.company,
            email: r.email,
            phone: r.phone,
            city: r.city,
            country: r.country,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct List {
    items: Vec<Record>,
    next_cursor: Option<String>,
}

impl GenericRest {
    pub fn new(base: Url, token: Sensitive<String>, http: Http) -> Self {
        Self::with_auth(base, Auth::Token(token), http)
    }

    pub fn with_auth(base: Url, auth: Auth, http: Http) -> Self {
        GenericRest { http, base, auth }
    }

    pub fn default_rate_limit() -> Option<RateLimit> {
        None
    }

    fn url(&self, path: &str) -> Url {
        super::http::join(&self.base, path)
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http.client().request(method, url)
    }

    /// Sends with the current bearer token. A 401 to a bought token buys a
    /// new one and sends once more; a static token's 401 stands.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Timed, ConnectorError> {
        let token = self.auth.bearer(&self.http).await?;
        let timed = self.http.send(build().bearer_auth(token.expose())).await?;
        match &self.auth {
            Auth::ClientCredentials(c) if timed.response.status() == StatusCode::UNAUTHORIZED => {
                let token = c.renew(&self.http, &token).await?;
                self.http.send(build().bearer_auth(token.expose())).await
            }
            _ => Ok(timed),
        }
    }

    async fn upsert_one(&self, c: &Customer) -> Delivery {
        let url = self.url(&format!("customers/{}", c.id));
        let request = || {
            self.request(Method::PUT, url.clone())
                // Same key and body on every retry of this version of the customer.
                .header(
                    "Idempotency-Key",
                    format!("{}-{}", c.id, c.updated_at.timestamp_millis()),
                )
                .json(&body(c))
        };
        match self.send(request).await {
            Err(e) => Delivery {
                outcome: RecordOutcome::Failed(e),
                call: CallInfo::default(),
            },
            Ok(timed) => {
                let call = call_info(&timed);
                let outcome = upsert_outcome(timed.response).await;
                Delivery { outcome, call }
            }
        }
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        url: Url,
    ) -> Result<Option<T>, ConnectorError> {
        let timed = self.send(|| self.request(Method::GET, url.clone())).await?;
        let status = timed.response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(error_for(timed.response).await);
        }
        timed
            .response
            .json()
            .await
            .map(Some)
            .map_err(|e| ConnectorError::Protocol(format!("unreadable response: {e}")))
    }
}

/// The customer fields the contract accepts; absent fields are left out.
fn body(c: &Customer) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("first_name", &c.first_name),
        ("last_name", &c.last_name),
        ("company", &c.company),
        ("email", &c.email),
        ("phone", &c.phone),
        ("street", &c.street),
        ("city", &c.city),
        ("postal_code", &c.postal_code),
        ("country", &c.country),
        ("tax_id", &c.tax_id),
        ("notes", &c.notes),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    // CRM-specific fields from the form metadata, under their own names.
    for (k, v) in &c.attributes {
        m.entry(k.clone()).or_insert_with(|| json!(v));
    }
    Value::Object(m)
}

/// `GET /metadata` (see docs/crm-rest-api.md).
#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    required_one_of: Vec<String>,
    #[serde(default)]
    picklists: std::collections::BTreeMap<String, Vec<MetadataOption>>,
}

#[derive(Debug, Deserialize)]
struct MetadataOption {
    value: String,
    label: String,
}

impl From<Metadata> for CrmForm {
    fn from(m: Metadata) -> Self {
        let fields = m
            .picklists
            .into_iter()
            .map(|(name, options)| FormField {
                label: label_for(&name),
                kind: FieldKind::Picklist,
                required: false,
                attribute: !CUSTOMER_FIELDS.contains(&name.as_str()),
                options: options
                    .into_iter()
                    .map(|o| FieldOption {
                        value: o.value,
                        label: o.label,
                    })
                    .collect(),
                name,
            })
            .collect();
        CrmForm {
            required_one_of: m.required_one_of,
            fields,
        }
    }
}

/// "lead_source" → "Lead source".
fn label_for(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn call_info(t: &Timed) -> CallInfo {
    CallInfo {
        status: Some(t.response.status().as_u16()),
        duration: t.elapsed,
        request_id: t
            .response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

async fn upsert_outcome(response: reqwest::Response) -> RecordOutcome {
    let status = response.status().as_u16();
    match status {
        200 | 201 => match response.json::<Record>().await {
            Ok(r) => RecordOutcome::Delivered { crm_id: r.id },
            Err(e) => RecordOutcome::Failed(ConnectorError::Protocol(format!(
                "unreadable upsert response: {e}"
            ))),
        },
        // The CRM judged this record: a person must look at it.
        400 | 409 | 422 => {
            let err: ApiError = response.json().await.unwrap_or(ApiError {
                code: None,
                message: None,
                field: None,
            });
            let message = err
                .message
                .unwrap_or_else(|| format!("the CRM refused the customer (HTTP {status})"));
            RecordOutcome::Rejected(RecordError {
                message: match err.code {
                    Some(code) => format!("{message} ({code})"),
                    None => message,
                },
                field: err.field,
            })
        }
        _ => RecordOutcome::Failed(error_for(response).await),
    }
}

async fn error_for(response: reqwest::Response) -> ConnectorError {
    let status = response.status().as_u16();
    let retry_after = parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER));
    let reason = match response.json::<ApiError>().await {
        Ok(ApiError {
            message: Some(m), ..
        }) => m,
        _ => format!("HTTP {status}"),
    };
    classify_status(status, reason, retry_after)
}

#[async_trait]
impl CrmConnector for GenericRest {
    fn kind(&self) -> &'static str {
        "generic-rest"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: MAX_BATCH,
            upsert_by_external_id: true,
            rate_limit: Self::default_rate_limit(),
        }
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        // An authenticated, cheap read: proves reachability and credentials.
        let mut url = self.url("customers");
        url.query_pairs_mut().append_pair("limit", "1");
        self.get_json::<List>(url)
            .await?
            .map(|_| ())
            .ok_or_else(|| {
                ConnectorError::Queue(QueueProblem::Misconfigured(
                    "GET /customers is not found: is the base URL right?".into(),
                ))
            })
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        let mut results: Vec<Option<Delivery>> = vec![None; batch.len()];
        for (chunk_no, chunk) in batch.chunks(IN_FLIGHT).enumerate() {
            let done = join_all(chunk.iter().map(|o| self.upsert_one(&o.customer))).await;
            for (i, d) in done.into_iter().enumerate() {
                results[chunk_no * IN_FLIGHT + i] = Some(d);
            }
        }
        Ok(results
            .into_iter()
            .map(|d| d.expect("every record has an outcome"))
            .collect())
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        Ok(self
            .get_json::<Record>(self.url(&format!("customers/{key}")))
            .await?
            .map(RemoteCustomer::from))
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let mut url = self.url("customers");
        url.query_pairs_mut()
            .append_pair("q", query)
            .append_pair("limit", &limit.min(PAGE_SIZE).to_string());
        let list = self
            .get_json::<List>(url)
            .await?
            .map(|l| l.items)
            .unwrap_or_default();
        Ok(list.into_iter().map(RemoteCustomer::from).collect())
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        Ok(self
            .get_json::<Metadata>(self.url("metadata"))
            .await?
            .map(CrmForm::from))
    }

    async fn list_modified_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        let mut url = self.url("customers");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair(
                "modified_since",
                &since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH).to_rfc3339(),
            );
            q.append_pair("limit", &PAGE_SIZE.to_string());
            if let Some(c) = &cursor {
                q.append_pair("cursor", c);
            }
            if let Some(country) = &filter.country {
                q.append_pair("country", country);
            }
        }
        let list = self.get_json::<List>(url).await?.unwrap_or(List {
            items: vec![],
            next_cursor: None,
        });
        Ok(Page {
            items: list.items.into_iter().map(RemoteCustomer::from).collect(),
            next: list.next_cursor,
        })
    }
}
