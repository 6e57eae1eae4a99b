//! Dataverse's error answers in plain words. Every answer that is not a
//! success carries `{"error":{"code":"0x…","message":"…"}}`; the codes a
//! person can act on say what to do and name the customer field, the rest
//! keep Dataverse's own message.

use serde::Deserialize;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem, RecordError};
use crate::crm::field_map::FieldMap;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct Body {
    error: ApiError,
}

/// Codes Dataverse answers with (documented ones and the emulator's).
pub mod code {
    pub const UNKNOWN_PROPERTY: &str = "0x80060888";
    pub const TOO_LONG: &str = "0x80044331";
    pub const REQUIRED: &str = "0x80040200";
    pub const BAD_TYPE: &str = "0x80040203";
    pub const BAD_OPTION: &str = "0x8004431a";
    pub const DUPLICATE: &str = "0x80040333";
    pub const KEY_TAKEN: &str = "0x80060892";
    pub const NO_PRIVILEGE: &str = "0x80040220";
    pub const AUTH_FAILED: &str = "0x80072560";
    pub const CHANGE_TRACKING_OFF: &str = "0x80048d19";
}

/// The error of an unsuccessful answer's body (empty when unreadable).
pub fn parse(body: &[u8]) -> ApiError {
    serde_json::from_slice::<Body>(body)
        .map(|b| b.error)
        .unwrap_or_default()
}

/// The column an error message names in single quotes
/// (`Could not find a property named 'x' on type …`), else the first
/// mapped column the message mentions.
fn column(map: &FieldMap, e: &ApiError, key_property: &str) -> Option<String> {
    let quoted = e.message.split('\'').nth(1).map(str::to_ascii_lowercase);
    let named = quoted.filter(|q| super::odata::is_name(q)).or_else(|| {
        map.mappings()
            .iter()
            .map(|m| m.crm.clone())
            .find(|c| e.message.contains(c.as_str()))
    });
    named.filter(|n| n != key_property)
}

/// The Outpost field a column maps to (for messages), else the column.
fn outpost_field(map: &FieldMap, crm: &str) -> String {
    map.outpost_field(crm)
        .map_or_else(|| crm.to_owned(), |f| f.name().to_owned())
}

/// Plain words for one refused record, naming the customer field.
pub fn record_error(map: &FieldMap, key_property: &str, status: u16, e: &ApiError) -> RecordError {
    let col = column(map, e, key_property);
    let field = col.as_deref().map(|c| outpost_field(map, c));
    let said = &e.message;
    let shown = col.as_deref().unwrap_or("a column");
    let message = match e.code.as_str() {
        code::REQUIRED => format!("Dynamics requires {shown}: fill it in and save again ({said})"),
        code::TOO_LONG => format!("Too long for Dynamics: {said}"),
        code::UNKNOWN_PROPERTY => format!(
            "Dynamics has no column {shown} on contacts ({said}); an admin must check the field map"
        ),
        code::BAD_OPTION => format!(
            "Dynamics does not list this value for {shown}: choose one of its options ({said})"
        ),
        code::BAD_TYPE => format!("Dynamics expects another kind of value for {shown} ({said})"),
        code::DUPLICATE => "This customer may already exist in Dynamics: a duplicate detection rule matched another contact. Open the existing contact in Dynamics, or correct the customer; an admin can turn duplicate detection off (setting duplicate_detection).".to_owned(),
        code::KEY_TAKEN => format!(
            "Another Dynamics contact already holds this customer's Outpost key in {key_property}: an admin must look at both ({said})"
        ),
        _ if said.is_empty() => format!("Dynamics refused the record (HTTP {status}) without saying why"),
        _ => format!("Dynamics refused the record: {said} ({})", e.code),
    };
    RecordError { message, field }
}

