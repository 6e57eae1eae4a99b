//! Salesforce (REST API) Contacts or Leads. Every creation is an upsert by
//! a custom External ID field holding Outpost's key (default
//! `Outpost_Key__c`) through sObject Collections, up to 200 records a
//! request, so a retry after a lost answer updates the same record instead
//! of creating a second one. Requests count against the org's daily API
//! budget (`budget.rs`); every query value is escaped (`soql.rs`).

mod auth;
pub(crate) mod budget;
mod errors;
pub(crate) mod listing;
pub(crate) mod mapping;
pub(crate) mod soql;
mod update;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::crm::connector::{
    ApiBudget, CallInfo, Capabilities, CrmConnector, DeletedPage, Delivery, DeviceUsage, Outgoing,
    OutgoingUpdate, Page, PullFilter, RecordOutcome, RemoteCustomer, UpdateOutcome,
};
use crate::crm::error::{ConnectorError, QueueProblem, RecordError};
use crate::crm::field_check::FieldList;
use crate::crm::field_map::FieldMap;
use crate::crm::form::CrmForm;
use crate::crm::http::{body_or_empty, parse_json, Http, Timed};
use crate::customer::CustomerId;
pub use auth::{Grant, OAuth, LOGIN_TOKEN_URL};
pub use mapping::SObject;

/// The REST API version every path names (Winter '24 and later have
/// everything used here: Collections upsert since v46, parameterized
/// search, `If-Unmodified-Since`).
pub const API_VERSION: &str = "v60.0";
/// sObject Collections take at most 200 records a request.
pub const MAX_BATCH: usize = 200;
pub const DEFAULT_KEY_FIELD: &str = "Outpost_Key__c";
/// The instance URL the settings form suggests.
pub const API_URL: &str = "https://MyDomainName.my.salesforce.com";
/// Records per query batch (Salesforce's default and maximum is 2,000).
pub const PULL_BATCH: usize = 2000;
const SEARCH_LIMIT: usize = 200;
const DUPLICATE_HEADER: &str = "Sforce-Duplicate-Rule-Header";

pub struct Salesforce {
    http: Http,
    auth: OAuth,
    object: SObject,
    key_field: String,
    map: FieldMap,
    /// Send `Sforce-Duplicate-Rule-Header: allowSave=true` (an admin's choice).
    allow_duplicates: bool,
    budget: budget::Budget,
    /// The object's field names as Salesforce spells them (from describe).
    /// The object's describe as last fetched, kept for [`DESCRIBE_FRESH`]:
    /// the probe, the form, the field list and every upsert's field names
    /// share one request.
    described: tokio::sync::Mutex<Option<(tokio::time::Instant, Arc<Described>)>>,
}

/// How long a describe is used before it is fetched again (an admin's new
/// picklist value shows within this).
const DESCRIBE_FRESH: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// A describe with the field names it spells.
struct Described {
    describe: mapping::Describe,
    names: mapping::Names,
}

/// One record's result in a Collections answer.
#[derive(Debug, Deserialize)]
struct SaveResult {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<errors::ApiError>,
}

/// Settings the connector takes besides the sign-in.
pub struct Options {
    pub object: SObject,
    pub key_field: Option<String>,
    pub allow_duplicates: bool,
    pub daily_request_cap: Option<u32>,
}

impl Salesforce {
    pub fn new(auth: OAuth, options: Options, map: FieldMap, http: Http) -> Self {
        Salesforce {
            http,
            auth,
            object: options.object,
            key_field: options
                .key_field
                .unwrap_or_else(|| DEFAULT_KEY_FIELD.to_owned()),
            map,
            allow_duplicates: options.allow_duplicates,
            budget: budget::Budget::new(options.daily_request_cap),
            described: tokio::sync::Mutex::new(None),
        }
    }

    /// `path` under the session's instance, `/services/data/vNN.N/`.
    fn data_url(instance: &Url, path: &str) -> Url {
        crate::crm::http::join(instance, &format!("services/data/{API_VERSION}/{path}"))
    }

