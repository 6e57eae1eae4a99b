//! Zoho's error answers in plain words. Every error is
//! `{"code","details","message","status":"error"}`, at the top of the
//! body or per record in `{"data":[...]}`; the codes a person can act on
//! name the customer field (through the field map, backwards) and say what
//! to do, the rest keep Zoho's message.

use serde::Deserialize;
use serde_json::Value;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem, RecordError};
use crate::crm::field_map::FieldMap;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: Value,
}

impl ApiError {
    fn detail(&self, name: &str) -> Option<String> {
        match self.details.get(name)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub fn api_name(&self) -> Option<String> {
        self.detail("api_name")
    }
}

pub mod code {
    pub const SUCCESS: &str = "SUCCESS";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const AUTHENTICATION_FAILURE: &str = "AUTHENTICATION_FAILURE";
    pub const SCOPE_MISMATCH: &str = "OAUTH_SCOPE_MISMATCH";
    pub const NO_PERMISSION: &str = "NO_PERMISSION";
    pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";
    pub const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
    pub const DUPLICATE_DATA: &str = "DUPLICATE_DATA";
    pub const MANDATORY_NOT_FOUND: &str = "MANDATORY_NOT_FOUND";
    pub const INVALID_DATA: &str = "INVALID_DATA";
    pub const INVALID_MODULE: &str = "INVALID_MODULE";
    pub const INVALID_URL_PATTERN: &str = "INVALID_URL_PATTERN";
}

/// The error of an answer's body: the top-level one, else the first
/// record's (empty when unreadable).
pub fn parse(body: &[u8]) -> ApiError {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return ApiError::default();
    };
    let top = v
        .get("data")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .filter(|_| v.get("code").is_none())
        .unwrap_or(&v);
    serde_json::from_value(top.clone()).unwrap_or_default()
}

/// The customer field an API name is mapped from, else the API name.
fn shown(map: &FieldMap, api_name: &str) -> (Option<String>, String) {
    match map.outpost_field(api_name) {
        Some(f) => (
            Some(f.name().to_owned()),
            format!("{} ({api_name})", f.spec().label),
        ),
        None => (Some(api_name.to_owned()), api_name.to_owned()),
    }
}

/// Plain words for one refused record.
pub fn record_error(map: &FieldMap, key_field: &str, module: &str, e: &ApiError) -> RecordError {
    let api_name = e.api_name();
    let (field, name) = match api_name.as_deref() {
        Some(a) => shown(map, a),
        None => (None, "a field".to_owned()),
    };
    let said = &e.message;
    let message = match e.code.as_str() {
        code::DUPLICATE_DATA if api_name.as_deref() == Some(key_field) => format!(
            "Another Zoho {module} record already holds this customer's Outpost key in {key_field}: an admin must look at both ({said})"
        ),
        code::DUPLICATE_DATA => format!(
            "This customer may already exist in Zoho CRM: another {module} record has the same {name}, which Zoho keeps unique. Open that record in Zoho, or correct the customer."
        ),
        code::MANDATORY_NOT_FOUND => {
            format!("Zoho CRM requires {name}: fill it in and save again")
        }
        code::INVALID_DATA => match (e.detail("maximum_length"), e.detail("expected_data_type")) {
            (Some(max), _) => {
                format!("Too long for Zoho CRM: {name} takes at most {max} characters")
            }
            (None, Some(t)) if t == "picklist" => format!(
                "Zoho CRM does not list this value for {name}: choose one of its options"
            ),
            (None, Some(t)) => format!("Zoho CRM expects {t} in {name} ({said})"),
            (None, None) => format!("Zoho CRM refused the value of {name} ({said})"),
        },
        _ if said.is_empty() => "Zoho CRM refused the record without saying why".to_owned(),
        other => format!("Zoho CRM refused the record: {said} ({other})"),
    };
    // The key field is Outpost's, never the customer's.
    let field = field.filter(|f| f != key_field);
    RecordError { message, field }
}

/// Whether a per-record error is about the record (a person fixes the
/// customer) rather than the request or the set-up.
pub fn is_record_refusal(e: &ApiError) -> bool {
    matches!(
        e.code.as_str(),
        code::DUPLICATE_DATA | code::MANDATORY_NOT_FOUND | code::INVALID_DATA
    ) || !matches!(
        e.code.as_str(),
        code::NO_PERMISSION
            | code::SCOPE_MISMATCH
            | code::INVALID_TOKEN
            | code::AUTHENTICATION_FAILURE
            | code::LIMIT_EXCEEDED
            | code::TOO_MANY_REQUESTS
            | code::INVALID_MODULE
            | "INTERNAL_ERROR"
            | ""
    )
}

