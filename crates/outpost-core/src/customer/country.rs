//! ISO 3166-1 countries: the codes Outpost stores, the English names a CRM
//! with a free-text country field receives, and the way back (from
//! `celes`, a maintained table with names and common aliases).

use std::str::FromStr;

use celes::Country;

/// Whether `code` is an assigned alpha-2 code (upper case).
pub fn is_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && Country::from_alpha2(code).is_ok()
}

/// The English name of an alpha-2 code ("DE" → "Germany").
pub fn name(code: &str) -> Option<&'static str> {
    Country::from_alpha2(code).ok().map(|c| c.long_name)
}

/// The alpha-2 code for what a CRM holds: a code, a name or an alias
/// ("Germany", "germany", "DE", "DEU").
pub fn code_for(text: &str) -> Option<&'static str> {
    let text = text.trim();
    if let Ok(c) = Country::from_alpha2(text.to_ascii_uppercase()) {
        return Some(c.alpha2);
    }
    if let Ok(c) = Country::from_alpha3(text.to_ascii_uppercase()) {
        return Some(c.alpha2);
    }
    Country::from_str(text).ok().map(|c| c.alpha2)
}

/// Every country as (code, English name), ordered by code: the form's list.
pub fn all() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = Country::get_countries()
        .iter()
        .map(|c| (c.alpha2, c.long_name))
        .collect();
    all.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_aliases() {
        assert!(is_code("DE") && !is_code("ZZ") && !is_code("de"));
        assert_eq!(name("DE"), Some("Germany"));
        assert_eq!(code_for("Germany"), Some("DE"));
        assert_eq!(code_for("germany"), Some("DE"));
        assert_eq!(code_for("deu"), Some("DE"));
        assert_eq!(code_for("Atlantis"), None);
        assert!(all().len() >= 249);
    }
}
