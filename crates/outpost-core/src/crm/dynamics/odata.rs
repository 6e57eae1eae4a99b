//! Every value Outpost puts into an OData URL goes through here: string
//! literals with `'` doubled (OData ABNF `SQUOTE-in-string`), date-times
//! and GUIDs checked, column names from a fixed alphabet. Nothing else
//! builds `$filter` text or key segments, so a search term or a key cannot
//! change a query's meaning.

use chrono::{DateTime, SecondsFormat, Utc};

/// An OData string literal: `'...'` with every `'` written twice. Control
/// characters have no place in a filter value and become spaces.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A date-time literal (unquoted) in UTC to the second: `modifiedon` has
/// whole seconds.
pub fn datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A row id checked to be a GUID (ids come back from the CRM and go into
/// the next URL), lower-cased.
pub fn guid(id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// A column name: lower-case letters, digits and `_`, starting with a
/// letter (Dataverse logical names). Names come from settings an admin
/// typed; one that is not a name is never put into a URL.
pub fn is_name(name: &str) -> bool {
    name.len() <= 100
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `url` with these query options, percent-encoded with `%20` for a
/// space: in a query a `+` is not a space to every server (Dataverse's
/// OData parser among them), so form encoding's `+` is never sent.
pub fn with_query(mut url: url::Url, options: &[(&str, &str)]) -> url::Url {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in options {
        form.append_pair(k, v);
    }
    // A literal `+` is `%2B` by now, so every `+` left is a space.
    let query = form.finish().replace('+', "%20");
    url.set_query((!query.is_empty()).then_some(query.as_str()));
    url
}

/// `startswith(col,'v')` / `contains(col,'v')` for a search.
pub fn text_match(function: &str, column: &str, value: &str) -> String {
    format!("{function}({column},{})", literal(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn quotes_are_doubled_and_nothing_else_escapes_the_literal() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(literal("''"), "''''''");
        assert_eq!(literal("a') or (1 eq 1"), "'a'') or (1 eq 1'");
        assert_eq!(literal("x\ny\t"), "'x y '");
        assert_eq!(literal("Zoë ☃"), "'Zoë ☃'");
        assert_eq!(
            text_match("contains", "emailaddress1", "a'b"),
            "contains(emailaddress1,'a''b')"
        );
    }

    #[test]
    fn queries_use_percent_twenty_for_spaces() {
        let url = url::Url::parse("http://h/api/data/v9.2/contacts").unwrap();
        let url = with_query(url, &[("$filter", "lastname eq 'a+b & c'")]);
        assert_eq!(
            url.query(),
            Some("%24filter=lastname%20eq%20%27a%2Bb%20%26%20c%27")
        );
    }

    #[test]
    fn ids_times_and_names_are_checked() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 8, 15, 30).unwrap();
        assert_eq!(datetime(t), "2026-12-01T08:15:30Z");
        assert_eq!(
            guid("6F9619FF-8B86-D011-B42D-00C04FC964FF").as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        assert!(guid("x' or 1 eq 1").is_none());
        assert!(is_name("address1_city") && is_name("outpost_key"));
        assert!(!is_name("firstname,lastname") && !is_name("") && !is_name("1a"));
        assert!(!is_name("FirstName"));
    }
}
