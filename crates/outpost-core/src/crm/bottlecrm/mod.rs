//! BottleCRM (the open-source `django-crm`), a CRM with no upsert: the client
//! cannot choose the record id and custom fields are not unique. Outpost's key
//! goes into a `client_uuid` custom field; before re-creating a customer whose
//! earlier attempt may have reached the server, the connector looks the key
//! up. The remaining race is documented in docs/connectors/bottlecrm.md.
//!
//! Its quirks, handled on purpose: 200 (not 201) on create; 403 (not 401) for
//! a bad or revoked token; HTML error pages on 404/500 (classified by status,
//! never parsed); `Connection: close` on every response.

mod update;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::crm::connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Outgoing, OutgoingUpdate, Page, PullFilter,
    RateLimit, RecordOutcome, RemoteCustomer, UpdateOutcome,
};
use crate::crm::error::{
    classify_status, parse_retry_after, ConnectorError, QueueProblem, RecordError,
};
use crate::crm::field_check::{CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::crm::http::{body_or_empty, concurrently, parse_json, Http, Timed};
use crate::customer::{Customer, CustomerId, Field};
use crate::sensitive::Sensitive;

/// Measured ceiling: ~20 creates/s sequential, ~34/s with 4 in flight.
const IN_FLIGHT: usize = 4;
pub const MAX_BATCH: usize = 20;
pub const KEY_FIELD: &str = "client_uuid";
const PAGE: usize = 100;
/// Placeholder for the name BottleCRM requires but the customer lacks.
pub const MISSING_NAME: &str = "-";
const DUPLICATE_EMAIL: &str = "already exists with this email";

pub struct BottleCrm {
    http: Http,
    base: Url,
    token: Sensitive<String>,
    map: FieldMap,
}

/// Outpost's fields as BottleCRM's contact fields. Street, postal code and
/// notes are sent; its listing does not return them.
pub const DEFAULT_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "first_name", Conversion::Text),
    MapEntry::both(Field::LastName, "last_name", Conversion::Text),
    MapEntry::both(Field::Company, "organization", Conversion::Text),
    MapEntry::both(Field::Email, "email", Conversion::Email),
    MapEntry::both(Field::Phone, "phone", Conversion::PhoneAsTyped),
    MapEntry::send(Field::Street, "address_line", Conversion::Text),
    MapEntry::both(Field::City, "city", Conversion::Text),
    MapEntry::send(Field::PostalCode, "postcode", Conversion::Text),
    MapEntry::both(Field::Country, "country", Conversion::CountryCode),
    MapEntry::send(Field::Notes, "description", Conversion::Text),
];

/// BottleCRM's contact fields (its `ContactSerializer`, 1.35): fixed, so
/// they are listed here rather than asked for. Its per-org custom fields
/// travel in a nested `custom_fields` object the map does not write.
const CONTACT_FIELDS: &[(&str, &str, CrmFieldType, bool)] = &[
    ("first_name", "First name", CrmFieldType::Text, true),
    ("last_name", "Last name", CrmFieldType::Text, true),
    ("email", "Email", CrmFieldType::Email, true),
    ("phone", "Phone", CrmFieldType::Phone, true),
    ("organization", "Company", CrmFieldType::Text, true),
    ("title", "Job title", CrmFieldType::Text, true),
    ("department", "Department", CrmFieldType::Text, true),
    ("source", "Source", CrmFieldType::Text, true),
    ("source_detail", "Source detail", CrmFieldType::Text, true),
    ("source_ref", "Source reference", CrmFieldType::Text, true),
    ("linkedin_url", "LinkedIn URL", CrmFieldType::Text, true),
    ("address_line", "Address", CrmFieldType::Text, true),
    ("city", "City", CrmFieldType::Text, true),
    ("state", "State", CrmFieldType::Text, true),
    ("postcode", "Postal code", CrmFieldType::Text, true),
    ("country", "Country", CrmFieldType::Picklist, true),
    ("description", "Notes", CrmFieldType::Multiline, true),
    ("do_not_call", "Do not call", CrmFieldType::Boolean, true),
    ("is_active", "Active", CrmFieldType::Boolean, true),
    ("phone_e164", "Phone (E.164)", CrmFieldType::Phone, false),
    ("created_at", "Created", CrmFieldType::DateTime, false),
    ("updated_at", "Updated", CrmFieldType::DateTime, false),
];

