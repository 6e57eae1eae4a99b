//! Zoho CRM (REST API v8) Contacts or Leads. Every creation is an upsert
//! on a unique custom field holding Outpost's key (default `Outpost_Key`,
//! "Do not allow duplicate values"): `POST {Module}/upsert` with
//! `duplicate_check_fields: [key]`, up to 100 records a request, so a retry
//! after a lost answer updates the same record. The sign-in is a refresh
//! token at the data centre's accounts server, its access token cached in
//! the keyring for every process (`auth.rs`); the API lives at the token
//! answer's `api_domain` unless an admin set another URL. Requests stay
//! under the edition's concurrency limit and pause the queue when the
//! org's credits are gone (`credits.rs`); search values are escaped
//! (`mapping::criteria_escape`).

mod auth;
pub(crate) mod credits;
pub(crate) mod errors;
mod listing;
pub(crate) mod mapping;
mod metadata;
mod update;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use url::Url;

use crate::crm::connector::{
    ApiBudget, CallInfo, Capabilities, CrmConnector, DeletedPage, Delivery, DeviceUsage, Outgoing,
    OutgoingUpdate, Page, PullFilter, RecordOutcome, RemoteCustomer, UpdateOutcome,
};
use crate::crm::error::ConnectorError;
use crate::crm::field_check::FieldList;
use crate::crm::field_map::FieldMap;
use crate::crm::form::CrmForm;
use crate::crm::http::{body_or_empty, parse_json, Http};
use crate::customer::CustomerId;
pub use auth::{Cached, OAuth};
pub use mapping::{Module, CONTACTS_MAP, LEADS_MAP};

pub const DEFAULT_KEY_FIELD: &str = "Outpost_Key";
pub const DEFAULT_API_VERSION: &str = "8";
/// The API domain of the `.com` data centre (the settings form's placeholder).
pub const API_DOMAIN: &str = "https://www.zohoapis.com";
/// Zoho takes at most 100 records an insert, update or upsert.
pub const MAX_BATCH: usize = 100;
/// Records per page of the pull (Zoho's maximum `per_page`).
pub const PULL_PAGE: usize = 200;
/// Requests in flight unless an admin sets `concurrency`: the Standard
/// edition's limit (Free 5, Standard 10, Professional 15, Enterprise 20,
/// Ultimate 25), safe for every paid edition.
pub const DEFAULT_CONCURRENCY: u32 = 10;
const SEARCH_LIMIT: usize = 200;
/// A merged lookup that takes longer is dropped (the local results stand).
const SEARCH_DEADLINE: Duration = Duration::from_secs(5);

/// One Zoho data centre: where its accounts live and its API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DataCentre {
    /// For the Settings form's choice, e.g. "Europe (zoho.eu)".
    pub region: &'static str,
    pub accounts: &'static str,
    pub api_domain: &'static str,
}

impl DataCentre {
    const fn new(region: &'static str, accounts: &'static str, api_domain: &'static str) -> Self {
        DataCentre {
            region,
            accounts,
            api_domain,
        }
    }

    /// The accounts server's token endpoint (`--token-url`).
    pub fn token_url(&self) -> String {
        format!("https://{}/oauth/v2/token", self.accounts)
    }
}

/// Every data centre, the default (zoho.com) first.
pub const DATA_CENTRES: &[DataCentre] = &[
    DataCentre::new(
        "United States (zoho.com)",
        "accounts.zoho.com",
        "https://www.zohoapis.com",
    ),
    DataCentre::new(
        "Europe (zoho.eu)",
        "accounts.zoho.eu",
        "https://www.zohoapis.eu",
    ),
    DataCentre::new(
        "India (zoho.in)",
        "accounts.zoho.in",
        "https://www.zohoapis.in",
    ),
    DataCentre::new(
        "Australia (zoho.com.au)",
        "accounts.zoho.com.au",
        "https://www.zohoapis.com.au",
    ),
    DataCentre::new(
        "Japan (zoho.jp)",
        "accounts.zoho.jp",
        "https://www.zohoapis.jp",
    ),
    DataCentre::new(
        "China (zoho.com.cn)",
        "accounts.zoho.com.cn",
        "https://www.zohoapis.com.cn",
    ),
    DataCentre::new(
        "Canada (zohocloud.ca)",
        "accounts.zohocloud.ca",
        "https://www.zohoapis.ca",
    ),
    DataCentre::new(
        "Saudi Arabia (zoho.sa)",
        "accounts.zoho.sa",
        "https://www.zohoapis.sa",
    ),
];