    /// Sends a request built for the current session's instance, within the
    /// budget; on `INVALID_SESSION_ID` renews the session once and sends
    /// again. `path` is under `/services/data/vNN.N/` unless it starts with
    /// `/services/` (a `nextRecordsUrl`).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> Result<Timed, ConnectorError> {
        let build = |instance: &Url, token: &str| {
            let mut url = if path.starts_with("/services/") {
                crate::crm::http::join(instance, path)
            } else {
                Self::data_url(instance, path)
            };
            if !query.is_empty() {
                url.query_pairs_mut().extend_pairs(query);
            }
            let mut r = self
                .http
                .client()
                .request(method.clone(), url)
                .bearer_auth(token);
            for (name, value) in headers {
                r = r.header(*name, value);
            }
            if self.allow_duplicates && method != Method::GET {
                r = r.header(DUPLICATE_HEADER, "allowSave=true");
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            r
        };
        let session = self.auth.session(&self.http).await?;
        let timed = self
            .send_counted(build(&session.instance_url, session.token.expose()))
            .await?;
        if timed.response.status().as_u16() != 401 {
            return Ok(timed);
        }
        let renewed = self.auth.renew(&self.http, &session).await?;
        self.send_counted(build(&renewed.instance_url, renewed.token.expose()))
            .await
    }

