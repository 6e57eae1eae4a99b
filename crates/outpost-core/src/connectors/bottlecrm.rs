//! BottleCRM (the open-source `django-crm`), a CRM with no upsert: the client
//! cannot choose the record id and custom fields are not unique. Outpost's key
//! goes into a `client_uuid` custom field; before re-creating a customer whose
//! earlier attempt may have reached the server, the connector looks the key
//! up. The remaining race is documented in docs/connectors/bottlecrm.md.
//!
//! Its quirks, handled on purpose: 200 (not 201) on create; 403 (not 401) for
//! a bad or revoked token; HTML error pages on 404/500 (classified by status,
//! never parsed); `Connection: close` on every response.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use super::http::{Http, Timed};
use crate::customer::{Customer, CustomerId};
use crate::sensitive::Sensitive;
use crate::sync::connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Outgoing, Page, PullFilter, RateLimit,
    RecordOutcome, RemoteCustomer,
};
use crate::sync::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};

/// Measured ceiling: ~20 creates/s sequential, ~34/s with 4 in flight.
const IN_FLIGHT: usize = 4;
const MAX_BATCH: usize = 20;
pub const KEY_FIELD: &str = "client_uuid";
const PAGE: usize = 100;
/// Placeholder for the name BottleCRM requires but the customer lacks.
pub const MISSING_NAME: &str = "-";
const DUPLICATE_EMAIL: &str = "already exists with this email";

pub struct BottleCrm {
    http: Http,
    base: Url,
    token: Sensitive<String>,
}

#[derive(Debug, Deserialize)]
struct ContactList {
    #[serde(default)]
    results: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
struct Contact {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    organization: Option<String>,
    city: Option<String>,
    country: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    custom_fields: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Duplicates {
    #[serde(default)]
    duplicates: Vec<Duplicate>,
}

#[derive(Debug, Deserialize)]
struct Duplicate {
    id: String,
}

impl BottleCrm {
    pub fn new(base: Url, token: Sensitive<String>, http: Http) -> Self {
        BottleCrm { http, base, token }
    }

    pub fn default_rate_limit() -> Option<RateLimit> {
        None
    }

    fn url(&self, path: &str) -> Url {
        super::http::join(&self.base, path)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Timed, ConnectorError> {
        let mut r = self
            .http
            .client()
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            r = r.json(b);
        }
        self.http.send(r).await
    }

    async fn list(&self, url: Url) -> Result<Vec<Contact>, ConnectorError> {
        let timed = self.send(Method::GET, url, None).await?;
        if !timed.response.status().is_success() {
            return Err(error_for(timed).await);
        }
        let list: ContactList = timed
            .response
            .json()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable contact list: {e}")))?;
        Ok(list.results)
    }

