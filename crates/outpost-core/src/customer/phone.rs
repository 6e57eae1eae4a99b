//! Phone numbers: the form a person typed (kept for display) and its E.164
//! form ("+491511234567", what search, the duplicate check and the CRM
//! compare), read with libphonenumber's metadata (the `phonenumber` crate)
//! against a default region for numbers typed without a country code.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, ParseError};
use serde::{Deserialize, Serialize};

use super::validation::limits;

/// What a clerk must do when a national number cannot be read: the UI
/// shows it beside the field, so it is one fixed sentence.
pub const NEEDS_REGION: &str =
    "This number has no country code: add the country code, e.g. +49, or set a default region in Settings.";

/// A region of libphonenumber's metadata (ISO 3166-1 alpha-2, e.g. "DE"):
/// how a number typed without a country code is read.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(Id);

impl Region {
    /// The region for an alpha-2 code, any case; `None` if libphonenumber
    /// has no numbering plan for it.
    pub fn parse(code: &str) -> Option<Region> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let id = Id::from_str(&code).ok()?;
        phonenumber::metadata::DATABASE.by_id(id.as_ref())?;
        Some(Region(id))
    }

    pub fn code(self) -> &'static str {
        // `Id` spells each variant as its code; the metadata's own strings
        // live as long as the program.
        phonenumber::metadata::DATABASE
            .by_id(self.0.as_ref())
            .map(|m| m.id())
            .expect("a Region is always in the metadata")
    }

    /// The country calling code dialled from abroad ("DE" → 49).
    pub fn calling_code(self) -> u16 {
        phonenumber::metadata::DATABASE
            .by_id(self.0.as_ref())
            .map_or(0, |m| m.country_code())
    }

    /// Every region with a numbering plan, ordered by code.
    pub fn all() -> Vec<Region> {
        let mut all: Vec<Region> = phonenumber::metadata::DATABASE
            .iter()
            .filter_map(|m| Region::parse(m.id()))
            .collect();
        all.sort_unstable_by_key(|r| r.code());
        all.dedup();
        all
    }

    /// The region of the OS locale: the territory of the first of
    /// `LC_ALL`, `LC_MESSAGES`, `LANG` that is set (`de_DE.UTF-8` → DE).
    /// `C`, `POSIX` and a bare language (`de`) have none.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Option<Region> {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(&var)
            .find(|v| !v.trim().is_empty())?;
        // language[_TERRITORY][.codeset][@modifier]
        let name = locale.split(['.', '@']).next().unwrap_or_default();
        let (_, territory) = name.split_once(['_', '-'])?;
        Region::parse(territory)
    }

    /// [`Region::from_locale`] of this process's environment.
    pub fn from_os_locale() -> Option<Region> {
        Region::from_locale(|name| std::env::var(name).ok())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.code())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Region::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("{code:?} is not a phone region")))
    }
}

/// A number as Outpost keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// As typed, separators collapsed to single spaces (a leading `+` kept).
    pub display: String,
    /// The typed digits only (search by fragments of what was typed).
    pub digits: String,
    /// "+491511234567".
    pub e164: String,
}

/// Why a typed number is refused; `Display` is the message for the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error(
        "Use digits, spaces and - . ( ) / only, with an optional leading +; '{0}' is not allowed."
    )]
    Character(char),
    #[error(
        "A phone number has {min} to {max} digits; this one has {0}.",
        min = limits::PHONE_MIN_DIGITS,
        max = limits::PHONE_MAX_DIGITS
    )]
    DigitCount(usize),
    /// National format and no default region to read it in.
    #[error("{NEEDS_REGION}")]
    NeedsRegion,
    #[error("No country's calling code starts this number: check the digits after the {0}.")]
    UnknownCountryCode(&'static str),
    #[error("Too few digits after the country code for a phone number.")]
    TooShort,
    #[error("Too many digits for a phone number.")]
    TooLong,
    #[error("This is not a phone number.")]
    NotANumber,
}