    /// One request against the budget: held back while it is spent, its
    /// answer's usage noted, a 403 `REQUEST_LIMIT_EXCEEDED` sent again after
    /// a short wait (a window that frees a slot in a second costs the round
    /// nothing) and otherwise turned into a wait for the whole queue.
    async fn send_counted(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Timed, ConnectorError> {
        let mut request = request;
        loop {
            let again = request.try_clone();
            self.budget.take().await?;
            let timed = self.http.send(request).await?;
            let usage = timed
                .response
                .headers()
                .get("sforce-limit-info")
                .and_then(|v: &HeaderValue| v.to_str().ok());
            self.budget.observe(usage);
            if timed.response.status().as_u16() != 403 {
                return Ok(timed);
            }
            let body = body_or_empty(timed.response).await;
            let errors = errors::parse(&body);
            if !errors::has_code(&errors, "REQUEST_LIMIT_EXCEEDED") {
                return Err(errors::request_error(
                    403,
                    &errors,
                    self.object.name(),
                    &self.key_field,
                ));
            }
            let exceeded = self.budget.exceeded();
            match again {
                Some(next)
                    if exceeded
                        .retry_after()
                        .is_some_and(|w| w <= budget::SHORT_HOLD) =>
                {
                    request = next;
                }
                _ => return Err(exceeded),
            }
        }
    }

    /// The body of a successful answer; an unsuccessful one is classified.
    async fn ok_body(&self, timed: Timed) -> Result<Vec<u8>, ConnectorError> {
        if !timed.response.status().is_success() {
            return Err(self.error_for(timed).await);
        }
        Ok(body_or_empty(timed.response).await)
    }

    async fn error_for(&self, timed: Timed) -> ConnectorError {
        let status = timed.response.status().as_u16();
        let body = body_or_empty(timed.response).await;
        errors::request_error(
            status,
            &errors::parse(&body),
            self.object.name(),
            &self.key_field,
        )
    }

    fn sobject_path(&self, rest: &str) -> String {
        format!("sobjects/{}/{rest}", self.object.name())
    }

    /// The object's describe, fetched when the one kept is older than
    /// [`DESCRIBE_FRESH`].
    async fn described(&self) -> Result<Arc<Described>, ConnectorError> {
        let mut kept = self.described.lock().await;
        if let Some((at, d)) = kept.as_ref() {
            if at.elapsed() < DESCRIBE_FRESH {
                return Ok(d.clone());
            }
        }
        let timed = self
            .send(Method::GET, &self.sobject_path("describe"), &[], None, &[])
            .await?;
        let describe: mapping::Describe = parse_json(&self.ok_body(timed).await?, "describe")?;
        let names = mapping::Names::from_describe(&describe);
        let d = Arc::new(Described { describe, names });
        *kept = Some((tokio::time::Instant::now(), d.clone()));
        Ok(d)
    }

    /// Upserts up to 200 customers by the key field, `allOrNone: false`:
    /// each record succeeds or fails on its own.
    async fn upsert(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        let described = self.described().await?;
        let names = &described.names;
        let records: Vec<Value> = batch
            .iter()
            .map(|o| {
                let mut r =
                    mapping::record(&o.customer, &self.map, self.object, &self.key_field, names);
                r.insert("attributes".into(), json!({ "type": self.object.name() }));
                Value::Object(r)
            })
            .collect();
        let path = format!(
            "composite/sobjects/{}/{}",
            self.object.name(),
            self.key_field
        );
        let body = json!({ "allOrNone": false, "records": records });
        let timed = self
            .send(Method::PATCH, &path, &[], Some(&body), &[])
            .await?;
        let call = call_info(&timed);
        let body = self.ok_body(timed).await?;
        let results: Vec<SaveResult> = parse_json(&body, "sObject Collections answer")?;
        if results.len() != batch.len() {
            return Err(ConnectorError::Protocol(format!(
                "{} results for {} records",
                results.len(),
                batch.len()
            )));
        }
        Ok(results
            .into_iter()
            .map(|r| Delivery {
                outcome: self.outcome(r),
                call: call.clone(),
            })
            .collect())
    }

    fn outcome(&self, r: SaveResult) -> RecordOutcome {
        match (r.success, r.id) {
            (true, Some(id)) => RecordOutcome::Delivered {
                crm_id: id,
                version: None,
            },
            (true, None) => RecordOutcome::Failed(ConnectorError::Protocol(
                "a successful record without an id".into(),
            )),
            (false, _) => {
                let first = r.errors.into_iter().next().unwrap_or_default();
                RecordOutcome::Rejected(errors::record_error(&self.map, &self.key_field, &first))
            }
        }
    }

    async fn query(&self, soql: &str, all: bool) -> Result<listing::QueryPage, ConnectorError> {
        let path = if all { "queryAll" } else { "query" };
        let batch = format!("batchSize={PULL_BATCH}");
        let timed = self
            .send(
                Method::GET,
                path,
                &[("q", soql)],
                None,
                &[("Sforce-Query-Options", batch)],
            )
            .await?;
        listing::parse_page(&self.ok_body(timed).await?)
    }

    /// A `nextRecordsUrl`; `None` when Salesforce no longer knows the
    /// locator (it expires), so the caller queries again from its position.
    async fn query_more(&self, next: &str) -> Result<Option<listing::QueryPage>, ConnectorError> {
        if !next.starts_with("/services/data/") {
            return Err(ConnectorError::Protocol(format!(
                "nextRecordsUrl {next:?} is not a query path"
            )));
        }
        let timed = self.send(Method::GET, next, &[], None, &[]).await?;
        if timed.response.status().as_u16() == 400 {
            let body = body_or_empty(timed.response).await;
            let errors = errors::parse(&body);
            if errors::has_code(&errors, "INVALID_QUERY_LOCATOR") {
                return Ok(None);
            }
            return Err(errors::request_error(
                400,
                &errors,
                self.object.name(),
                &self.key_field,
            ));
        }
        listing::parse_page(&self.ok_body(timed).await?).map(Some)
    }

    fn remote(&self, record: &Map<String, Value>) -> Option<RemoteCustomer> {
        mapping::remote(record, &self.key_field, &self.map)
    }

    /// Checks the key field as an admin set it up: it exists, is an
    /// External ID, and this user may create the object.
    async fn check_setup(&self) -> Result<(), ConnectorError> {
        let described = self.described().await?;
        let d = &described.describe;
        let key = d
            .fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&self.key_field));
        let object = self.object.name();
        let key_field = &self.key_field;
        let problem = match key {
            None => Some(format!("the {object} object has no field {key_field} (or the integration user cannot see it: field-level security)")),
            Some(f) if !f.external_id => Some(format!("{object}.{key_field} exists but is not marked External ID")),
            Some(f) if !f.unique => Some(format!("{object}.{key_field} exists but is not marked Unique")),
            Some(f) if !f.createable || !f.updateable => Some(format!("the integration user cannot write {object}.{key_field} (field-level security: Edit)")),
            Some(_) if d.createable == Some(false) => Some(format!("the integration user may not create {object} records (profile or permission set: Create on {object})")),
            Some(_) => None,
        };
        match problem {
            None => Ok(()),
            Some(p) => Err(ConnectorError::Queue(QueueProblem::Misconfigured(format!(
                "{p}. Set it up as docs/connectors/salesforce.md says: a Text(36) field {key_field} with External ID and Unique ticked, visible and editable for the integration user."
            )))),
        }
    }
}