/// Whether the token URL is a Zoho accounts server (https), or this
/// computer (the emulator): only those get the client secret and the
/// refresh token.
pub fn accounts_host_ok(url: &Url) -> bool {
    if crate::endpoint::is_loopback(url) {
        return true;
    }
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| {
            DATA_CENTRES
                .iter()
                .any(|d| d.accounts.eq_ignore_ascii_case(h))
        })
}

/// The API domain of the token URL's data centre (this computer's origin
/// for a loopback token URL): the endpoint's URL when `--url` is not given.
pub fn default_api_domain(token_url: &Url) -> Option<String> {
    if crate::endpoint::is_loopback(token_url) {
        return Some(token_url.origin().ascii_serialization());
    }
    let host = token_url.host_str()?;
    DATA_CENTRES
        .iter()
        .find(|d| d.accounts.eq_ignore_ascii_case(host))
        .map(|d| d.api_domain.to_owned())
}

/// [`default_api_domain`] of a token URL as typed (the CLI's `add`).
pub fn default_api_domain_of(token_url: &str) -> Option<String> {
    default_api_domain(&Url::parse(token_url.trim()).ok()?)
}

/// `8` (also `2`, `5`, `6`, `7`: the same calls) → the path segment `v8`.
/// 3 and 4 are refused: not tested (the emulator serves HubSpot there).
pub fn api_version_ok(v: &str) -> Option<String> {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    matches!(v, "2" | "5" | "6" | "7" | "8").then(|| format!("v{v}"))
}

/// Settings the connector takes besides the sign-in.
pub struct Options {
    pub module: Module,
    pub key_field: Option<String>,
    pub api_version: Option<String>,
    pub concurrency: Option<u32>,
    pub batch_size: Option<u32>,
    /// An admin's API domain that differs from the data centre's: used
    /// instead of the token answer's `api_domain`.
    pub api_domain: Option<Url>,
}

pub struct Zoho {
    http: Http,
    auth: OAuth,
    module: Module,
    key_field: String,
    /// `v8`.
    version: String,
    map: FieldMap,
    batch_size: usize,
    concurrency: u32,
    in_flight: Arc<Semaphore>,
    credits: credits::Credits,
    api_domain: Option<Url>,
    /// The module's fields as last fetched (`metadata.rs`).
    fields: tokio::sync::Mutex<Option<(tokio::time::Instant, Arc<metadata::Fields>)>>,
    /// When the set-up (user, key field, module) was last found sound.
    setup_checked: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

/// An answer, its body read.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub call: CallInfo,
}

#[derive(Deserialize)]
struct Rows {
    #[serde(default)]
    data: Vec<Map<String, Value>>,
    #[serde(default)]
    info: Info,
}

#[derive(Deserialize, Default)]
struct Info {
    #[serde(default)]
    more_records: bool,
    #[serde(default)]
    next_page_token: Option<String>,
}

impl Zoho {
    pub fn new(auth: OAuth, options: Options, map: FieldMap, http: Http) -> Self {
        let concurrency = options
            .concurrency
            .unwrap_or(DEFAULT_CONCURRENCY)
            .clamp(1, 100);
        Zoho {
            http,
            auth,
            module: options.module,
            key_field: options
                .key_field
                .unwrap_or_else(|| DEFAULT_KEY_FIELD.to_owned()),
            version: options
                .api_version
                .as_deref()
                .and_then(api_version_ok)
                .unwrap_or_else(|| format!("v{DEFAULT_API_VERSION}")),
            map,
            batch_size: options
                .batch_size
                .map_or(MAX_BATCH, |b| b as usize)
                .clamp(1, MAX_BATCH),
            concurrency,
            in_flight: Arc::new(Semaphore::new(concurrency as usize)),
            credits: credits::Credits::default(),
            api_domain: options.api_domain,
            fields: tokio::sync::Mutex::new(None),
            setup_checked: tokio::sync::Mutex::new(None),
        }
    }

    /// Tokens this connector minted (one process; tests).
    pub async fn tokens_minted(&self) -> u64 {
        self.auth.minted().await
    }

