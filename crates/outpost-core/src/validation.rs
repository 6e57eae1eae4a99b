//! Data-quality rules applied before anything is stored. All problems in one
//! input are reported together, each against its field, so the form can show
//! every message at once.

use crate::customer::{Attributes, NewCustomer};
use crate::error::{FieldError, ValidationErrors};
use crate::sync::connector::RemoteCustomer;

/// Upper bounds, in characters, per field. Generous for real data, small
/// enough that a runaway caller cannot fill the disk through one record.
pub mod limits {
    pub const NAME: usize = 100;
    pub const COMPANY: usize = 200;
    pub const EMAIL: usize = 254;
    pub const PHONE: usize = 32;
    pub const STREET: usize = 200;
    pub const CITY: usize = 100;
    pub const POSTAL_CODE: usize = 20;
    pub const TAX_ID: usize = 32;
    pub const NOTES: usize = 2000;
    /// E.164 allows at most 15 digits; fewer than 5 is never a reachable number.
    pub const PHONE_MIN_DIGITS: usize = 5;
    pub const PHONE_MAX_DIGITS: usize = 15;
    /// Extra CRM fields per customer, and the length of each value.
    pub const ATTRIBUTES: usize = 20;
    pub const ATTRIBUTE_VALUE: usize = 200;
}

/// A customer that passed validation, normalised and ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    /// Separators collapsed to single spaces, a leading `+` kept.
    pub phone: Option<String>,
    /// Digits only, for search.
    pub phone_digits: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// Upper-case ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub tax_id: Option<String>,
    pub notes: Option<String>,
    pub attributes: Attributes,
}

pub fn validate(input: &NewCustomer) -> Result<ValidCustomer, ValidationErrors> {
    let mut errors = Vec::new();
    let mut text =
        |field: &str, value: &Option<String>, max: usize, multiline: bool| match clean_text(
            value, max, multiline,
        ) {
            Ok(v) => v,
            Err(msg) => {
                errors.push(FieldError::new(field, msg));
                None
            }
        };

    let first_name = text("first_name", &input.first_name, limits::NAME, false);
    let last_name = text("last_name", &input.last_name, limits::NAME, false);
    let company = text("company", &input.company, limits::COMPANY, false);
    let email = text("email", &input.email, limits::EMAIL, false);
    let phone = text("phone", &input.phone, limits::PHONE, false);
    let street = text("street", &input.street, limits::STREET, false);
    let city = text("city", &input.city, limits::CITY, false);
    let postal_code = text(
        "postal_code",
        &input.postal_code,
        limits::POSTAL_CODE,
        false,
    );
    let country = text("country", &input.country, 2 * limits::NAME, false);
    let tax_id = text("tax_id", &input.tax_id, limits::TAX_ID, false);
    let notes = text("notes", &input.notes, limits::NOTES, true);

    let has_name_error = errors
        .iter()
        .any(|e| matches!(e.field.as_str(), "first_name" | "last_name" | "company"));
    if first_name.is_none() && last_name.is_none() && company.is_none() && !has_name_error {
        errors.push(FieldError::new(
            "first_name",
            "Enter a first or last name, or a company.",
        ));
    }

    let email = email.and_then(|e| match normalise_email(&e) {
        Ok(e) => Some(e),
        Err(msg) => {
            errors.push(FieldError::new("email", msg));
            None
        }
    });
    let (phone, phone_digits) = match phone.map(|p| normalise_phone(&p)) {
        Some(Ok((p, d))) => (Some(p), Some(d)),
        Some(Err(msg)) => {
            errors.push(FieldError::new("phone", msg));
            (None, None)
        }
        None => (None, None),
    };
    let country = country.and_then(|c| match normalise_country(&c) {
        Ok(c) => Some(c),
        Err(msg) => {
            errors.push(FieldError::new("country", msg));
            None
        }
    });

    let attributes = clean_attributes(input.attributes.as_ref(), &mut errors);

    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    Ok(ValidCustomer {
        attributes,
        first_name,
        last_name,
        company,
        email,
        phone,
        phone_digits,
        street,
        city,
        postal_code,
        country,
        tax_id,
        notes,
    })
}