/// A request that failed as a whole: who must act.
pub fn request_error(status: u16, e: &ApiError, module: &str) -> ConnectorError {
    let said = if e.message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{} ({})", e.message, e.code)
    };
    match e.code.as_str() {
        code::INVALID_TOKEN | code::AUTHENTICATION_FAILURE => ConnectorError::Queue(QueueProblem::Unauthorized(format!(
            "Zoho refused the access token even after a new one: is the API domain the one of the account's data centre? ({said})"
        ))),
        code::SCOPE_MISMATCH => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the refresh token lacks a scope Outpost needs: generate it again with ZohoCRM.modules.{}.ALL ZohoCRM.settings.fields.READ ZohoCRM.users.READ ZohoCRM.org.READ ({said})",
            module.to_ascii_lowercase()
        ))),
        code::NO_PERMISSION => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the Zoho user's profile may not do this in {module} (Setup → Users and Control → Security Control → Profiles: create, edit and view {module}) ({said})"
        ))),
        code::INVALID_MODULE => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Zoho CRM has no module {module} for this user, or the API version does not serve it ({said})"
        ))),
        code::INVALID_URL_PATTERN => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Zoho CRM has no such API path: check the API domain and the API version ({said})"
        ))),
        code::TOO_MANY_REQUESTS => classify_status(429, said, None),
        _ => classify_status(status, said, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> FieldMap {
        FieldMap::new(super::super::mapping::CONTACTS_MAP)
    }

    #[test]
    fn refusals_name_the_customer_field() {
        let body = br#"{"data":[{"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name","json_path":"$.data[0].Last_Name"},"message":"required field not found","status":"error"}]}"#;
        let e = parse(body);
        let r = record_error(&map(), "Outpost_Key", "Contacts", &e);
        assert_eq!(r.field.as_deref(), Some("last_name"));
        assert!(
            r.message.contains("requires Last name (Last_Name)"),
            "{}",
            r.message
        );
        assert!(is_record_refusal(&e));

        let e = parse(br#"{"code":"INVALID_DATA","details":{"api_name":"First_Name","json_path":"$.data[0].First_Name","expected_data_type":"text","maximum_length":40},"message":"invalid data","status":"error"}"#);
        let r = record_error(&map(), "Outpost_Key", "Contacts", &e);
        assert_eq!(r.field.as_deref(), Some("first_name"));
        assert!(r.message.contains("at most 40 characters"), "{}", r.message);

        let e = parse(br#"{"code":"INVALID_DATA","details":{"api_name":"Lead_Source","expected_data_type":"picklist"},"message":"invalid data","status":"error"}"#);
        let r = record_error(&map(), "Outpost_Key", "Contacts", &e);
        assert_eq!(r.field.as_deref(), Some("Lead_Source"));
        assert!(
            r.message.contains("choose one of its options"),
            "{}",
            r.message
        );

        let e = parse(br#"{"code":"DUPLICATE_DATA","details":{"api_name":"Email","duplicate_record":{"id":"1"}},"message":"duplicate data","status":"error"}"#);
        let r = record_error(&map(), "Outpost_Key", "Contacts", &e);
        assert!(r.message.contains("may already exist"), "{}", r.message);
        assert_eq!(r.field.as_deref(), Some("email"));
        let e = parse(br#"{"code":"DUPLICATE_DATA","details":{"api_name":"Outpost_Key"},"message":"duplicate data","status":"error"}"#);
        let r = record_error(&map(), "Outpost_Key", "Contacts", &e);
        assert!(r.field.is_none() && r.message.contains("Outpost key"));
        assert!(
            !record_error(&map(), "Outpost_Key", "Contacts", &ApiError::default())
                .message
                .is_empty()
        );
    }

    #[test]
    fn request_errors_say_who_acts() {
        let e = parse(br#"{"code":"NO_PERMISSION","details":{},"message":"permission denied","status":"error"}"#);
        assert!(!is_record_refusal(&e));
        assert!(matches!(
            request_error(403, &e, "Contacts"),
            ConnectorError::Queue(QueueProblem::Forbidden(_))
        ));
        let e = parse(br#"{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope","status":"error"}"#);
        assert!(request_error(401, &e, "Leads")
            .to_string()
            .contains("ZohoCRM.modules.leads.ALL"));
        let e = parse(br#"{"code":"INTERNAL_ERROR","details":{},"message":"x","status":"error"}"#);
        assert!(matches!(
            request_error(500, &e, "Contacts"),
            ConnectorError::Transient { .. }
        ));
        assert!(matches!(
            request_error(400, &parse(b"not json"), "Contacts"),
            ConnectorError::Protocol(_)
        ));
    }
}
