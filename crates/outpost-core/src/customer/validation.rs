//! Data-quality rules applied before anything is stored. All problems in one
//! input are reported together, each against its field, so the form can show
//! every message at once.

use serde::Serialize;
use ts_rs::TS;

use super::fields::{CustomerFields, Field, FieldType};
use super::phone::{self, Region};
use super::{Attributes, NewCustomer};
use crate::crm::form::FormMetadata;
use crate::crm::RemoteCustomer;
use crate::error::{FieldError, ValidationErrors};
use crate::template::fill;

/// Bounds that are not one field's length (those are in each field's spec).
pub mod limits {
    /// E.164 allows at most 15 digits; fewer than 5 is never a reachable number.
    pub const PHONE_MIN_DIGITS: usize = 5;
    pub const PHONE_MAX_DIGITS: usize = 15;
    /// Extra CRM fields per customer, and the length of each value.
    pub const ATTRIBUTES: usize = 20;
    pub const ATTRIBUTE_VALUE: usize = 200;
}

/// A customer that passed validation, normalised and ready to store: text
/// trimmed, email lower-cased, phone separators collapsed to single spaces
/// (a leading `+` kept), country an upper-case ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidCustomer {
    pub fields: CustomerFields,
    /// The phone's digits only, as typed, for search.
    pub phone_digits: Option<String>,
    /// The phone in E.164 ("+491511234567"): what search, the duplicate
    /// check and the CRM compare. `None` when it cannot be read (a CRM's
    /// record may hold anything).
    pub phone_e164: Option<String>,
    pub attributes: Attributes,
}

/// The words of the rules the UI can hint at before the core answers
/// (exported to `ui/src/bindings/model.ts`; `{...}` are filled in).
pub mod messages {
    /// No field names the customer; shown against the first that could.
    pub const NAME_REQUIRED: &str = "Enter a first or last name, or a company.";
    pub const TOO_LONG: &str = "Too long: {len} characters, at most {max}.";
    pub const CONTROL_CHARACTERS: &str = "Contains invisible control characters.";
    pub const NOT_A_COUNTRY: &str =
        "\"{value}\" is not a two-letter ISO country code (like DE, FR or US).";
    pub const TOO_MANY_ATTRIBUTES: &str = "At most {max} extra fields.";
}
pub use messages::NAME_REQUIRED;

/// What the create form's as-you-type check answers: every problem, each
/// against its field, or the values as they would be stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CustomerCheck {
    /// Empty when the input would be accepted.
    pub errors: Vec<FieldError>,
    /// The normalised values, when there is no error.
    pub normalised: Option<CustomerFields>,
}

/// Everything a create applies before storing: [`validate`], then the cached
/// CRM form's rules (picklists, required CRM fields, known CRM fields).
pub fn check(
    input: &NewCustomer,
    form: &FormMetadata,
    region: Option<Region>,
) -> Result<ValidCustomer, ValidationErrors> {
    let valid = validate(input, region)?;
    form.check(input)?;
    Ok(valid)
}

impl CustomerCheck {
    pub fn of(result: Result<ValidCustomer, ValidationErrors>) -> Self {
        match result {
            Ok(valid) => CustomerCheck {
                errors: Vec::new(),
                normalised: Some(valid.fields),
            },
            Err(e) => CustomerCheck {
                errors: e.0,
                normalised: None,
            },
        }
    }
}

/// Checks and normalises what a person typed; a phone number without a
/// country code is read in `region` (the device's default region).
pub fn validate(
    input: &NewCustomer,
    region: Option<Region>,
) -> Result<ValidCustomer, ValidationErrors> {
    let mut errors = Vec::new();
    let mut out = ValidCustomer::default();
    for &field in Field::ALL {
        let spec = field.spec();
        let multiline = spec.kind == FieldType::Multiline;
        let value = match clean_text(
            &input.fields.get(field).map(str::to_owned),
            spec.max_len,
            multiline,
        ) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(msg) => {
                errors.push(FieldError::new(field.name(), msg));
                continue;
            }
        };
        let normalised = match spec.kind {
            FieldType::Text | FieldType::Multiline => Ok(value),
            FieldType::Email => normalise_email(&value),
            FieldType::Country => normalise_country(&value),
            FieldType::Phone => match phone::parse(&value, region) {
                Ok(p) => {
                    out.phone_digits = Some(p.digits);
                    out.phone_e164 = Some(p.e164);
                    Ok(p.display)
                }
                Err(e) => Err(e.to_string()),
            },
        };
        match normalised {
            Ok(v) => *out.fields.slot(field) = Some(v),
            Err(msg) => errors.push(FieldError::new(field.name(), msg)),
        }
    }

    let named = Field::naming().any(|f| out.fields.get(f).is_some());
    let naming_error = errors
        .iter()
        .any(|e| Field::from_name(&e.field).is_some_and(|f| f.spec().names_customer));
    if !named && !naming_error {
        let first = Field::naming().next().expect("some field names a customer");
        // Reported first, as the form shows it at the top.
        errors.insert(0, FieldError::new(first.name(), NAME_REQUIRED));
    }

    out.attributes = clean_attributes(input.attributes.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    Ok(out)
}