    fn module_name(&self) -> &'static str {
        self.module.name()
    }

    fn url(&self, domain: &Url, path: &str) -> Url {
        let base = self.api_domain.as_ref().unwrap_or(domain);
        crate::crm::http::join(base, &format!("crm/{}/{path}", self.version))
    }

    /// Sends under the concurrency limit and the credits, with
    /// `Authorization: Zoho-oauthtoken`; renews the token once on
    /// `INVALID_TOKEN`; a 429 holds every request (a short wait inside the
    /// request, a longer one fails it as transient) and `LIMIT_EXCEEDED`
    /// holds the queue. Other answers come back as they are.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> Result<Answer, ConnectorError> {
        let mut session = self.auth.session(&self.http).await?;
        let mut renewed = false;
        let mut busy = 0;
        loop {
            self.credits.take()?;
            let mut url = self.url(&session.api_domain, path);
            if !query.is_empty() {
                url.query_pairs_mut()
                    .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
            }
            let mut r = self
                .http
                .client()
                .request(method.clone(), url)
                .header(
                    "Authorization",
                    format!("Zoho-oauthtoken {}", session.token.expose()),
                )
                .header("Accept", "application/json");
            for (name, value) in headers {
                r = r.header(*name, value);
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            let permit = self.in_flight.acquire().await.expect("never closed");
            let timed = self.http.send(r).await?;
            let call = timed.call_info(&["x-request-id", "x-zoho-request-id"]);
            let status = timed.response.status().as_u16();
            let remaining = timed
                .response
                .headers()
                .get(credits::HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = body_or_empty(timed.response).await;
            drop(permit);
            self.credits.observe(remaining.as_deref());
            if (200..300).contains(&status) {
                self.credits.answered();
                return Ok(Answer {
                    status,
                    body: bytes,
                    call,
                });
            }
            let e = errors::parse(&bytes);
            if status == 401 && e.code == errors::code::INVALID_TOKEN && !renewed {
                session = self.auth.renew(&self.http, &session).await?;
                renewed = true;
                continue;
            }
            if e.code == errors::code::LIMIT_EXCEEDED {
                return Err(self.credits.exhausted());
            }
            if status == 429 || e.code == errors::code::TOO_MANY_REQUESTS {
                let wait = self.credits.busy();
                self.http.throttle().pause_for(wait).await;
                if wait <= credits::SHORT_HOLD && busy < 3 {
                    busy += 1;
                    continue;
                }
                return Err(credits::too_busy(wait));
            }
            return Ok(Answer {
                status,
                body: bytes,
                call,
            });
        }
    }

    /// An answer's failure as the connector reports it.
    fn failure(&self, a: &Answer) -> ConnectorError {
        errors::request_error(a.status, &errors::parse(&a.body), self.module_name())
    }

    /// A read's rows; 204 (nothing) is none, a failure is classified.
    async fn rows(
        &self,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&'static str, String)],
    ) -> Result<Option<Rows>, ConnectorError> {
        let a = self.send(Method::GET, path, query, None, headers).await?;
        match a.status {
            204 => Ok(None),
            200..=299 => parse_json(&a.body, "Zoho records").map(Some),
            _ => Err(self.failure(&a)),
        }
    }

    fn remote(&self, row: &Map<String, Value>) -> Option<RemoteCustomer> {
        mapping::remote(row, &self.key_field, &self.map)
    }

    fn read_fields(&self) -> String {
        mapping::fields(&self.map, &self.key_field, &[])
    }

    /// One upsert request of up to 100 records.
    async fn upsert(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        // Attributes are named in lower case; Zoho's API names are not.
        let names = match batch.iter().any(|o| !o.customer.attributes.is_empty()) {
            true => Some(self.module_fields().await?),
            false => None,
        };
        let records: Vec<Value> = batch
            .iter()
            .map(|o| {
                let r = mapping::record(&o.customer, &self.map, self.module, &self.key_field);
                Value::Object(match &names {
                    Some(n) => r.into_iter().map(|(k, v)| (n.api_name(&k), v)).collect(),
                    None => r,
                })
            })
            .collect();
        let body = json!({
            "data": records,
            "duplicate_check_fields": [self.key_field],
            "trigger": [],
        });
        let path = format!("{}/upsert", self.module_name());
        let a = self
            .send(Method::POST, &path, &[], Some(&body), &[])
            .await?;
        #[derive(Deserialize)]
        struct Results {
            data: Vec<Value>,
        }
        // 200, 201, 207 and 400 carry one result per record.
        let results = match parse_json::<Results>(&a.body, "upsert answer") {
            Ok(r) if matches!(a.status, 200..=299 | 400) => r.data,
            _ => return Err(self.failure(&a)),
        };
        if results.len() != batch.len() {
            return Err(ConnectorError::Protocol(format!(
                "{} results for {} records",
                results.len(),
                batch.len()
            )));
        }
        let mut out = Vec::with_capacity(batch.len());
        for r in results {
            let outcome = self.outcome(a.status, &r)?;
            out.push(Delivery {
                outcome,
                call: a.call.clone(),
            });
        }
        Ok(out)
    }

    /// One record's result; a problem only an admin can fix (permission,
    /// scope) fails the whole request, so the queue pauses.
    fn outcome(&self, status: u16, r: &Value) -> Result<RecordOutcome, ConnectorError> {
        let e: errors::ApiError = serde_json::from_value(r.clone()).unwrap_or_default();
        if e.code == errors::code::SUCCESS {
            let id = match e.details.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Ok(RecordOutcome::Failed(ConnectorError::Protocol(
                        "a successful record without an id".into(),
                    )))
                }
            };
            let version = e
                .details
                .get(mapping::MODIFIED)
                .and_then(Value::as_str)
                .map(str::to_owned);
            return Ok(RecordOutcome::Delivered {
                crm_id: id,
                version,
            });
        }
        if errors::is_record_refusal(&e) {
            return Ok(RecordOutcome::Rejected(errors::record_error(
                &self.map,
                &self.key_field,
                self.module_name(),
                &e,
            )));
        }
        match errors::request_error(status, &e, self.module_name()) {
            err @ ConnectorError::Queue(_) => Err(err),
            other => Ok(RecordOutcome::Failed(other)),
        }
    }

    /// The record holding `key` in the key field, by a search criteria.
    async fn find_by_key(
        &self,
        key: CustomerId,
    ) -> Result<Option<Map<String, Value>>, ConnectorError> {
        let criteria = mapping::criteria_equals(&self.key_field, &key.to_string())
            .ok_or_else(|| ConnectorError::Protocol(format!("key field {:?}", self.key_field)))?;
        let path = format!("{}/search", self.module_name());
        let rows = self
            .rows(
                &path,
                &[
                    ("criteria", criteria),
                    ("fields", self.read_fields()),
                    ("per_page", "2".into()),
                ],
                &[],
            )
            .await?;
        Ok(rows.and_then(|r| r.data.into_iter().next()))
    }
}