    /// The contact carrying this key, if the server has one.
    async fn find_by_key(&self, key: CustomerId) -> Result<Option<String>, ConnectorError> {
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut()
            .append_pair(&format!("cf_{KEY_FIELD}"), &key.to_string())
            .append_pair("limit", "2");
        let found = self.list(url).await?;
        // The filter is on a custom field; check the value ourselves too.
        Ok(found
            .into_iter()
            .find(|c| key_of(c) == Some(key))
            .map(|c| c.id))
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<String>, ConnectorError> {
        let timed = self
            .send(
                Method::POST,
                self.url("api/contacts/duplicates/"),
                Some(&json!({ "email": email })),
            )
            .await?;
        if !timed.response.status().is_success() {
            return Err(error_for(timed).await);
        }
        let d: Duplicates =
            timed.response.json().await.map_err(|e| {
                ConnectorError::Protocol(format!("unreadable duplicates answer: {e}"))
            })?;
        Ok(d.duplicates.into_iter().next().map(|d| d.id))
    }

    async fn deliver(&self, o: &Outgoing) -> Delivery {
        match self.try_deliver(o).await {
            Ok(d) => d,
            Err(e) => Delivery {
                outcome: RecordOutcome::Failed(e),
                call: CallInfo::default(),
            },
        }
    }

    async fn try_deliver(&self, o: &Outgoing) -> Result<Delivery, ConnectorError> {
        let c = &o.customer;
        let ambiguous_before = o.earlier_attempts > 0;
        if ambiguous_before {
            if let Some(id) = self.find_by_key(c.id).await? {
                return Ok(delivered(id, CallInfo::default()));
            }
        }
        let timed = self
            .send(Method::POST, self.url("api/contacts/"), Some(&body(c)))
            .await?;
        let call = call_info(&timed);
        let status = timed.response.status().as_u16();
        match status {
            200 | 201 => {
                let created: Created = timed.response.json().await.map_err(|e| {
                    ConnectorError::Protocol(format!("unreadable create answer: {e}"))
                })?;
                Ok(delivered(created.id, call))
            }
            400 => {
                let body: Value = timed.response.json().await.unwrap_or(Value::Null);
                let problem = field_error(&body);
                let duplicate_email = problem
                    .as_ref()
                    .is_some_and(|(f, m)| f == "email" && m.contains(DUPLICATE_EMAIL));
                if duplicate_email && ambiguous_before {
                    // Probably our own earlier attempt, stored before its
                    // answer was lost: link to it rather than fail.
                    if let Some(id) = self.find_by_key(c.id).await? {
                        return Ok(delivered(id, call));
                    }
                    if let Some(id) = self
                        .find_by_email(c.email.as_deref().unwrap_or_default())
                        .await?
                    {
                        return Ok(delivered(id, call));
                    }
                }
                let (field, message) = problem.unwrap_or_else(|| {
                    ("".into(), format!("BottleCRM refused the contact: {body}"))
                });
                let message = if duplicate_email {
                    "BottleCRM already has a contact with this email. Open that contact instead, or correct the email.".into()
                } else {
                    message
                };
                Ok(Delivery {
                    outcome: RecordOutcome::Rejected(RecordError {
                        message,
                        field: (!field.is_empty()).then_some(field),
                    }),
                    call,
                })
            }
            _ => Err(error_for(timed).await),
        }
    }

    async fn check_key_field(&self) -> Result<(), ConnectorError> {
        let mut url = self.url("api/custom-fields/");
        url.query_pairs_mut().append_pair("target_model", "Contact");
        let timed = self.send(Method::GET, url, None).await?;
        if !timed.response.status().is_success() {
            return match error_for(timed).await {
                // Tokens made for syncing often lack custom-fields:read; the
                // check is a courtesy, not a reason to stop the queue.
                ConnectorError::Queue(QueueProblem::Forbidden(why))
                    if why.contains("custom-fields") =>
                {
                    tracing::info!(
                        "cannot list BottleCRM custom fields ({why}); not checking for {KEY_FIELD}"
                    );
                    Ok(())
                }
                other => Err(other),
            };
        }
        let body: Value = timed.response.json().await.unwrap_or(Value::Null);
        let fields = body
            .get("results")
            .or_else(|| body.get("custom_fields"))
            .unwrap_or(&body);
        let has_key = fields.as_array().is_some_and(|a| {
            a.iter().any(|f| {
                f.get("key").and_then(Value::as_str) == Some(KEY_FIELD)
                    && f.get("target_model")
                        .and_then(Value::as_str)
                        .is_none_or(|m| m.eq_ignore_ascii_case("contact"))
            })
        });
        if has_key {
            Ok(())
        } else {
            Err(ConnectorError::Queue(QueueProblem::Misconfigured(format!(
                "BottleCRM has no \"{KEY_FIELD}\" custom field on contacts, which Outpost needs to avoid duplicates. \
                 Create it (Settings → Custom fields → Contact, key \"{KEY_FIELD}\", type text, filterable) or with \
                 POST /api/custom-fields/ {{\"target_model\":\"Contact\",\"key\":\"{KEY_FIELD}\",\"label\":\"Client UUID\",\
                 \"field_type\":\"text\",\"is_filterable\":true}}."
            ))))
        }
    }
}

fn delivered(crm_id: String, call: CallInfo) -> Delivery {
    Delivery {
        outcome: RecordOutcome::Delivered { crm_id },
        call,
    }
}

fn key_of(c: &Contact) -> Option<CustomerId> {
    c.custom_fields
        .as_ref()?
        .get(KEY_FIELD)?
        .as_str()?
        .parse()
        .ok()
}

/// BottleCRM requires both names. A missing one becomes "-"; a customer with
/// only a company is stored as "-" + the company name, the company also in
/// `organization`.
fn body(c: &Customer) -> Value {
    let (first, last) = match (&c.first_name, &c.last_name, &c.company) {
        (Some(f), Some(l), _) => (f.clone(), l.clone()),
        (Some(f), None, _) => (f.clone(), MISSING_NAME.into()),
        (None, Some(l), _) => (MISSING_NAME.into(), l.clone()),
        (None, None, Some(company)) => (MISSING_NAME.into(), company.clone()),
        (None, None, None) => (MISSING_NAME.into(), MISSING_NAME.into()),
    };
    let mut m = Map::new();
    m.insert("first_name".into(), json!(first));
    m.insert("last_name".into(), json!(last));
    for (k, v) in [
        ("email", &c.email),
        ("phone", &c.phone),
        ("organization", &c.company),
        ("address_line", &c.street),
        ("city", &c.city),
        ("postcode", &c.postal_code),
        ("country", &c.country),
        ("description", &c.notes),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    m.insert(
        "custom_fields".into(),
        json!({ KEY_FIELD: c.id.to_string() }),
    );
    Value::Object(m)
}

/// The first `{"errors": {field: [message]}}` entry, with BottleCRM's field
/// names mapped to Outpost's.
fn field_error(body: &Value) -> Option<(String, String)> {
    let errors = body.get("errors")?.as_object()?;
    let (field, msgs) = errors.iter().next()?;
    let message = match msgs {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let field = match field.as_str() {
        "organization" => "company",
        "address_line" => "street",
        "postcode" => "postal_code",
        "description" => "notes",
        other => other,
    };
    Some((field.to_owned(), message))
}

fn call_info(t: &Timed) -> CallInfo {
    CallInfo {
        status: Some(t.response.status().as_u16()),
        duration: t.elapsed,
        request_id: None,
    }
}

/// Classified by status; a body is read only when it is JSON (BottleCRM
/// answers 404 and 500 with HTML pages).
async fn error_for(timed: Timed) -> ConnectorError {
    let status = timed.response.status().as_u16();
    let retry_after = parse_retry_after(timed.response.headers().get(reqwest::header::RETRY_AFTER));
    let is_json = timed
        .response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let detail = if is_json {
        timed
            .response
            .json::<Value>()
            .await
            .ok()
            .and_then(|b| b.get("detail").and_then(Value::as_str).map(str::to_owned))
    } else {
        None
    };
    let reason = detail.unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        // A bad, revoked or missing token is a 403 here, not a 401.
        403 if reason.contains("scope") => ConnectorError::Queue(QueueProblem::Forbidden(reason)),
        403 => ConnectorError::Queue(QueueProblem::Unauthorized(reason)),
        _ => classify_status(status, reason, retry_after),
    }
}

impl From<Contact> for RemoteCustomer {
    fn from(c: Contact) -> Self {
        let name = |n: Option<String>| n.filter(|n| n != MISSING_NAME && !n.is_empty());
        RemoteCustomer {
            key: key_of(&c),
            crm_id: c.id,
            first_name: name(c.first_name),
            last_name: name(c.last_name),
            company: c.organization,
            email: c.email,
            phone: c.phone,
            city: c.city,
            country: c.country,
            updated_at: c.updated_at,
        }
    }
}

#[async_trait]
impl CrmConnector for BottleCrm {
    fn kind(&self) -> &'static str {
        "bottlecrm"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: MAX_BATCH,
            upsert_by_external_id: false,
            rate_limit: Self::default_rate_limit(),
        }
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut().append_pair("limit", "1");
        self.list(url).await?;
        self.check_key_field().await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(IN_FLIGHT) {
            out.extend(join_all(chunk.iter().map(|o| self.deliver(o))).await);
        }
        Ok(out)
    }