/// A record the CRM sent, made storable without refusing it: the CRM is the
/// authority on its own data, so values are trimmed and bounded, never
/// rejected (one odd record must not stop a pull of thousands).
pub fn from_remote(r: &RemoteCustomer) -> ValidCustomer {
    let text = |v: &Option<String>, max: usize| {
        v.as_deref()
            .map(|s| {
                s.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect::<String>()
                    .trim()
                    .chars()
                    .take(max)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
    };
    let phone = text(&r.phone, limits::PHONE);
    let phone_digits = phone
        .as_deref()
        .map(|p| {
            p.chars()
                .filter(char::is_ascii_digit)
                .take(20)
                .collect::<String>()
        })
        .filter(|d| !d.is_empty());
    ValidCustomer {
        first_name: text(&r.first_name, limits::NAME),
        last_name: text(&r.last_name, limits::NAME),
        company: text(&r.company, limits::COMPANY),
        email: text(&r.email, limits::EMAIL).map(|e| e.to_lowercase()),
        phone,
        phone_digits,
        street: None,
        city: text(&r.city, limits::CITY),
        postal_code: None,
        country: text(&r.country, 2 * limits::NAME),
        tax_id: None,
        notes: None,
        attributes: Attributes::new(),
    }
}

/// CRM-specific fields: a bounded number of short `snake_case` names with
/// short values; blank values are dropped. Whether a value is one of the
/// CRM's options is checked against the form metadata (`form::check`).
fn clean_attributes(input: Option<&Attributes>, errors: &mut Vec<FieldError>) -> Attributes {
    let mut out = Attributes::new();
    let Some(input) = input else { return out };
    if input.len() > limits::ATTRIBUTES {
        errors.push(FieldError::new(
            "attributes",
            format!("At most {} extra fields.", limits::ATTRIBUTES),
        ));
        return out;
    }
    for (name, value) in input {
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !name_ok {
            errors.push(FieldError::new(
                "attributes",
                format!("{name:?} is not a field name (lower-case letters, digits and _)."),
            ));
            continue;
        }
        match clean_text(&Some(value.clone()), limits::ATTRIBUTE_VALUE, false) {
            Ok(Some(v)) => {
                out.insert(name.clone(), v);
            }
            Ok(None) => {}
            Err(msg) => errors.push(FieldError::new(name, msg)),
        }
    }
    out
}

/// Trims, treats blank as absent, bounds the length and refuses control
/// characters (which only ever arrive by accident or malice).
fn clean_text(
    value: &Option<String>,
    max: usize,
    multiline: bool,
) -> Result<Option<String>, String> {
    let Some(raw) = value else { return Ok(None) };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(format!("Too long: {len} characters, at most {max}."));
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\t' || c == '\r');
    if trimmed
        .chars()
        .any(|c| c.is_control() && !allowed_control(c))
    {
        return Err("Contains invisible control characters.".into());
    }
    Ok(Some(trimmed.to_owned()))
}

/// A practical syntax check, not RFC 5322: one `@`, a plain local part and a
/// dotted domain. Anything stricter belongs to the CRM.
fn normalise_email(email: &str) -> Result<String, String> {
    let email = email.to_lowercase();
    let invalid = || format!("\"{email}\" is not an email address (like name@example.com).");
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err(invalid())
    }
}

/// Returns the display form (separators collapsed to single spaces, a leading
/// `+` kept) and the digits-only form used by search.
fn normalise_phone(phone: &str) -> Result<(String, String), String> {
    let mut display = String::with_capacity(phone.len());
    let mut digits = String::with_capacity(phone.len());
    for (i, c) in phone.chars().enumerate() {
        match c {
            '0'..='9' => {
                display.push(c);
                digits.push(c);
            }
            '+' if i == 0 => display.push('+'),
            ' ' | '-' | '.' | '(' | ')' | '/' => {
                if !display.ends_with(' ') && !display.is_empty() && display != "+" {
                    display.push(' ');
                }
            }
            _ => {
                return Err(format!(
                    "Use digits, spaces and - . ( ) / only, with an optional leading +; '{c}' is not allowed."
                ))
            }
        }
    }
    let display = display.trim_end().to_owned();
    let n = digits.len();
    if !(limits::PHONE_MIN_DIGITS..=limits::PHONE_MAX_DIGITS).contains(&n) {
        return Err(format!(
            "A phone number has {} to {} digits; this one has {n}.",
            limits::PHONE_MIN_DIGITS,
            limits::PHONE_MAX_DIGITS
        ));
    }
    Ok((display, digits))
}

fn normalise_country(country: &str) -> Result<String, String> {
    let code = country.to_ascii_uppercase();
    if ISO_3166_ALPHA2.binary_search(&code.as_str()).is_ok() {
        Ok(code)
    } else {
        Err(format!(
            "\"{country}\" is not a two-letter ISO country code (like DE, FR or US)."
        ))
    }
}

/// ISO 3166-1 alpha-2, sorted for binary search.
const ISO_3166_ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewCustomer {
        NewCustomer {
            first_name: Some("  Ada ".into()),
            last_name: Some("Lovelace".into()),
            ..Default::default()
        }
    }

    #[test]
    fn country_table_is_sorted_for_binary_search() {
        assert!(ISO_3166_ALPHA2.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn trims_and_drops_blank_fields() {
        let v = validate(&NewCustomer {
            company: Some("   ".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(v.first_name.as_deref(), Some("Ada"));
        assert_eq!(v.company, None);
    }

    #[test]
    fn a_name_or_company_is_required() {
        let err = validate(&NewCustomer {
            email: Some("a@b.example".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err
            .for_field("first_name")
            .unwrap()
            .contains("first or last name"));

        let only_company = NewCustomer {
            company: Some("Acme GmbH".into()),
            ..Default::default()
        };
        assert!(validate(&only_company).is_ok());
        let only_last = NewCustomer {
            last_name: Some("Curie".into()),
            ..Default::default()
        };
        assert!(validate(&only_last).is_ok());
    }

    #[test]
    fn email_is_checked_and_lower_cased() {
        let ok = validate(&NewCustomer {
            email: Some(" Ada.Lovelace@Example.ORG ".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(ok.email.as_deref(), Some("ada.lovelace@example.org"));

        for bad in [
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a..b@example.org",
            "ada@exa mple.org",
            "ada@-x.org",
            "ada@x.1",
        ] {
            let err = validate(&NewCustomer {
                email: Some(bad.into()),
                ..input()
            })
            .unwrap_err();
            assert!(err.for_field("email").is_some(), "{bad} should be refused");
        }
    }

    #[test]
    fn phone_keeps_display_and_digits_forms() {
        let v = validate(&NewCustomer {
            phone: Some("+49 (30) 1234-5678".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(v.phone.as_deref(), Some("+49 30 1234 5678"));
        assert_eq!(v.phone_digits.as_deref(), Some("493012345678"));

        let err = validate(&NewCustomer {
            phone: Some("call me".into()),
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("phone").unwrap().contains("not allowed"));
        let err = validate(&NewCustomer {
            phone: Some("123".into()),
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("phone").unwrap().contains("has 3"));
    }

    #[test]
    fn lengths_are_bounded_per_field() {
        let err = validate(&NewCustomer {
            city: Some("x".repeat(limits::CITY + 1)),
            notes: Some("y".repeat(limits::NOTES + 1)),
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("city").unwrap().contains("at most 100"));
        assert!(err.for_field("notes").is_some());
    }

    #[test]
    fn control_characters_are_refused_except_newlines_in_notes() {
        let err = validate(&NewCustomer {
            last_name: Some("Love\u{0}lace".into()),
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("last_name").is_some());
        let ok = validate(&NewCustomer {
            notes: Some("line one\nline two".into()),
            ..input()
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn country_must_be_an_iso_code() {
        let v = validate(&NewCustomer {
            country: Some("de".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(v.country.as_deref(), Some("DE"));
        let err = validate(&NewCustomer {
            country: Some("Germany".into()),
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("country").unwrap().contains("ISO"));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = validate(&NewCustomer {
            email: Some("nope".into()),
            phone: Some("x".into()),
            country: Some("ZZ".into()),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["first_name", "email", "phone", "country"]);
    }

    #[test]
    fn accented_names_are_kept_as_typed() {
        let v = validate(&NewCustomer {
            first_name: Some("José".into()),
            last_name: Some("Müller-Lüdenscheidt".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(v.last_name.as_deref(), Some("Müller-Lüdenscheidt"));
    }
}