/// Reads a number a person typed: the characters and the digit count are
/// checked first (the form's hints say the same), then libphonenumber
/// reads it, with `region` for a number without a country code.
///
/// A number libphonenumber can read is accepted even where its metadata
/// lists no such range (new ranges appear before the metadata has them):
/// the CRM is the judge of that; Outpost refuses only what cannot be a
/// number or cannot be placed in a country.
pub fn parse(typed: &str, region: Option<Region>) -> Result<Phone, PhoneError> {
    let mut display = String::with_capacity(typed.len());
    let mut digits = String::with_capacity(typed.len());
    for (i, c) in typed.chars().enumerate() {
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
            _ => return Err(PhoneError::Character(c)),
        }
    }
    let display = display.trim_end().to_owned();
    let n = digits.len();
    if !(limits::PHONE_MIN_DIGITS..=limits::PHONE_MAX_DIGITS).contains(&n) {
        return Err(PhoneError::DigitCount(n));
    }
    let e164 = e164_of(&display, region)?;
    Ok(Phone {
        display,
        digits,
        e164,
    })
}

/// The E.164 form of a number from elsewhere (a CRM record, a search
/// query), or why there is none. Never stricter than [`parse`]'s reading.
pub fn e164_of(text: &str, region: Option<Region>) -> Result<String, PhoneError> {
    let international = text.trim_start().starts_with('+');
    let number = read(text, region).map_err(|e| match e {
        ParseError::InvalidCountryCode if international => PhoneError::UnknownCountryCode("+"),
        ParseError::InvalidCountryCode if region.is_some() => {
            // Only an international prefix (00, 011...) can get here.
            PhoneError::UnknownCountryCode("international prefix")
        }
        ParseError::InvalidCountryCode => PhoneError::NeedsRegion,
        ParseError::TooShortNsn | ParseError::TooShortAfterIdd => PhoneError::TooShort,
        ParseError::TooLong => PhoneError::TooLong,
        _ => PhoneError::NotANumber,
    })?;
    let e164 = number.format().mode(Mode::E164).to_string();
    // E.164 itself allows at most 15 digits with the country code.
    if e164.len() - 1 > limits::PHONE_MAX_DIGITS {
        return Err(PhoneError::TooLong);
    }
    Ok(e164)
}

/// libphonenumber's reading of `text`. A number that names its country
/// (a `+`, or the region's international prefix such as 00) is read
/// without the region: `phonenumber` 0.3 would otherwise apply the
/// region's national-prefix rule to the other country's digits
/// ("+49 151 ..." read in the US lost the 1 of 151).
fn read(text: &str, region: Option<Region>) -> Result<phonenumber::PhoneNumber, ParseError> {
    if text.trim_start().starts_with('+') {
        return phonenumber::parse(None, text);
    }
    let Some(region) = region else {
        return phonenumber::parse(None, text);
    };
    let digits: String = text
        .chars()
        .take_while(|c| !c.is_alphabetic())
        .filter(char::is_ascii_digit)
        .collect();
    let idd = phonenumber::metadata::DATABASE
        .by_id(region.0.as_ref())
        .and_then(|m| m.international_prefix())
        .and_then(|re| re.find(&digits))
        .filter(|m| m.start() == 0 && m.end() < digits.len())
        .map(|m| m.end());
    match idd {
        Some(end) => phonenumber::parse(None, format!("+{}", &digits[end..])),
        None => phonenumber::parse(Some(region.0), text),
    }
}

/// Loads libphonenumber's metadata (decoded on first use), so the first
/// create at the till does not pay for it.
pub fn warm_up() {
    let _ = parse("+49 30 1234567", None);
}

