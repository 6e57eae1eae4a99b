//! Outpost's own REST contract for in-house CRMs and middleware
//! (docs/crm-rest-api.md): `PUT /customers/{key}` is an idempotent
//! create-or-update keyed by Outpost's key, so every retry is safe.

pub mod client_credentials;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::crm::auth::TokenSource;
use crate::crm::connector::{
    CallInfo, Capabilities, CrmConnector, DeletedPage, DeletedRecord, Delivery, Page, PullFilter,
    RateLimit, RecordOutcome, RemoteCustomer,
};
use crate::crm::connector::{FieldConflict, Outgoing, OutgoingUpdate, UpdateOutcome};
use crate::crm::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};
use crate::crm::field_check::{label_for, CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::crm::form::{CrmForm, FieldKind, FieldOption, FormField};
use crate::crm::http::{body_or_empty, concurrently, parse_json, Http, Timed};
use crate::crm::update_merge;
use crate::customer::Field;
use crate::customer::{Customer, CustomerId};
use crate::endpoint::EndpointSettings;
use crate::keys::{KeyGenerator, ShopKeys};
use crate::sensitive::Sensitive;
use client_credentials::ClientCredentials;

/// Records per flush round; each is its own PUT, a few in flight at once.
pub const MAX_BATCH: usize = 50;
const IN_FLIGHT: usize = 4;
const PAGE_SIZE: usize = 200;

pub struct GenericRest {
    http: Http,
    base: Url,
    auth: Auth,
    map: FieldMap,
    keys: Option<Arc<dyn KeyGenerator>>,
}

/// How requests are authenticated: a static API token, or tokens bought
/// with OAuth client credentials.
pub enum Auth {
    Token(Sensitive<String>),
    ClientCredentials(Box<ClientCredentials>),
}

#[async_trait]
impl TokenSource for Auth {
    async fn bearer(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError> {
        match self {
            Auth::Token(t) => Ok(t.clone()),
            Auth::ClientCredentials(c) => c.bearer(http).await,
        }
    }

    /// A bought token is bought again; a static token's 401 stands.
    async fn renew(
        &self,
        http: &Http,
        rejected: &Sensitive<String>,
    ) -> Option<Result<Sensitive<String>, ConnectorError>> {
        match self {
            Auth::Token(_) => None,
            Auth::ClientCredentials(c) => Some(c.renew(http, rejected).await),
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

/// A customer as the contract returns it: `id`, `key`, `updated_at` and
/// the fields under the map's names.
#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    key: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    /// The record's version (a number or a string), for `If-Match`.
    #[serde(default)]
    version: Option<Value>,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

impl Record {
    /// The version as text, exactly as the CRM wrote it.
    fn version_text(&self) -> Option<String> {
        match self.version.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn into_remote(self, map: &FieldMap) -> RemoteCustomer {
        let (fields, received) = map.incoming_json(&self.fields);
        let version = self.version_text();
        RemoteCustomer {
            key: self.key.as_deref().and_then(|k| k.parse().ok()),
            crm_id: self.id,
            fields,
            received,
            version,
            updated_at: self.updated_at,
        }
    }
}

/// The contract's field names are Outpost's own.
pub const DEFAULT_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "first_name", Conversion::Text),
    MapEntry::both(Field::LastName, "last_name", Conversion::Text),
    MapEntry::both(Field::Company, "company", Conversion::Text),
    MapEntry::both(Field::Email, "email", Conversion::Email),
    MapEntry::both(Field::Phone, "phone", Conversion::PhoneAsTyped),
    MapEntry::send(Field::Street, "street", Conversion::Text),
    MapEntry::both(Field::City, "city", Conversion::Text),
    MapEntry::send(Field::PostalCode, "postal_code", Conversion::Text),
    MapEntry::both(Field::Country, "country", Conversion::CountryCode),
    MapEntry::send(Field::TaxId, "tax_id", Conversion::Text),
    MapEntry::send(Field::Notes, "notes", Conversion::Text),
];

/// The keys an endpoint's settings ask for: with a shop number, UUIDv8 keys
/// carrying it (docs/crm-rest-api.md, "Keys"); else none of its own.
pub fn key_generator(settings: &EndpointSettings) -> Option<Arc<dyn KeyGenerator>> {
    let shop: Arc<dyn KeyGenerator> = ShopKeys::for_shop(settings.key_shop?)?;
    Some(shop)
}

#[derive(Debug, Deserialize)]
struct List {
    items: Vec<Record>,
    next_cursor: Option<String>,
}

impl GenericRest {
    pub fn new(base: Url, auth: Auth, map: FieldMap, http: Http) -> Self {
        GenericRest {
            http,
            base,
            auth,
            map,
            keys: None,
        }
    }

    /// Keys for the customers created while this endpoint is the primary
    /// (see [`key_generator`]).
    pub fn with_keys(mut self, keys: Option<Arc<dyn KeyGenerator>>) -> Self {
        self.keys = keys;
        self
    }

    pub fn default_rate_limit() -> Option<RateLimit> {
        None
    }

    fn url(&self, path: &str) -> Url {
        crate::crm::http::join(&self.base, path)
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http.client().request(method, url)
    }

    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Timed, ConnectorError> {
        self.http.send_authorized(&self.auth, build).await
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
                .json(&body(c, &self.map))
        };
        match self.send(request).await {
            Err(e) => Delivery {
                outcome: RecordOutcome::Failed(e),
                call: CallInfo::default(),
            },
            Ok(timed) => {
                let call = call_info(&timed);
                let status = timed.response.status().as_u16();
                let retry_after = retry_after(&timed.response);
                let outcome = match timed.response.bytes().await {
                    Ok(body) => upsert_outcome(status, retry_after, &body, &self.map),
                    Err(e) if is_created(status) => RecordOutcome::Failed(
                        ConnectorError::Protocol(format!("unreadable upsert response: {e}")),
                    ),
                    // An error answer's body only adds detail.
                    Err(_) => upsert_outcome(status, retry_after, &[], &self.map),
                };
                Delivery { outcome, call }
            }
        }
    }

    /// `PATCH /customers/{key}` with `If-Match`, re-reading and merging on
    /// 412 (docs/crm-rest-api.md, "Updates").
    async fn update_one(&self, u: &OutgoingUpdate) -> UpdateOutcome {
        let key = u.customer.id;
        let url = self.url(&format!("customers/{key}"));
        let mut version = u.change.base_version.clone();
        // The CRM's record when known: until then ours is sent as is, the
        // precondition saying whether the bases still hold.
        let mut current: Option<Record> = None;
        for _ in 0..PRECONDITION_TRIES {
            if version.is_none() {
                match self.get_body(url.clone()).await {
                    Err(e) => return UpdateOutcome::Failed(e),
                    Ok(None) => return not_in_crm(),
                    Ok(Some(body)) => match parse_json::<Record>(&body, RESPONSE) {
                        Ok(r) => {
                            version = r.version_text();
                            current = Some(r);
                        }
                        Err(e) => return UpdateOutcome::Failed(e),
                    },
                }
            }
            let (patch, conflicts) = patch_for(u, current.as_ref(), &self.map);
            if patch.is_empty() {
                return UpdateOutcome::Applied { version, conflicts };
            }
            let tag = version.clone().unwrap_or_else(|| "*".into());
            let request = || {
                self.request(Method::PATCH, url.clone())
                    .header(reqwest::header::IF_MATCH, if_match(&tag))
                    .json(&Value::Object(patch.clone()))
            };
            let timed = match self.send(request).await {
                Ok(t) => t,
                Err(e) => return UpdateOutcome::Failed(e),
            };
            let status = timed.response.status().as_u16();
            let retry = retry_after(&timed.response);
            let body = body_or_empty(timed.response).await;
            match status {
                200 => {
                    return match parse_json::<Record>(&body, "update response") {
                        Ok(r) => UpdateOutcome::Applied {
                            version: r.version_text(),
                            conflicts,
                        },
                        Err(e) => UpdateOutcome::Failed(e),
                    }
                }
                // Changed meanwhile: merge against what it holds now.
                412 => match parse_json::<Record>(&body, "412 response") {
                    Ok(r) => {
                        version = r.version_text();
                        current = Some(r);
                    }
                    Err(e) => return UpdateOutcome::Failed(e),
                },
                404 => return not_in_crm(),
                _ => {
                    return match upsert_outcome(status, retry, &body, &self.map) {
                        RecordOutcome::Rejected(r) => UpdateOutcome::Rejected(r),
                        RecordOutcome::Failed(e) => UpdateOutcome::Failed(e),
                        RecordOutcome::Delivered { .. } => UpdateOutcome::Failed(
                            ConnectorError::Protocol(format!("HTTP {status} to a PATCH")),
                        ),
                    }
                }
            }
        }
        UpdateOutcome::Failed(ConnectorError::Transient {
            reason: format!(
                "the record changed during each of {PRECONDITION_TRIES} tries; trying later"
            ),
            retry_after: None,
        })
    }

    /// A read's body; `None` for a 404.
    async fn get_body(&self, url: Url) -> Result<Option<Vec<u8>>, ConnectorError> {
        let timed = self.send(|| self.request(Method::GET, url.clone())).await?;
        let status = timed.response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(error_for(timed.response).await);
        }
        let body = timed
            .response
            .bytes()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable {RESPONSE}: {e}")))?;
        Ok(Some(body.to_vec()))
    }
}

/// How often one delivery re-reads and merges after a 412 before waiting.
const PRECONDITION_TRIES: usize = 3;

fn if_match(version: &str) -> String {
    if version == "*" {
        version.to_owned()
    } else {
        format!("\"{version}\"")
    }
}

fn not_in_crm() -> UpdateOutcome {
    UpdateOutcome::Rejected(RecordError {
        message: "the customer is no longer in the CRM (deleted there?)".into(),
        field: None,
    })
}

/// The fields to send and the conflicts found (`crm::update_merge`).
/// Without the CRM's record every changed field is sent (the precondition
/// guards the bases).
fn patch_for(
    u: &OutgoingUpdate,
    current: Option<&Record>,
    map: &FieldMap,
) -> (Map<String, Value>, Vec<FieldConflict>) {
    let theirs = |name: &str| {
        current
            .and_then(|r| r.fields.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let plan = update_merge::plan(u, map, current.is_some().then_some(&theirs as _));
    let patch = plan
        .writes
        .into_iter()
        .map(|(name, v)| (name, v.map_or(Value::Null, Value::String)))
        .collect();
    (patch, plan.conflicts)
}

/// The customer fields the contract accepts; absent fields are left out.
fn body(c: &Customer, map: &FieldMap) -> Value {
    Value::Object(map.outgoing(c))
}

/// What a read's unparsable body is called in the protocol error.
const RESPONSE: &str = "response";

/// `GET /customers/{key}`'s record.
pub(crate) fn record(body: &[u8], map: &FieldMap) -> Result<RemoteCustomer, ConnectorError> {
    parse_json::<Record>(body, RESPONSE).map(|r| r.into_remote(map))
}

/// A page of `GET /customers` (search and the incremental listing).
pub(crate) fn list(body: &[u8], map: &FieldMap) -> Result<Page, ConnectorError> {
    let list: List = parse_json(body, RESPONSE)?;
    Ok(Page {
        items: list.items.into_iter().map(|r| r.into_remote(map)).collect(),
        next: list.next_cursor,
    })
}

#[derive(Debug, Deserialize)]
struct Tombstone {
    id: String,
    #[serde(default)]
    key: Option<String>,
    deleted_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
struct TombstoneList {
    items: Vec<Tombstone>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// `GET /customers/deleted` as a page of deleted records.
pub(crate) fn deleted_list(body: &[u8]) -> Result<DeletedPage, ConnectorError> {
    let list: TombstoneList = parse_json(body, RESPONSE)?;
    Ok(DeletedPage {
        items: list
            .items
            .into_iter()
            .map(|t| DeletedRecord {
                crm_id: t.id,
                key: t.key.and_then(|k| k.parse().ok()),
                deleted_at: t.deleted_at,
            })
            .collect(),
        next: list.next_cursor,
        resume: None,
    })
}

/// `GET /metadata` as the creation form and the field list.
pub(crate) fn metadata(
    body: &[u8],
    map: &FieldMap,
) -> Result<(CrmForm, Option<FieldList>), ConnectorError> {
    let m: Metadata = parse_json(body, RESPONSE)?;
    Ok((form(m.clone(), map), field_list(m)))
}

/// `GET /metadata` (see docs/crm-rest-api.md).
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    #[serde(default)]
    required_one_of: Vec<String>,
    /// Absent on servers older than the field list.
    #[serde(default)]
    fields: Option<Vec<MetadataField>>,
    #[serde(default)]
    picklists: std::collections::BTreeMap<String, Vec<MetadataOption>>,
}

#[derive(Debug, Clone, Deserialize)]
struct MetadataField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    label: Option<String>,
    /// Writable unless the CRM says otherwise.
    #[serde(default = "yes")]
    writable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
struct MetadataOption {
    value: String,
    label: String,
}

/// The contract's field list, with each picklist's options.
fn field_list(m: Metadata) -> Option<FieldList> {
    let picklists = m.picklists;
    let fields = m
        .fields?
        .into_iter()
        .map(|f| CrmField {
            label: f.label.unwrap_or_else(|| label_for(&f.name)),
            kind: match f.kind.as_str() {
                "string" => CrmFieldType::Text,
                "text" => CrmFieldType::Multiline,
                "email" => CrmFieldType::Email,
                "phone" => CrmFieldType::Phone,
                "picklist" => CrmFieldType::Picklist,
                "number" => CrmFieldType::Number,
                "date" => CrmFieldType::Date,
                "datetime" => CrmFieldType::DateTime,
                "boolean" => CrmFieldType::Boolean,
                _ => CrmFieldType::Other,
            },
            writable: f.writable,
            options: picklists
                .get(&f.name)
                .into_iter()
                .flatten()
                .map(|o| FieldOption {
                    value: o.value.clone(),
                    label: o.label.clone(),
                })
                .collect(),
            name: f.name,
        })
        .collect();
    Some(FieldList {
        crm: "The CRM".into(),
        noun: "field".into(),
        fixed: false,
        fields,
    })
}

/// The CRM's picklists; one named like a mapped CRM field constrains that
/// Outpost field, the others are CRM-specific fields of the form.
fn form(m: Metadata, map: &FieldMap) -> CrmForm {
    let fields = m
        .picklists
        .into_iter()
        .map(|(name, options)| FormField {
            label: label_for(&name),
            kind: FieldKind::Picklist,
            required: false,
            attribute: map.outpost_field(&name).is_none(),
            options: options
                .into_iter()
                .map(|o| FieldOption {
                    value: o.value,
                    label: o.label,
                })
                .collect(),
            name: map
                .outpost_field(&name)
                .map_or(name, |f| f.name().to_owned()),
            max_len: None,
        })
        .collect();
    let outpost_name = |name: String| {
        map.outpost_field(&name)
            .map_or(name, |f| f.name().to_owned())
    };
    CrmForm {
        required_one_of: m.required_one_of.into_iter().map(outpost_name).collect(),
        fields,
    }
}

fn call_info(t: &Timed) -> CallInfo {
    t.call_info(&["x-request-id"])
}

fn retry_after(response: &reqwest::Response) -> Option<std::time::Duration> {
    parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER))
}

fn is_created(status: u16) -> bool {
    matches!(status, 200 | 201)
}

/// What an upsert's answer says about its record.
pub(crate) fn upsert_outcome(
    status: u16,
    retry_after: Option<std::time::Duration>,
    body: &[u8],
    map: &FieldMap,
) -> RecordOutcome {
    match status {
        _ if is_created(status) => match parse_json::<Record>(body, "upsert response") {
            Ok(r) => RecordOutcome::Delivered {
                version: r.version_text(),
                crm_id: r.id,
            },
            Err(e) => RecordOutcome::Failed(e),
        },
        // The CRM judged this record: a person must look at it.
        400 | 409 | 422 => {
            let err: ApiError = serde_json::from_slice(body).unwrap_or(ApiError {
                code: None,
                message: None,
                field: None,
            });
            // A message without words still says that the CRM refused it.
            let message = err
                .message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| format!("the CRM refused the customer (HTTP {status})"));
            RecordOutcome::Rejected(RecordError {
                message: match err.code {
                    Some(code) => format!("{message} ({code})"),
                    None => message,
                },
                // The contract names its own field; the map says whose it is.
                field: err
                    .field
                    .map(|f| map.outpost_field(&f).map_or(f, |o| o.name().to_owned())),
            })
        }
        _ => RecordOutcome::Failed(error_from(status, retry_after, body)),
    }
}

async fn error_for(response: reqwest::Response) -> ConnectorError {
    let status = response.status().as_u16();
    let retry_after = retry_after(&response);
    error_from(status, retry_after, &body_or_empty(response).await)
}

/// An unsuccessful answer, classified; the contract's `message` is the reason.
pub(crate) fn error_from(
    status: u16,
    retry_after: Option<std::time::Duration>,
    body: &[u8],
) -> ConnectorError {
    let reason = match serde_json::from_slice::<ApiError>(body) {
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
            requests_at_once: 1,
            max_batch: MAX_BATCH,
            upsert_by_external_id: true,
            rate_limit: Self::default_rate_limit(),
            updates: true,
        }
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_one(update).await
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        // An authenticated, cheap read: proves reachability and credentials.
        let mut url = self.url("customers");
        url.query_pairs_mut().append_pair("limit", "1");
        let body = self.get_body(url).await?.ok_or_else(|| {
            ConnectorError::Queue(QueueProblem::Misconfigured(
                "GET /customers is not found: is the base URL right?".into(),
            ))
        })?;
        list(&body, &self.map).map(|_| ())
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        Ok(concurrently(batch, IN_FLIGHT, |o| self.upsert_one(&o.customer)).await)
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        self.get_body(self.url(&format!("customers/{key}")))
            .await?
            .map(|body| record(&body, &self.map))
            .transpose()
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
        match self.get_body(url).await? {
            Some(body) => Ok(list(&body, &self.map)?.items),
            None => Ok(Vec::new()),
        }
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        self.get_body(self.url("metadata"))
            .await?
            .map(|body| metadata(&body, &self.map).map(|(form, _)| form))
            .transpose()
    }

    fn key_generator(&self) -> Option<Arc<dyn KeyGenerator>> {
        self.keys.clone()
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(self
            .get_body(self.url("metadata"))
            .await?
            .map(|body| metadata(&body, &self.map))
            .transpose()?
            .and_then(|(_, fields)| fields))
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
        match self.get_body(url).await? {
            Some(body) => list(&body, &self.map),
            None => Ok(Page {
                items: vec![],
                next: None,
            }),
        }
    }

    /// `GET /customers/deleted`; a server without it (404: older than the
    /// listing) cannot list deletions.
    async fn list_deleted_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        let mut url = self.url("customers/deleted");
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = since {
                q.append_pair("since", &s.to_rfc3339());
            }
            q.append_pair("limit", &PAGE_SIZE.to_string());
            if let Some(c) = &cursor {
                q.append_pair("cursor", c);
            }
        }
        match self.get_body(url).await? {
            Some(body) => deleted_list(&body).map(Some),
            None => Ok(None),
        }
    }
}