fn call_info(t: &Timed) -> CallInfo {
    t.call_info(&["sforce-request-id", "x-request-id"])
}

fn not_in_salesforce(object: &str) -> RecordError {
    RecordError {
        message: format!("the {object} is no longer in Salesforce (deleted there?)"),
        field: None,
    }
}

#[async_trait]
impl CrmConnector for Salesforce {
    fn kind(&self) -> &'static str {
        "salesforce"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            requests_at_once: 1,
            max_batch: MAX_BATCH,
            upsert_by_external_id: true,
            // The budget is a day's, not a window's: `budget.rs` keeps it.
            rate_limit: None,
            updates: true,
        }
    }

    fn api_budget(&self) -> Option<ApiBudget> {
        Some(self.budget.left())
    }

    fn device_usage(&self) -> Option<DeviceUsage> {
        Some(self.budget.device_usage())
    }

    fn restore_device_usage(&self, usage: &DeviceUsage) {
        self.budget.restore(usage);
    }

    /// Signs in (the token endpoint does not count against the org's
    /// budget), reaches the instance through the version list (which does
    /// not count either: the monitor probes every 30 s while online, which
    /// would otherwise cost a device 2,880 requests a day) and checks the
    /// setup against the kept describe (one counted request per
    /// [`DESCRIBE_FRESH`]).
    async fn probe(&self) -> Result<(), ConnectorError> {
        let session = self.auth.session(&self.http).await?;
        let versions = crate::crm::http::join(&session.instance_url, "services/data/");
        let timed = self
            .http
            .send_uncounted(self.http.client().get(versions))
            .await?;
        if !timed.response.status().is_success() {
            return Err(self.error_for(timed).await);
        }
        self.check_setup().await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        // An upsert by key is safe to repeat: earlier attempts need no look-up.
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(MAX_BATCH) {
            out.extend(self.upsert(chunk).await?);
        }
        Ok(out)
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_record(update).await
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        let fields = mapping::read_fields(&self.map, &self.key_field).join(",");
        let path = self.sobject_path(&format!("{}/{key}", self.key_field));
        let timed = self
            .send(Method::GET, &path, &[("fields", &fields)], None, &[])
            .await?;
        if timed.response.status().as_u16() == 404 {
            return Ok(None);
        }
        let record: Map<String, Value> = parse_json(&self.ok_body(timed).await?, "record")?;
        Ok(self.remote(&record))
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let term = soql::search_term(query.trim());
        if term.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let fields = mapping::read_fields(&self.map, &self.key_field).join(",");
        let object = self.object.name();
        let limit = limit.clamp(1, SEARCH_LIMIT).to_string();
        let (fields_param, limit_param) = (format!("{object}.fields"), format!("{object}.limit"));
        let timed = self
            .send(
                Method::GET,
                "parameterizedSearch",
                &[
                    ("q", term.as_str()),
                    ("sobject", object),
                    (fields_param.as_str(), fields.as_str()),
                    (limit_param.as_str(), limit.as_str()),
                ],
                None,
                &[],
            )
            .await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Found {
            #[serde(default)]
            search_records: Vec<Map<String, Value>>,
        }
        let found: Found = parse_json(&self.ok_body(timed).await?, "search answer")?;
        Ok(found
            .search_records
            .iter()
            .filter_map(|r| self.remote(r))
            .collect())
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        let d = self.described().await?;
        Ok(Some(mapping::form(
            &d.describe,
            &self.map,
            self.object,
            &self.key_field,
        )))
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        let d = self.described().await?;
        Ok(Some(mapping::field_list(&d.describe, self.object)))
    }

    async fn list_modified_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        self.modified_page(since, cursor, filter).await
    }

    async fn list_deleted_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        self.deleted_page(since, cursor).await.map(Some)
    }
}
