//! Dynamics 365 / Dataverse Web API contacts. Every creation is an upsert
//! by an alternate key holding Outpost's key (default column
//! `outpost_key`): `PATCH contacts(outpost_key='<key>')` without a
//! precondition, many per `POST $batch` with `Prefer:
//! odata.continue-on-error`, so a retry after a lost answer updates the
//! same contact and one refused record does not fail the others. The
//! sign-in is Entra ID client credentials (`ClientCredentials`); requests
//! are paced under the service protection limits (`limits.rs`); every URL
//! value is escaped (`odata.rs`).

pub(crate) mod batch;
mod errors;
pub(crate) mod limits;
mod listing;
pub(crate) mod mapping;
mod metadata;
pub(crate) mod odata;
mod setup;
mod update;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::crm::connector::{
    CallInfo, Capabilities, CrmConnector, DeletedPage, Delivery, Outgoing, OutgoingUpdate, Page,
    PullFilter, RateLimit, RecordOutcome, RemoteCustomer, UpdateOutcome,
};
use crate::crm::error::{classify_status, parse_retry_after, ConnectorError};
use crate::crm::field_check::FieldList;
use crate::crm::field_map::FieldMap;
use crate::crm::form::CrmForm;
use crate::crm::generic_rest::client_credentials::ClientCredentials;
use crate::crm::http::{body_or_empty, parse_json, Http, Timed};
use crate::customer::CustomerId;
pub use mapping::DEFAULT_MAP;

pub const DEFAULT_KEY_PROPERTY: &str = "outpost_key";
pub const DEFAULT_API_VERSION: &str = "9.2";
/// The organization URL the settings form suggests.
pub const API_URL: &str = "https://yourorg.crm.dynamics.com";
/// Dataverse takes at most 1,000 operations a `$batch`.
pub const MAX_BATCH: usize = 1000;
/// Operations per `$batch` unless an admin sets `batch_size`: small enough
/// that one batch answers well inside the request timeout, large enough
/// that the batch's own request is 1 % of the budget.
pub const DEFAULT_BATCH: usize = 100;
/// A batch cut to fit what is left of the window has at least this many
/// operations (a smaller one would spend too much on the batch request).
const MIN_FITTED_BATCH: usize = 10;
/// Rows per page of the pull (`Prefer: odata.maxpagesize`; at most 5,000).
pub const PULL_PAGE: usize = 1000;
const SEARCH_LIMIT: usize = 50;
/// A merged lookup that takes longer is dropped (the local results stand).
const SEARCH_DEADLINE: Duration = Duration::from_secs(5);

/// `9.0` to `9.2` → the path segment `v9.N`.
pub fn api_version_ok(v: &str) -> Option<String> {
    let minor = v.trim().strip_prefix("9.")?;
    (minor.len() == 1 && ('0'..='2').contains(&minor.chars().next()?))
        .then(|| format!("v9.{minor}"))
}

/// Settings the connector takes besides the sign-in.
pub struct Options {
    pub key_property: Option<String>,
    pub api_version: Option<String>,
    pub duplicate_detection: bool,
    pub batch_size: Option<u32>,
    /// The admin's rate limit, else [`limits::DEFAULT_LIMIT`].
    pub rate_limit: Option<RateLimit>,
}

pub struct Dynamics {
    http: Http,
    auth: ClientCredentials,
    /// `{org}/api/data/v9.N`.
    api_root: Url,
    key_property: String,
    map: FieldMap,
    duplicate_detection: bool,
    batch_size: usize,
    budget: limits::Budget,
    /// Set when Dataverse said change tracking is off on contacts.
    tracking_off: std::sync::atomic::AtomicBool,
    /// The contact table's metadata as last fetched (`metadata.rs`).
    table: tokio::sync::Mutex<Option<(tokio::time::Instant, std::sync::Arc<metadata::Table>)>>,
    /// When the setup (key, privileges) was last found sound (`setup.rs`).
    setup_checked: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

/// What a request carries.
enum Payload {
    None,
    Json(Value),
    /// A `$batch`: the body and its content type.
    Raw(String, String),
}

impl Dynamics {
    pub fn new(
        org: Url,
        auth: ClientCredentials,
        options: Options,
        map: FieldMap,
        http: Http,
    ) -> Self {
        let version = options
            .api_version
            .as_deref()
            .and_then(api_version_ok)
            .unwrap_or_else(|| format!("v{DEFAULT_API_VERSION}"));
        Dynamics {
            http,
            auth,
            api_root: crate::crm::http::join(&org, &format!("api/data/{version}")),
            key_property: options
                .key_property
                .unwrap_or_else(|| DEFAULT_KEY_PROPERTY.to_owned()),
            map,
            duplicate_detection: options.duplicate_detection,
            batch_size: options
                .batch_size
                .map_or(DEFAULT_BATCH, |b| b as usize)
                .clamp(1, MAX_BATCH),
            budget: limits::Budget::new(options.rate_limit.unwrap_or(limits::DEFAULT_LIMIT)),
            tracking_off: std::sync::atomic::AtomicBool::new(false),
            table: tokio::sync::Mutex::new(None),
            setup_checked: tokio::sync::Mutex::new(None),
        }
    }