/// Whether an operation's refusal is about the record (a person fixes the
/// customer) rather than the request or the setup.
pub fn is_record_refusal(status: u16, e: &ApiError) -> bool {
    // The key's own setup shares the bad-argument code with a wrong type.
    if mentions_key_setup(e) {
        return false;
    }
    matches!(
        e.code.as_str(),
        code::REQUIRED
            | code::TOO_LONG
            | code::UNKNOWN_PROPERTY
            | code::BAD_OPTION
            | code::BAD_TYPE
            | code::DUPLICATE
            | code::KEY_TAKEN
    ) || status == 400
}

/// A 400 about the alternate key itself (missing, not Active): setup.
fn mentions_key_setup(e: &ApiError) -> bool {
    let m = e.message.to_ascii_lowercase();
    m.contains("key")
        && (m.contains("not active")
            || m.contains("not a valid key")
            || m.contains("no alternate key"))
}

/// A request (or operation) that failed as a whole: who must act.
pub fn request_error(status: u16, e: &ApiError, key_property: &str) -> ConnectorError {
    let said = if e.message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{} ({})", e.message, e.code)
    };
    match (status, e.code.as_str()) {
        (401, _) | (_, code::AUTH_FAILED) => ConnectorError::Queue(QueueProblem::Unauthorized(format!(
            "Dynamics refused the token even after a new one: is the app registered as an application user in this environment? ({said})"
        ))),
        (403, code::NO_PRIVILEGE) => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the application user's security role does not allow this on contacts: {said}"
        ))),
        (403, _) => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the application user may not do this (security role): {said}"
        ))),
        (400, _) if mentions_key_setup(e) => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "the contact table's alternate key {key_property} is missing or not Active yet ({said}); see docs/connectors/dynamics.md, \"Set-up\""
        ))),
        (404, _) => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Dynamics has no such Web API path: check the organization URL and the API version ({said})"
        ))),
        _ => classify_status(status, said, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::field_map::FieldMap;

    fn map() -> FieldMap {
        FieldMap::new(super::super::mapping::DEFAULT_MAP)
    }

    #[test]
    fn refusals_name_the_customer_field() {
        let e = parse(br#"{"error":{"code":"0x80060888","message":"Could not find a property named 'store_id' on type 'Microsoft.Dynamics.CRM.contact'."}}"#);
        let r = record_error(&map(), "outpost_key", 400, &e);
        assert_eq!(r.field.as_deref(), Some("store_id"));
        assert!(r.message.contains("field map"), "{}", r.message);
        let e = ApiError {
            code: code::TOO_LONG.into(),
            message: "A validation error occurred. The length of the 'firstname' attribute of the 'contact' entity exceeded the maximum allowed length of '50'.".into(),
        };
        assert_eq!(
            record_error(&map(), "outpost_key", 400, &e)
                .field
                .as_deref(),
            Some("first_name")
        );
        let e = ApiError {
            code: code::DUPLICATE.into(),
            message: "A record was not created or updated because a duplicate of the current record already exists.".into(),
        };
        assert!(record_error(&map(), "outpost_key", 412, &e)
            .message
            .contains("may already exist in Dynamics"));
        assert!(is_record_refusal(412, &e));
        assert!(
            !record_error(&map(), "outpost_key", 400, &ApiError::default())
                .message
                .is_empty()
        );
    }

    #[test]
    fn request_errors_say_who_acts() {
        let e = ApiError {
            code: code::NO_PRIVILEGE.into(),
            message: "Principal user is missing prvCreateContact privilege".into(),
        };
        assert!(matches!(
            request_error(403, &e, "outpost_key"),
            ConnectorError::Queue(QueueProblem::Forbidden(_))
        ));
        assert!(matches!(
            request_error(503, &ApiError::default(), "outpost_key"),
            ConnectorError::Transient { .. }
        ));
        let key = ApiError {
            code: code::BAD_TYPE.into(),
            message: "The entity key outpost_key is not active (Pending).".into(),
        };
        assert!(!is_record_refusal(400, &key));
        assert!(matches!(
            request_error(400, &key, "outpost_key"),
            ConnectorError::Queue(QueueProblem::Misconfigured(_))
        ));
    }
}
