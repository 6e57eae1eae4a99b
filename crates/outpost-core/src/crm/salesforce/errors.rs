//! Salesforce's error answers in plain words. A request-level error is a
//! JSON array `[{"message", "errorCode", "fields"}]`; a record of an sObject
//! Collection carries `errors: [{"statusCode", "message", "fields"}]`.
//! Every code a person can act on says what to do; the rest keep
//! Salesforce's own message.

use serde::Deserialize;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem, RecordError};
use crate::crm::field_map::FieldMap;

use super::mapping::outpost_field;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    #[serde(default)]
    pub message: String,
    /// `errorCode` in request errors, `statusCode` in collection results.
    #[serde(default, alias = "statusCode")]
    pub error_code: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The errors of an unsuccessful answer's body (empty when it has none
/// that can be read).
pub fn parse(body: &[u8]) -> Vec<ApiError> {
    serde_json::from_slice::<Vec<ApiError>>(body)
        .or_else(|_| serde_json::from_slice::<ApiError>(body).map(|e| vec![e]))
        .unwrap_or_default()
}

pub fn has_code(errors: &[ApiError], code: &str) -> bool {
    errors.iter().any(|e| e.error_code == code)
}

/// A request that failed as a whole: who must act, in plain words.
pub fn request_error(
    status: u16,
    errors: &[ApiError],
    object: &str,
    key_field: &str,
) -> ConnectorError {
    let first = errors.first().cloned().unwrap_or_default();
    let said = if first.message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{} ({})", first.message, first.error_code)
    };
    match first.error_code.as_str() {
        "INVALID_SESSION_ID" => ConnectorError::Queue(QueueProblem::Unauthorized(format!(
            "Salesforce ended the session and a new one was refused: {said}"
        ))),
        "NOT_FOUND" if status == 404 => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Salesforce has no {object} field {key_field} that is an External ID ({said}); see docs/connectors/salesforce.md, \"Set-up\""
        ))),
        "INVALID_TYPE" | "NOT_FOUND" => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Salesforce does not offer the {object} object to this user: {said}"
        ))),
        "API_DISABLED_FOR_ORG" | "API_CURRENTLY_DISABLED" => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the org's edition or the user's profile does not allow API access (\"API Enabled\"): {said}"
        ))),
        "INSUFFICIENT_ACCESS" | "INSUFFICIENT_ACCESS_OR_READONLY" => ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "the integration user may not do this with {object} records: {said}"
        ))),
        "INVALID_FIELD" => ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "a mapped field does not exist on {object} or is hidden from the integration user (field-level security): {said}"
        ))),
        _ => classify_status(status, said, None),
    }
}

/// Plain words for one refused record, naming the customer field.
pub fn record_error(map: &FieldMap, key_field: &str, e: &ApiError) -> RecordError {
    let field = e
        .fields
        .iter()
        .find(|f| !f.eq_ignore_ascii_case(key_field))
        .map(|f| outpost_field(map, f));
    let named = || e.fields.join(", ");
    let message = match e.error_code.as_str() {
        "REQUIRED_FIELD_MISSING" => format!(
            "Salesforce requires {}: fill it in and save again ({})",
            named(),
            e.message
        ),
        "INVALID_EMAIL_ADDRESS" => format!("Salesforce does not accept this email address: {}", e.message),
        "STRING_TOO_LONG" => format!("Too long for Salesforce: {}", e.message),
        "INVALID_FIELD" | "INVALID_FIELD_FOR_INSERT_UPDATE" => format!(
            "Salesforce does not take the field {} on this record ({}); an admin must check the field map",
            named(),
            e.message
        ),
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" => format!(
            "Salesforce does not list this value for {}: choose one of its options ({})",
            named(),
            e.message
        ),
        "FIELD_CUSTOM_VALIDATION_EXCEPTION" => format!(
            "A validation rule of your Salesforce org refused the customer: {}",
            e.message
        ),
        "DUPLICATES_DETECTED" => "This customer may already exist in Salesforce: a duplicate rule of your org matched another record. Open the existing record in Salesforce, or correct the customer; an admin can let duplicates through (setting allow_duplicates).".to_owned(),
        "DUPLICATE_VALUE" if e.fields.iter().any(|f| f.eq_ignore_ascii_case(key_field)) || e.message.contains(key_field) => format!(
            "Another Salesforce record already holds this customer's Outpost key in {key_field}, so this one was not created: an admin must look at both ({})",
            e.message
        ),
        "DUPLICATE_VALUE" => format!("Salesforce requires a unique value here: {}", e.message),
        "DUPLICATE_EXTERNAL_ID" | "MULTIPLE_RECORDS_FOUND" => format!(
            "More than one Salesforce record carries this customer's Outpost key in {key_field}: an admin must merge them, and make {key_field} Unique ({})",
            e.message
        ),
        "" if e.message.is_empty() => "Salesforce refused the record without saying why".to_owned(),
        _ => format!("Salesforce refused the record: {} ({})", e.message, e.error_code),
    };
    RecordError { message, field }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::field_map::FieldMap;

    #[test]
    fn refusals_name_the_customer_field() {
        let map = FieldMap::new(super::super::mapping::CONTACT_MAP);
        let e = parse(br#"[{"statusCode":"INVALID_EMAIL_ADDRESS","message":"Email: invalid email address: x","fields":["Email"]}]"#);
        let r = record_error(&map, "Outpost_Key__c", &e[0]);
        assert_eq!(r.field.as_deref(), Some("email"));
        let e = ApiError {
            error_code: "DUPLICATES_DETECTED".into(),
            ..Default::default()
        };
        assert!(record_error(&map, "Outpost_Key__c", &e)
            .message
            .contains("may already exist"));
        let e = ApiError::default();
        assert!(!record_error(&map, "Outpost_Key__c", &e).message.is_empty());
    }

    #[test]
    fn request_errors_pause_the_queue_with_what_to_fix() {
        let e = parse(br#"[{"message":"Provided external ID field does not exist or is not accessible: Outpost_Key__c","errorCode":"NOT_FOUND"}]"#);
        let err = request_error(404, &e, "Contact", "Outpost_Key__c");
        assert!(
            matches!(err, ConnectorError::Queue(QueueProblem::Misconfigured(_))),
            "{err}"
        );
        assert!(matches!(
            request_error(503, &[], "Contact", "K"),
            ConnectorError::Transient { .. }
        ));
    }
}