    /// `path` under the Web API root (`contacts`, `WhoAmI`).
    fn url(&self, path: &str) -> Url {
        crate::crm::http::join(&self.api_root, path)
    }

    /// `contacts(outpost_key='<key>')`.
    fn key_path(&self, key: CustomerId) -> String {
        format!(
            "contacts({}={})",
            self.key_property,
            odata::literal(&key.to_string())
        )
    }

    /// Sends within the budget (`weight`: the requests Dataverse counts),
    /// with the Web API's headers; on a 401 buys a new token once and
    /// sends again. A window without execution time left (the limit
    /// headers say 0) holds every later request for [`limits::HOLD`].
    async fn send(
        &self,
        method: Method,
        url: Url,
        payload: &Payload,
        headers: &[(&'static str, String)],
        weight: u32,
    ) -> Result<Timed, ConnectorError> {
        let mut token = self.auth.bearer(&self.http).await?;
        let mut renewed = false;
        loop {
            let ticket = self.budget.take(weight).await;
            let mut r = self
                .http
                .client()
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose())
                .header("Accept", "application/json")
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0");
            if self.duplicate_detection && method != Method::GET {
                r = r.header("MSCRM.SuppressDuplicateDetection", "false");
            }
            for (name, value) in headers {
                r = r.header(*name, value);
            }
            r = match payload {
                Payload::None => r,
                Payload::Json(v) => r.json(v),
                Payload::Raw(body, ty) => r.header("Content-Type", ty).body(body.clone()),
            };
            let timed = self.http.send(r).await?;
            self.budget.answered(ticket);
            let (remaining, spent) = limits::spent(timed.response.headers());
            if let Some(left) = remaining {
                self.budget.observe_remaining(left);
            }
            if spent {
                self.http.throttle().pause_for(limits::HOLD).await;
            }
            if timed.response.status().as_u16() != 401 || renewed {
                return Ok(timed);
            }
            token = self.auth.renew(&self.http, &token).await?;
            renewed = true;
        }
    }

    async fn get_json(
        &self,
        url: Url,
        headers: &[(&'static str, String)],
    ) -> Result<Option<Map<String, Value>>, ConnectorError> {
        let timed = self
            .send(Method::GET, url, &Payload::None, headers, 1)
            .await?;
        if timed.response.status().as_u16() == 404 {
            return Ok(None);
        }
        let body = self.ok_body(timed).await?;
        parse_json(&body, "Dataverse answer").map(Some)
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
        let retry_after = parse_retry_after(timed.response.headers().get("retry-after"));
        let body = body_or_empty(timed.response).await;
        let e = errors::parse(&body);
        if status == 429 || status >= 500 {
            let said = if e.message.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("{} ({})", e.message, e.code)
            };
            return classify_status(status, said, retry_after);
        }
        errors::request_error(status, &e, &self.key_property)
    }

    /// Which of `columns` take whole numbers (picklists), from the
    /// metadata; only asked when a CRM-specific column is written, so a
    /// plain customer costs no metadata request.
    async fn numeric_columns<'a>(
        &self,
        columns: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<String>, ConnectorError> {
        let unmapped: Vec<&str> = columns
            .filter(|c| self.map.outpost_field(c).is_none())
            .collect();
        if unmapped.is_empty() {
            return Ok(Vec::new());
        }
        let table = self.table().await?;
        Ok(unmapped
            .into_iter()
            .filter(|c| table.numeric(c))
            .map(str::to_owned)
            .collect())
    }

    /// One `$batch` of upserts by key.
    async fn upsert(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        let numeric = self
            .numeric_columns(
                batch
                    .iter()
                    .flat_map(|o| o.customer.attributes.keys().map(String::as_str)),
            )
            .await?;
        let numeric = |c: &str| numeric.iter().any(|n| n == c);
        let mut operations = Vec::with_capacity(batch.len());
        for o in batch {
            let body = Value::Object(mapping::record(&o.customer, &self.map, &numeric));
            let mut headers = vec![];
            if self.duplicate_detection {
                headers.push(("MSCRM.SuppressDuplicateDetection", "false".to_owned()));
            }
            operations.push(batch::Operation {
                method: "PATCH",
                path: self.key_path(o.customer.id),
                headers,
                body: Some(body.to_string()),
            });
        }
        let boundary = format!("batch_{}", uuid::Uuid::new_v4().simple());
        let (body, content_type) = batch::body(&boundary, self.api_root.as_str(), &operations);
        let weight = u32::try_from(operations.len() + 1).unwrap_or(u32::MAX);
        let timed = self
            .send(
                Method::POST,
                self.url("$batch"),
                &Payload::Raw(body, content_type),
                &[("Prefer", "odata.continue-on-error".to_owned())],
                weight,
            )
            .await?;
        let call = call_info(&timed);
        if !timed.response.status().is_success() {
            return Err(self.error_for(timed).await);
        }
        let content_type = timed
            .response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = timed
            .response
            .text()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable $batch answer: {e}")))?;
        let answers = batch::parse(&content_type, &text)?;
        if answers.len() != batch.len() {
            return Err(ConnectorError::Protocol(format!(
                "{} answers in a $batch of {} operations",
                answers.len(),
                batch.len()
            )));
        }
        let mut out = Vec::with_capacity(batch.len());
        for a in answers {
            let outcome = self.outcome(&a)?;
            out.push(Delivery {
                outcome,
                call: CallInfo {
                    status: Some(a.status),
                    ..call.clone()
                },
            });
        }
        Ok(out)
    }

    /// One operation's answer; a problem only an admin can fix (sign-in,
    /// privilege, the key's setup) fails the whole batch, so the queue
    /// pauses (the batch is safe to send again).
    fn outcome(&self, a: &batch::Answer) -> Result<RecordOutcome, ConnectorError> {
        if (200..300).contains(&a.status) {
            let id = a.header("odata-entityid").and_then(mapping::id_of_entity);
            let Some(crm_id) = id else {
                return Ok(RecordOutcome::Failed(ConnectorError::Protocol(
                    "an upsert answer without OData-EntityId".into(),
                )));
            };
            return Ok(RecordOutcome::Delivered {
                crm_id,
                version: a.header("etag").map(str::to_owned),
            });
        }
        let e = errors::parse(a.body.as_bytes());
        if a.status < 500 && a.status != 429 && errors::is_record_refusal(a.status, &e) {
            return Ok(RecordOutcome::Rejected(errors::record_error(
                &self.map,
                &self.key_property,
                a.status,
                &e,
            )));
        }
        let error = if a.status == 429 || a.status >= 500 {
            classify_status(a.status, format!("{} ({})", e.message, e.code), None)
        } else {
            errors::request_error(a.status, &e, &self.key_property)
        };
        match error {
            ConnectorError::Queue(_) => Err(error),
            other => Ok(RecordOutcome::Failed(other)),
        }
    }

    fn remote(&self, row: &Map<String, Value>) -> Option<RemoteCustomer> {
        mapping::remote(row, &self.key_property, &self.map)
    }

    fn select(&self) -> String {
        mapping::select(&self.map, &self.key_property, &[])
    }
}

/// Operations for the next `$batch` of at most `wanted`: when the window
/// has room for a good part of a batch but not all of it, a batch that
/// fits goes now instead of waiting for the whole one to fit (a batch
/// weighs 1 + its operations, so whole batches alone leave up to a
/// batch's worth of every window unused).
fn fitting(wanted: usize, room: u32) -> usize {
    let fits = (room as usize).saturating_sub(1);
    if fits >= MIN_FITTED_BATCH && fits < wanted {
        fits
    } else {
        wanted
    }
}

fn call_info(t: &Timed) -> CallInfo {
    t.call_info(&["x-ms-service-request-id", "req_id"])
}

#[derive(Deserialize)]
struct Rows {
    #[serde(default)]
    value: Vec<Map<String, Value>>,
}

#[async_trait]
impl CrmConnector for Dynamics {
    fn kind(&self) -> &'static str {
        "dynamics"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            requests_at_once: 1,
            max_batch: self.batch_size,
            upsert_by_external_id: true,
            // `limits.rs` keeps the 5-minute window (a batch weighs more than one).
            rate_limit: None,
            updates: true,
        }
    }