/// The E.164 form where there is one; `None` for anything unreadable.
pub fn e164_lenient(text: &str, region: Option<Region>) -> Option<String> {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if !(limits::PHONE_MIN_DIGITS..=limits::PHONE_MAX_DIGITS + 4).contains(&digits) {
        return None;
    }
    e164_of(text, region).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Option<Region> {
        Region::parse("DE")
    }

    #[test]
    fn a_national_number_is_read_in_the_default_region() {
        let p = parse("0151 1234567", de()).unwrap();
        assert_eq!(p.display, "0151 1234567");
        assert_eq!(p.digits, "01511234567");
        assert_eq!(p.e164, "+491511234567");
        let p = parse("(030) 123-4567", de()).unwrap();
        assert_eq!(p.display, "030 123 4567");
        assert_eq!(p.e164, "+49301234567");
        // The international prefix of the region counts as a +.
        assert_eq!(
            parse("0049 151 1234567", de()).unwrap().e164,
            "+491511234567"
        );
    }

    #[test]
    fn an_international_number_needs_no_region() {
        for region in [None, de(), Region::parse("US")] {
            let p = parse("+49 151 1234567", region).unwrap();
            assert_eq!(p.display, "+49 151 1234567");
            assert_eq!(p.e164, "+491511234567");
        }
        // A national trunk prefix written after the country code is dropped.
        assert_eq!(
            parse("+49 (0)151 1234567", None).unwrap().e164,
            "+491511234567"
        );
        assert_eq!(
            parse("+1 (212) 555-0100", None).unwrap().e164,
            "+12125550100"
        );
        assert_eq!(parse("+34 600 123 456", None).unwrap().e164, "+34600123456");
        // Italian numbers keep their leading 0 after the country code.
        assert_eq!(
            parse("+39 06 1234 5678", de()).unwrap().e164,
            "+390612345678"
        );
        assert_eq!(
            parse("011 49 151 1234567", Region::parse("US"))
                .unwrap()
                .e164,
            "+491511234567"
        );
    }

    #[test]
    fn typed_in_germany_or_with_the_code_it_is_one_number() {
        let national = parse("0151 1234567", de()).unwrap();
        let international = parse("+49 151 1234567", None).unwrap();
        assert_eq!(national.e164, international.e164);
        assert_ne!(
            national.display, international.display,
            "each keeps its typed form"
        );
    }

    #[test]
    fn a_national_number_without_a_region_asks_for_one() {
        let e = parse("0151 1234567", None).unwrap_err();
        assert_eq!(e, PhoneError::NeedsRegion);
        let message = e.to_string();
        assert!(
            message.contains("+49") && message.contains("default region"),
            "{message}"
        );
    }

    #[test]
    fn what_cannot_be_a_number_is_refused_with_a_reason() {
        assert_eq!(parse("call me", de()), Err(PhoneError::Character('c')));
        assert_eq!(parse("123", de()), Err(PhoneError::DigitCount(3)));
        assert!(parse("123", de())
            .unwrap_err()
            .to_string()
            .contains("has 3"));
        assert_eq!(
            parse("+999 1234567", None),
            Err(PhoneError::UnknownCountryCode("+"))
        );
        assert!(parse("+999 1234567", None)
            .unwrap_err()
            .to_string()
            .contains("after the +"));
        assert_eq!(
            parse("+0 1234567", de()),
            Err(PhoneError::UnknownCountryCode("+"))
        );
        assert_eq!(
            parse("0099 1234567", de()),
            Err(PhoneError::UnknownCountryCode("international prefix"))
        );
    }

    #[test]
    fn regions_are_alpha_2_codes_with_a_numbering_plan() {
        assert_eq!(Region::parse("de").map(Region::code), Some("DE"));
        assert_eq!(Region::parse(" DE ").map(|r| r.calling_code()), Some(49));
        for bad in ["", "D", "DEU", "ZZ", "001", "4 "] {
            assert_eq!(Region::parse(bad), None, "{bad:?}");
        }
        let all = Region::all();
        assert!(all.len() > 200);
        assert!(all.iter().all(|r| r.code().len() == 2));
        assert_eq!(serde_json::to_value(de().unwrap()).unwrap(), "DE");
    }

    #[test]
    fn the_locale_names_the_region() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(Region::from_locale(env(&[("LANG", "de_DE.UTF-8")])), de());
        assert_eq!(
            Region::from_locale(env(&[("LANG", "de_DE.UTF-8"), ("LC_ALL", "fr_FR")])),
            Region::parse("FR"),
            "LC_ALL wins"
        );
        assert_eq!(
            Region::from_locale(env(&[("LC_MESSAGES", "sr_RS@latin"), ("LANG", "de_DE")])),
            Region::parse("RS")
        );
        assert_eq!(
            Region::from_locale(env(&[("LC_ALL", ""), ("LANG", "en_GB")])),
            Region::parse("GB"),
            "an empty variable is not set"
        );
        for none in ["C", "C.UTF-8", "POSIX", "de", "en_ZZ.UTF-8"] {
            let vars: &'static [(&str, &str)] = Box::leak(Box::new([("LANG", none)]));
            assert_eq!(Region::from_locale(env(vars)), None, "{none}");
        }
        assert_eq!(Region::from_locale(env(&[])), None);
    }

    #[test]
    fn records_from_elsewhere_get_an_e164_form_when_it_can_be_read() {
        assert_eq!(
            e164_lenient("+49 30 1234567 ext. 12", None).as_deref(),
            Some("+49301234567")
        );
        assert_eq!(
            e164_lenient("030 1234567", de()).as_deref(),
            Some("+49301234567")
        );
        assert_eq!(e164_lenient("030 1234567", None), None);
        assert_eq!(e164_lenient("n/a", de()), None);
        assert_eq!(e164_lenient("12", de()), None);
    }
}