#[async_trait]
impl CrmConnector for Zoho {
    fn kind(&self) -> &'static str {
        "zoho"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: self.batch_size,
            // Zoho limits requests in flight, not per second: a round
            // carries a request's worth for every slot.
            requests_at_once: self.concurrency as usize,
            upsert_by_external_id: true,
            // Credits and concurrency, not a window: `credits.rs` keeps them.
            rate_limit: None,
            updates: true,
        }
    }

    fn api_budget(&self) -> Option<ApiBudget> {
        Some(self.credits.left())
    }

    fn device_usage(&self) -> Option<DeviceUsage> {
        Some(self.credits.device_usage())
    }

    fn restore_device_usage(&self, usage: &DeviceUsage) {
        self.credits.restore(usage);
    }

    /// The sign-in and the set-up (`metadata.rs`).
    async fn probe(&self) -> Result<(), ConnectorError> {
        self.check_setup().await
    }

    async fn setup_notes(&self) -> Result<Vec<String>, ConnectorError> {
        self.notes().await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        // An upsert by key is safe to repeat: earlier attempts need no look-up.
        let chunks: Vec<&[Outgoing]> = batch.chunks(self.batch_size).collect();
        // A request that failed as a whole (offline, busy, credits gone)
        // would fail the same way for the chunks not yet sent: they wait.
        let stopped: std::sync::Mutex<Option<ConnectorError>> = Default::default();
        let results = crate::crm::http::concurrently(&chunks, self.concurrency as usize, |c| {
            let stopped = &stopped;
            async move {
                let earlier = stopped.lock().expect("not poisoned").clone();
                if let Some(e) = earlier {
                    return Err(e);
                }
                let r = self.upsert(c).await;
                if let Err(e) = &r {
                    stopped
                        .lock()
                        .expect("not poisoned")
                        .get_or_insert_with(|| e.clone());
                }
                r
            }
        })
        .await;
        // When every request failed the round failed (offline, credits
        // gone: the queue waits); otherwise the records of a failed request
        // fail on their own and the delivered ones are not sent again.
        if results.iter().all(Result::is_err) {
            if let Some(Err(e)) = results.into_iter().next() {
                return Err(e);
            }
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(batch.len());
        for (chunk, r) in chunks.iter().zip(results) {
            match r {
                Ok(deliveries) => out.extend(deliveries),
                Err(e) => out.extend(chunk.iter().map(|_| Delivery {
                    outcome: RecordOutcome::Failed(e.clone()),
                    call: CallInfo::default(),
                })),
            }
        }
        Ok(out)
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_record(update).await
    }

    /// Read and merged one by one, written in bulk (`PUT {Module}`).
    async fn update_batch(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        self.update_records(updates).await
    }

    async fn form(&self) -> Result<Option<CrmForm>, ConnectorError> {
        let f = self.module_fields().await?;
        Ok(Some(f.form(&self.map, &self.key_field, self.module)))
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(Some(self.module_fields().await?.field_list(self.module)))
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        Ok(self.find_by_key(key).await?.and_then(|r| self.remote(&r)))
    }

    /// `email=` for an address, `phone=` for a number, `word=` otherwise;
    /// 204 is none.
    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let term: String = query.trim().chars().take(100).collect();
        if term.chars().count() < 2 {
            return Ok(Vec::new());
        }
        let digits = term.chars().filter(char::is_ascii_digit).count();
        let phone_like = digits >= 5
            && term
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
        let by = if term.contains('@') {
            "email"
        } else if phone_like {
            "phone"
        } else {
            "word"
        };
        let path = format!("{}/search", self.module_name());
        let query = [
            (by, term),
            ("fields", self.read_fields()),
            ("per_page", limit.clamp(1, SEARCH_LIMIT).to_string()),
        ];
        let rows = tokio::time::timeout(SEARCH_DEADLINE, self.rows(&path, &query, &[]))
            .await
            // Slow is not offline: the endpoint's state stays as it is.
            .map_err(|_| ConnectorError::Transient {
                reason: "the search in Zoho CRM took too long".into(),
                retry_after: None,
            })??;
        Ok(rows
            .map(|r| r.data.iter().filter_map(|r| self.remote(r)).collect())
            .unwrap_or_default())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_data_centres() {
        assert_eq!(api_version_ok("8").as_deref(), Some("v8"));
        assert_eq!(api_version_ok("v7").as_deref(), Some("v7"));
        assert_eq!(api_version_ok("2").as_deref(), Some("v2"));
        for bad in ["3", "4", "9", "8.0", "", "v"] {
            assert!(api_version_ok(bad).is_none(), "{bad}");
        }
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(accounts_host_ok(&u(
            "https://accounts.zoho.eu/oauth/v2/token"
        )));
        assert!(accounts_host_ok(&u(
            "https://accounts.zohocloud.ca/oauth/v2/token"
        )));
        assert!(accounts_host_ok(&u("http://127.0.0.1:9/oauth/v2/token")));
        assert!(!accounts_host_ok(&u(
            "https://accounts.zoho.evil.example/oauth/v2/token"
        )));
        assert!(!accounts_host_ok(&u(
            "http://accounts.zoho.com/oauth/v2/token"
        )));
        assert_eq!(
            default_api_domain(&u("https://accounts.zoho.com.au/oauth/v2/token")).as_deref(),
            Some("https://www.zohoapis.com.au")
        );
        assert_eq!(
            default_api_domain(&u("https://accounts.zoho.sa/oauth/v2/token")).as_deref(),
            Some("https://www.zohoapis.sa")
        );
        assert_eq!(
            default_api_domain(&u("http://127.0.0.1:8080/oauth/v2/token")).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert!(default_api_domain(&u("https://id.example.com/token")).is_none());
    }
}