    /// Signs in, asks `WhoAmI` and checks the setup (`setup.rs`).
    async fn probe(&self) -> Result<(), ConnectorError> {
        self.check_setup().await
    }

    async fn setup_notes(&self) -> Result<Vec<String>, ConnectorError> {
        Dynamics::setup_notes(self).await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        // An upsert by key is safe to repeat: earlier attempts need no look-up.
        let mut out = Vec::with_capacity(batch.len());
        let mut rest = batch;
        while !rest.is_empty() {
            let size = fitting(rest.len().min(self.batch_size), self.budget.room());
            let (chunk, later) = rest.split_at(size);
            out.extend(self.upsert(chunk).await?);
            rest = later;
        }
        Ok(out)
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_record(update).await
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        let t = self.table().await?;
        Ok(Some(t.form(&self.map, &self.key_property)))
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(Some(self.table().await?.field_list()))
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        let url = odata::with_query(
            self.url(&self.key_path(key)),
            &[("$select", &self.select())],
        );
        Ok(self.get_json(url, &[]).await?.and_then(|r| self.remote(&r)))
    }

    /// `startswith` on the names, `contains` on email and phone, each value
    /// an escaped literal.
    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let term = query.trim();
        if term.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let term: String = term.chars().take(100).collect();
        let col = |f| self.map.crm_field(f).filter(|c| odata::is_name(c));
        use crate::customer::Field;
        let mut terms = Vec::new();
        for (field, function) in [
            (Field::FirstName, "startswith"),
            (Field::LastName, "startswith"),
            (Field::Company, "startswith"),
            (Field::Email, "contains"),
            (Field::Phone, "contains"),
        ] {
            if let Some(c) = col(field) {
                terms.push(odata::text_match(function, c, &term));
            }
        }
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let url = odata::with_query(
            self.url("contacts"),
            &[
                ("$select", &self.select()),
                ("$filter", &terms.join(" or ")),
                ("$top", &limit.clamp(1, SEARCH_LIMIT).to_string()),
            ],
        );
        let rows = tokio::time::timeout(SEARCH_DEADLINE, self.get_json(url, &[]))
            .await
            // Slow is not offline: the endpoint's state stays as it is.
            .map_err(|_| ConnectorError::Transient {
                reason: "the search in Dynamics took too long".into(),
                retry_after: None,
            })??;
        let rows: Rows = match rows {
            Some(r) => serde_json::from_value(Value::Object(r))
                .map_err(|e| ConnectorError::Protocol(format!("unreadable search answer: {e}")))?,
            None => return Ok(Vec::new()),
        };
        Ok(rows.value.iter().filter_map(|r| self.remote(r)).collect())
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
        self.deleted_page(since, cursor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_to_the_room_left_in_the_window() {
        assert_eq!(fitting(100, 1000), 100);
        assert_eq!(fitting(100, 101), 100);
        assert_eq!(fitting(100, 91), 90, "the rest of the window is used");
        assert_eq!(fitting(100, 11), 10);
        // Too little room for a worthwhile batch: wait for the whole one.
        assert_eq!(fitting(100, 10), 100);
        assert_eq!(fitting(100, 0), 100);
        assert_eq!(fitting(5, 3), 5);
    }

    #[test]
    fn versions_are_9_0_to_9_2() {
        assert_eq!(api_version_ok("9.2").as_deref(), Some("v9.2"));
        assert_eq!(api_version_ok("9.0").as_deref(), Some("v9.0"));
        for bad in ["9.3", "8.2", "v9.2", "9.12", "9", ""] {
            assert!(api_version_ok(bad).is_none(), "{bad}");
        }
    }
}