/// A record the CRM sent, made storable without refusing it: the CRM is the
/// authority on its own data, so values are trimmed and bounded, never
/// rejected (one odd record must not stop a pull of thousands). A phone
/// gets its E.164 form when it can be read (national numbers in `region`).
pub fn from_remote(r: &RemoteCustomer, region: Option<Region>) -> ValidCustomer {
    let mut out = ValidCustomer::default();
    for (field, value) in r.fields.iter() {
        let spec = field.spec();
        let text: String = value
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .chars()
            .take(spec.max_len)
            .collect();
        // Cut at the limit, the value may end in spaces again.
        let text = text.trim_end().to_owned();
        if text.is_empty() {
            continue;
        }
        let text = match spec.kind {
            FieldType::Email => text.to_lowercase(),
            FieldType::Phone => {
                let digits: String = text.chars().filter(char::is_ascii_digit).take(20).collect();
                out.phone_digits = (!digits.is_empty()).then_some(digits);
                out.phone_e164 = phone::e164_lenient(&text, region);
                text
            }
            _ => text,
        };
        *out.fields.slot(field) = Some(text);
    }
    out
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
            fill(
                messages::TOO_MANY_ATTRIBUTES,
                &[("max", &limits::ATTRIBUTES)],
            ),
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
        return Err(fill(messages::TOO_LONG, &[("len", &len), ("max", &max)]));
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\t' || c == '\r');
    if trimmed
        .chars()
        .any(|c| c.is_control() && !allowed_control(c))
    {
        return Err(messages::CONTROL_CHARACTERS.into());
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

fn normalise_country(country: &str) -> Result<String, String> {
    let code = country.to_ascii_uppercase();
    if super::country::is_code(&code) {
        Ok(code)
    } else {
        Err(fill(messages::NOT_A_COUNTRY, &[("value", &country)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No default region unless a test gives one.
    fn validate(input: &NewCustomer) -> Result<ValidCustomer, ValidationErrors> {
        super::validate(input, None)
    }

    fn input() -> NewCustomer {
        NewCustomer {
            fields: CustomerFields {
                first_name: Some("  Ada ".into()),
                last_name: Some("Lovelace".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn trims_and_drops_blank_fields() {
        let v = validate(&NewCustomer {
            fields: CustomerFields {
                company: Some("   ".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap();
        assert_eq!(v.fields.first_name.as_deref(), Some("Ada"));
        assert_eq!(v.fields.company, None);
    }

    #[test]
    fn a_name_or_company_is_required() {
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                email: Some("a@b.example".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap_err();
        assert!(err
            .for_field("first_name")
            .unwrap()
            .contains("first or last name"));

        let only_company = NewCustomer {
            fields: CustomerFields {
                company: Some("Acme GmbH".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(validate(&only_company).is_ok());
        let only_last = NewCustomer {
            fields: CustomerFields {
                last_name: Some("Curie".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(validate(&only_last).is_ok());
    }

    #[test]
    fn email_is_checked_and_lower_cased() {
        let ok = validate(&NewCustomer {
            fields: CustomerFields {
                email: Some(" Ada.Lovelace@Example.ORG ".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap();
        assert_eq!(ok.fields.email.as_deref(), Some("ada.lovelace@example.org"));

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
                fields: CustomerFields {
                    email: Some(bad.into()),
                    ..input().fields
                },
                ..input()
            })
            .unwrap_err();
            assert!(err.for_field("email").is_some(), "{bad} should be refused");
        }
    }

    #[test]
    fn phone_keeps_display_and_digits_forms() {
        let v = validate(&NewCustomer {
            fields: CustomerFields {
                phone: Some("+49 (30) 1234-5678".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap();
        assert_eq!(v.fields.phone.as_deref(), Some("+49 30 1234 5678"));
        assert_eq!(v.phone_digits.as_deref(), Some("493012345678"));

        let err = validate(&NewCustomer {
            fields: CustomerFields {
                phone: Some("call me".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("phone").unwrap().contains("not allowed"));
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                phone: Some("123".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("phone").unwrap().contains("has 3"));
    }

    #[test]
    fn a_national_phone_is_read_in_the_default_region() {
        let national = NewCustomer {
            fields: CustomerFields {
                phone: Some(" 0151 1234567 ".into()),
                ..input().fields
            },
            ..input()
        };
        let v = super::validate(&national, Region::parse("DE")).unwrap();
        assert_eq!(
            v.fields.phone.as_deref(),
            Some("0151 1234567"),
            "shown as typed"
        );
        assert_eq!(v.phone_digits.as_deref(), Some("01511234567"));
        assert_eq!(v.phone_e164.as_deref(), Some("+491511234567"));

        let international = NewCustomer {
            fields: CustomerFields {
                phone: Some("+49 151 1234567".into()),
                ..input().fields
            },
            ..input()
        };
        let w = validate(&international).unwrap();
        assert_eq!(w.phone_e164, v.phone_e164, "one number, two typed forms");

        let err = validate(&national).unwrap_err();
        let message = err.for_field("phone").unwrap();
        assert!(message.contains("country code, e.g. +49"), "{message}");
        assert!(message.contains("default region in Settings"), "{message}");
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                phone: Some("+999 1234567".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("phone").unwrap().contains("calling code"));
    }

    #[test]
    fn a_crm_phone_is_kept_and_read_when_it_can_be() {
        let remote = |phone: &str| RemoteCustomer {
            crm_id: "1".into(),
            key: None,
            fields: CustomerFields::default().with(Field::Phone, phone),
            received: [Field::Phone].into_iter().collect(),
            updated_at: None,
            version: None,
        };
        let v = from_remote(&remote("030 1234567"), Region::parse("DE"));
        assert_eq!(v.fields.phone.as_deref(), Some("030 1234567"));
        assert_eq!(v.phone_e164.as_deref(), Some("+49301234567"));
        let v = from_remote(&remote("030 1234567"), None);
        assert_eq!(
            v.fields.phone.as_deref(),
            Some("030 1234567"),
            "never refused"
        );
        assert_eq!(v.phone_e164, None);
        let v = from_remote(&remote("ask at the desk"), Region::parse("DE"));
        assert_eq!(v.fields.phone.as_deref(), Some("ask at the desk"));
        assert_eq!((v.phone_digits, v.phone_e164), (None, None));
    }

    #[test]
    fn lengths_are_bounded_per_field() {
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                city: Some("x".repeat(Field::City.spec().max_len + 1)),
                notes: Some("y".repeat(Field::Notes.spec().max_len + 1)),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("city").unwrap().contains("at most 100"));
        assert!(err.for_field("notes").is_some());
    }

    #[test]
    fn control_characters_are_refused_except_newlines_in_notes() {
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                last_name: Some("Love\u{0}lace".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("last_name").is_some());
        let ok = validate(&NewCustomer {
            fields: CustomerFields {
                notes: Some("line one\nline two".into()),
                ..input().fields
            },
            ..input()
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn country_must_be_an_iso_code() {
        let v = validate(&NewCustomer {
            fields: CustomerFields {
                country: Some("de".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap();
        assert_eq!(v.fields.country.as_deref(), Some("DE"));
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                country: Some("Germany".into()),
                ..input().fields
            },
            ..input()
        })
        .unwrap_err();
        assert!(err.for_field("country").unwrap().contains("ISO"));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = validate(&NewCustomer {
            fields: CustomerFields {
                email: Some("nope".into()),
                phone: Some("x".into()),
                country: Some("ZZ".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["first_name", "email", "phone", "country"]);
    }

    #[test]
    fn accented_names_are_kept_as_typed() {
        let v = validate(&NewCustomer {
            fields: CustomerFields {
                first_name: Some("José".into()),
                last_name: Some("Müller-Lüdenscheidt".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        assert_eq!(v.fields.last_name.as_deref(), Some("Müller-Lüdenscheidt"));
    }
}
