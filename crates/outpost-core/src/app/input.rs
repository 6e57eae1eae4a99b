//! Rules for the facade's raw arguments, the same whichever edge they came
//! through: a customer key, a search's query and limit, the duplicate
//! check's values, an outbox filter, JSON input.

use serde::de::DeserializeOwned;

use super::error::{AppError, AppResult};
use crate::customer::{CustomerId, Field};
use crate::outbox::OutboxState;
use crate::store::Resolution;

/// Longest search query accepted; anything longer is not a lookup.
pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_SEARCH_LIMIT: u32 = 200;
pub const DEFAULT_SEARCH_LIMIT: u32 = 50;
/// Outbox messages listed when the caller does not say how many.
pub const DEFAULT_OUTBOX_PAGE: u32 = 500;

/// A search's query and limit (absent: [`DEFAULT_SEARCH_LIMIT`]).
pub fn search_args(query: &str, limit: Option<u32>) -> AppResult<u32> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::invalid_input(
            "query",
            format!("A search is at most {MAX_QUERY_CHARS} characters."),
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(AppError::invalid_input(
            "limit",
            format!("The limit must be between 1 and {MAX_SEARCH_LIMIT}."),
        ));
    }
    Ok(limit)
}

pub fn parse_key(key: &str) -> AppResult<CustomerId> {
    key.parse().map_err(|_| {
        AppError::invalid_input("id", format!("\"{key}\" is not a customer key (a UUID)."))
    })
}

/// The duplicate check looks up values a customer could hold: longer ones
/// are refused before any search.
pub fn duplicate_args(email: Option<&str>, phone: Option<&str>) -> AppResult<()> {
    let too_long =
        |v: Option<&str>, field: Field| v.is_some_and(|v| v.chars().count() > field.spec().max_len);
    if too_long(email, Field::Email) {
        return Err(AppError::invalid_input("email", "The email is too long."));
    }
    if too_long(phone, Field::Phone) {
        return Err(AppError::invalid_input(
            "phone",
            "The phone number is too long.",
        ));
    }
    Ok(())
}

/// An outbox filter as the UI spells it.
pub fn outbox_state(s: &str) -> AppResult<OutboxState> {
    OutboxState::parse(s).ok_or_else(|| {
        AppError::invalid_input(
            "state_filter",
            "Use pending, in-flight, needs-attention or sent.",
        )
    })
}

/// A conflict's choice as the edges spell it: `mine` or `crm`.
pub fn resolution(s: &str) -> AppResult<Resolution> {
    match s {
        "mine" => Ok(Resolution::Mine),
        "crm" => Ok(Resolution::Crm),
        _ => Err(AppError::invalid_input(
            "use",
            format!("\"{s}\" is not a choice: use mine or crm."),
        )),
    }
}

/// Longest field name a conflict can be on (a CRM form field's name).
pub const MAX_FIELD_NAME_CHARS: usize = 100;

/// A conflict's field: a customer field's JSON name or a CRM form field's
/// name; whether it has a conflict is the store's to say.
pub fn conflict_field(field: &str) -> AppResult<&str> {
    let bad = field.trim().is_empty()
        || field.chars().count() > MAX_FIELD_NAME_CHARS
        || field.chars().any(char::is_control);
    if bad {
        return Err(AppError::invalid_input(
            "field",
            "Name the field by its JSON name (e.g. phone) or the CRM form field's name.",
        ));
    }
    Ok(field)
}

/// Reads free-form JSON input (a customer, endpoint settings) so a bad
/// field comes back against its name, not as an opaque string.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    Ok(serde_json::from_value(value)?)
}

/// Like [`from_json`] for an optional argument: absent or `null` is the default.
pub fn from_optional_json<T: DeserializeOwned + Default>(
    value: Option<serde_json::Value>,
) -> AppResult<T> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(T::default()),
        Some(v) => from_json(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewCustomer;

    fn field(e: AppError) -> String {
        match e {
            AppError::InvalidInput(f) => f.field,
            other => panic!("not invalid input: {other}"),
        }
    }

    #[test]
    fn search_limits_and_query_length() {
        assert_eq!(search_args("ada", None).unwrap(), DEFAULT_SEARCH_LIMIT);
        assert_eq!(search_args("ada", Some(200)).unwrap(), 200);
        assert_eq!(field(search_args("ada", Some(0)).unwrap_err()), "limit");
        assert_eq!(field(search_args("ada", Some(201)).unwrap_err()), "limit");
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(field(search_args(&long, None).unwrap_err()), "query");
        // Characters, not bytes: 200 accented letters are a valid query.
        assert!(search_args(&"é".repeat(MAX_QUERY_CHARS), None).is_ok());
    }

    #[test]
    fn keys_and_duplicate_values() {
        let e = parse_key("not-a-key").unwrap_err();
        assert_eq!(
            e.to_string(),
            "id: \"not-a-key\" is not a customer key (a UUID)."
        );
        assert!(parse_key("01900000-0000-7000-8000-000000000000").is_ok());

        let max = Field::Email.spec().max_len;
        assert!(duplicate_args(Some(&"a".repeat(max)), None).is_ok());
        let e = duplicate_args(Some(&"a".repeat(max + 1)), None).unwrap_err();
        assert_eq!(field(e), "email");
        let long_phone = "1".repeat(Field::Phone.spec().max_len + 1);
        assert_eq!(
            field(duplicate_args(None, Some(&long_phone)).unwrap_err()),
            "phone"
        );
    }

    #[test]
    fn json_input_names_the_bad_field() {
        let e = from_json::<NewCustomer>(serde_json::json!({"frist_name": "x"})).unwrap_err();
        assert_eq!(field(e), "frist_name");
        let e = from_json::<NewCustomer>(serde_json::json!("nope")).unwrap_err();
        assert_eq!(field(e), "input");
        assert_eq!(field(outbox_state("lost").unwrap_err()), "state_filter");
    }
}