    async fn get(&self, key: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut()
            .append_pair(&format!("cf_{KEY_FIELD}"), &key.to_string())
            .append_pair("limit", "2");
        Ok(self
            .list(url)
            .await?
            .into_iter()
            .find(|c| key_of(c) == Some(key))
            .map(RemoteCustomer::from))
    }

    async fn search(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut()
            .append_pair("search", query)
            .append_pair("limit", &limit.clamp(1, PAGE).to_string());
        Ok(self
            .list(url)
            .await?
            .into_iter()
            .map(RemoteCustomer::from)
            .collect())
    }

    /// BottleCRM has no modified-since filter: pages newest-created first
    /// (`offset` as the cursor) until past `since`. Updates made in BottleCRM
    /// to older contacts are not seen.
    async fn list_modified_since(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        let offset: usize = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut()
            .append_pair("limit", &PAGE.to_string())
            .append_pair("offset", &offset.to_string());
        let items: Vec<RemoteCustomer> = self
            .list(url)
            .await?
            .into_iter()
            .map(RemoteCustomer::from)
            .collect();
        let full = items.len() == PAGE;
        let past_cutoff =
            since.is_some_and(|s| items.iter().any(|i| i.updated_at.is_some_and(|u| u < s)));
        // Its API has no country filter: the page is filtered here.
        let items = match &filter.country {
            Some(country) => items
                .into_iter()
                .filter(|i| {
                    i.country
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(country))
                })
                .collect(),
            None => items,
        };
        Ok(Page {
            next: (full && !past_cutoff).then(|| (offset + PAGE).to_string()),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(first: Option<&str>, last: Option<&str>, company: Option<&str>) -> Customer {
        let now = Utc::now();
        Customer {
            id: CustomerId(uuid::Uuid::now_v7()),
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            company: company.map(Into::into),
            email: None,
            phone: None,
            street: None,
            city: None,
            postal_code: None,
            country: None,
            tax_id: None,
            notes: None,
            crm_id: None,
            sync_state: crate::SyncState::Pending,
            created_at: now,
            updated_at: now,
            origin: Default::default(),
            attributes: Default::default(),
            crm_updated_at: None,
            crm_version: None,
        }
    }

    #[test]
    fn both_names_are_always_sent() {
        let b = body(&customer(None, None, Some("Acme GmbH")));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("-"), Some("Acme GmbH"))
        );
        assert_eq!(b["organization"], "Acme GmbH");
        let b = body(&customer(Some("Ada"), None, None));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("Ada"), Some("-"))
        );
        let b = body(&customer(None, Some("Curie"), None));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("-"), Some("Curie"))
        );
    }

    #[test]
    fn field_errors_name_outpost_fields() {
        let e = json!({"error": true, "errors": {"phone": ["Enter a valid phone number (7-25 characters, digits and separators only)"]}});
        let (f, m) = field_error(&e).unwrap();
        assert_eq!(f, "phone");
        assert!(m.starts_with("Enter a valid phone number"));
    }
}