fn field_list() -> FieldList {
    FieldList {
        crm: "BottleCRM".into(),
        noun: "contact field".into(),
        fixed: true,
        fields: CONTACT_FIELDS
            .iter()
            .map(|&(name, label, kind, writable)| CrmField {
                name: name.into(),
                label: label.into(),
                kind,
                writable,
                options: Vec::new(),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize)]
struct ContactList {
    #[serde(default)]
    results: Vec<Contact>,
}

/// A contact as BottleCRM lists it: the map reads the fields by name.
#[derive(Debug, Deserialize)]
struct Contact {
    id: String,
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    custom_fields: Option<Map<String, Value>>,
    #[serde(flatten)]
    fields: Map<String, Value>,
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
    pub fn new(base: Url, token: Sensitive<String>, map: FieldMap, http: Http) -> Self {
        BottleCrm {
            http,
            base,
            token,
            map,
        }
    }

    pub fn default_rate_limit() -> Option<RateLimit> {
        None
    }

    fn url(&self, path: &str) -> Url {
        crate::crm::http::join(&self.base, path)
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
        let body = timed
            .response
            .bytes()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable {CONTACT_LIST}: {e}")))?;
        contacts(&body)
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
        let body = timed
            .response
            .bytes()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable {DUPLICATES}: {e}")))?;
        first_duplicate(&body)
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
            .send(
                Method::POST,
                self.url("api/contacts/"),
                Some(&body(c, &self.map)),
            )
            .await?;
        let call = call_info(&timed);
        let status = timed.response.status().as_u16();
        match status {
            200 | 201 => {
                let body =
                    timed.response.bytes().await.map_err(|e| {
                        ConnectorError::Protocol(format!("unreadable {CREATED}: {e}"))
                    })?;
                Ok(delivered(created_id(&body)?, call))
            }
            400 => {
                let refusal = refusal(&body_or_empty(timed.response).await, &self.map);
                if refusal.duplicate_email && ambiguous_before {
                    // Probably our own earlier attempt, stored before its
                    // answer was lost: link to it rather than fail.
                    if let Some(id) = self.find_by_key(c.id).await? {
                        return Ok(delivered(id, call));
                    }
                    if let Some(id) = self
                        .find_by_email(c.fields.email.as_deref().unwrap_or_default())
                        .await?
                    {
                        return Ok(delivered(id, call));
                    }
                }
                Ok(Delivery {
                    outcome: RecordOutcome::Rejected(refusal.error),
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
        if has_key_field(&body_or_empty(timed.response).await) {
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

/// What unparsable bodies are called in the protocol errors.
const CONTACT_LIST: &str = "contact list";
const DUPLICATES: &str = "duplicates answer";
const CREATED: &str = "create answer";

/// `GET /api/contacts/`'s contacts.
fn contacts(body: &[u8]) -> Result<Vec<Contact>, ConnectorError> {
    parse_json::<ContactList>(body, CONTACT_LIST).map(|l| l.results)
}

/// [`contacts`] as the map reads them, each with the key it carries.
pub(crate) fn contact_list(
    body: &[u8],
    map: &FieldMap,
) -> Result<Vec<RemoteCustomer>, ConnectorError> {
    Ok(contacts(body)?
        .into_iter()
        .map(|c| c.into_remote(map))
        .collect())
}

/// The first contact `POST /api/contacts/duplicates/` names.
pub(crate) fn first_duplicate(body: &[u8]) -> Result<Option<String>, ConnectorError> {
    let d: Duplicates = parse_json(body, DUPLICATES)?;
    Ok(d.duplicates.into_iter().next().map(|d| d.id))
}

/// The id of a contact `POST /api/contacts/` created.
pub(crate) fn created_id(body: &[u8]) -> Result<String, ConnectorError> {
    parse_json::<Created>(body, CREATED).map(|c| c.id)
}

/// A 400 to a create: the refusal in plain words, and whether it is the
/// duplicate email that an earlier, unanswered attempt of ours may explain.
pub(crate) struct Refusal {
    pub error: RecordError,
    pub duplicate_email: bool,
}

pub(crate) fn refusal(body: &[u8], map: &FieldMap) -> Refusal {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let problem = field_error(&body, map);
    let duplicate_email = problem
        .as_ref()
        .is_some_and(|(f, m)| f == "email" && m.contains(DUPLICATE_EMAIL));
    let (field, message) =
        problem.unwrap_or_else(|| ("".into(), format!("BottleCRM refused the contact: {body}")));
    let message = if duplicate_email {
        "BottleCRM already has a contact with this email. Open that contact instead, or correct the email.".into()
    } else {
        message
    };
    Refusal {
        error: RecordError {
            message,
            field: (!field.is_empty()).then_some(field),
        },
        duplicate_email,
    }
}

/// Whether `GET /api/custom-fields/` lists the key field on contacts.
pub(crate) fn has_key_field(body: &[u8]) -> bool {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let fields = body
        .get("results")
        .or_else(|| body.get("custom_fields"))
        .unwrap_or(&body);
    fields.as_array().is_some_and(|a| {
        a.iter().any(|f| {
            f.get("key").and_then(Value::as_str) == Some(KEY_FIELD)
                && f.get("target_model")
                    .and_then(Value::as_str)
                    .is_none_or(|m| m.eq_ignore_ascii_case("contact"))
        })
    })
}

fn delivered(crm_id: String, call: CallInfo) -> Delivery {
    Delivery {
        outcome: RecordOutcome::Delivered {
            crm_id,
            version: None,
        },
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
fn body(c: &Customer, map: &FieldMap) -> Value {
    let f = &c.fields;
    let (first, last) = match (&f.first_name, &f.last_name, &f.company) {
        (Some(f), Some(l), _) => (f.clone(), l.clone()),
        (Some(f), None, _) => (f.clone(), MISSING_NAME.into()),
        (None, Some(l), _) => (MISSING_NAME.into(), l.clone()),
        (None, None, Some(company)) => (MISSING_NAME.into(), company.clone()),
        (None, None, None) => (MISSING_NAME.into(), MISSING_NAME.into()),
    };
    let mut m = map.outgoing(c);
    let crm_name = |field: Field| map.crm_field(field).unwrap_or(field.name()).to_owned();
    m.insert(crm_name(Field::FirstName), json!(first));
    m.insert(crm_name(Field::LastName), json!(last));
    m.insert(
        "custom_fields".into(),
        json!({ KEY_FIELD: c.id.to_string() }),
    );
    Value::Object(m)
}

/// The first `{"errors": {field: [message]}}` entry, with BottleCRM's field
/// names mapped to Outpost's.
fn field_error(body: &Value, map: &FieldMap) -> Option<(String, String)> {
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
    let field = map
        .outpost_field(field)
        .map_or_else(|| field.clone(), |f| f.name().to_owned());
    // An entry without words still says which field BottleCRM refused.
    let message = match message.trim() {
        "" => "BottleCRM refused this value without saying why.".to_owned(),
        _ => message,
    };
    Some((field, message))
}

fn call_info(t: &Timed) -> CallInfo {
    // BottleCRM sends no request id.
    t.call_info(&[])
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
    let body = if is_json {
        Some(body_or_empty(timed.response).await)
    } else {
        None
    };
    error_from(status, retry_after, body.as_deref())
}

/// [`error_for`] once the body is read (`None`: not JSON, not read).
pub(crate) fn error_from(
    status: u16,
    retry_after: Option<std::time::Duration>,
    json_body: Option<&[u8]>,
) -> ConnectorError {
    let detail = json_body
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|b| b.get("detail").and_then(Value::as_str).map(str::to_owned));
    let reason = detail.unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        // A bad, revoked or missing token is a 403 here, not a 401.
        403 if reason.contains("scope") => ConnectorError::Queue(QueueProblem::Forbidden(reason)),
        403 => ConnectorError::Queue(QueueProblem::Unauthorized(reason)),
        _ => classify_status(status, reason, retry_after),
    }
}

impl Contact {
    fn into_remote(self, map: &FieldMap) -> RemoteCustomer {
        let (mut fields, received) = map.incoming_json(&self.fields);
        // The placeholder for a name the customer never had.
        for name in [Field::FirstName, Field::LastName] {
            if fields.get(name) == Some(MISSING_NAME) {
                *fields.slot(name) = None;
            }
        }
        RemoteCustomer {
            key: key_of(&self),
            crm_id: self.id,
            fields,
            received,
            updated_at: self.updated_at,
            version: None,
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
            requests_at_once: 1,
            max_batch: MAX_BATCH,
            upsert_by_external_id: false,
            rate_limit: Self::default_rate_limit(),
            updates: true,
        }
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        let mut url = self.url("api/contacts/");
        url.query_pairs_mut().append_pair("limit", "1");
        self.list(url).await?;
        self.check_key_field().await
    }

    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        Ok(concurrently(batch, IN_FLIGHT, |o| self.deliver(o)).await)
    }

    async fn update(&self, update: &OutgoingUpdate) -> UpdateOutcome {
        self.update_contact(update).await
    }

    /// Each update is a read and a write; a few in flight, as for creates.
    async fn update_batch(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        concurrently(updates, IN_FLIGHT, |u| self.update_contact(u)).await
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
            .map(|c| c.into_remote(&self.map)))
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
            .map(|c| c.into_remote(&self.map))
            .collect())
    }

    async fn fields(&self) -> Result<Option<FieldList>, ConnectorError> {
        Ok(Some(field_list()))
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
            .map(|c| c.into_remote(&self.map))
            .collect();
        let full = items.len() == PAGE;
        let past_cutoff =
            since.is_some_and(|s| items.iter().any(|i| i.updated_at.is_some_and(|u| u < s)));
        // Its API has no country filter: the page is filtered here.
        let items = match &filter.country {
            Some(country) => items
                .into_iter()
                .filter(|i| {
                    i.fields
                        .country
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
            fields: crate::customer::CustomerFields {
                first_name: first.map(Into::into),
                last_name: last.map(Into::into),
                company: company.map(Into::into),
                ..Default::default()
            },
            phone_e164: None,
            crm_id: None,
            sync_state: crate::SyncState::Pending,
            created_at: now,
            updated_at: now,
            origin: Default::default(),
            attributes: Default::default(),
            crm_updated_at: None,
            crm_version: None,
            crm_version_tag: None,
            pending_edit: false,
            crm_deleted_at: None,
        }
    }

    fn body_of(c: &Customer) -> Value {
        body(c, &FieldMap::new(DEFAULT_MAP))
    }

    #[test]
    fn both_names_are_always_sent() {
        let b = body_of(&customer(None, None, Some("Acme GmbH")));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("-"), Some("Acme GmbH"))
        );
        assert_eq!(b["organization"], "Acme GmbH");
        let b = body_of(&customer(Some("Ada"), None, None));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("Ada"), Some("-"))
        );
        let b = body_of(&customer(None, Some("Curie"), None));
        assert_eq!(
            (b["first_name"].as_str(), b["last_name"].as_str()),
            (Some("-"), Some("Curie"))
        );
    }

    #[test]
    fn the_default_map_fits_the_fixed_contact_fields() {
        let problems =
            crate::crm::field_check::check(&FieldMap::new(DEFAULT_MAP), &[], &field_list());
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn field_errors_name_outpost_fields() {
        let e = json!({"error": true, "errors": {"phone": ["Enter a valid phone number (7-25 characters, digits and separators only)"]}});
        let (f, m) = field_error(&e, &FieldMap::new(DEFAULT_MAP)).unwrap();
        assert_eq!(f, "phone");
        assert!(m.starts_with("Enter a valid phone number"));
    }

    #[test]
    fn a_field_error_without_words_names_the_field() {
        let e = json!({"error": true, "errors": {"phone": ""}});
        let (f, m) = field_error(&e, &FieldMap::new(DEFAULT_MAP)).unwrap();
        assert_eq!(
            (f.as_str(), m.as_str()),
            ("phone", "BottleCRM refused this value without saying why.")
        );
    }
}
