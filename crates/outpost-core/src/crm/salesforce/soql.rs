//! Every value Outpost puts into SOQL or a Salesforce search goes through
//! here: string literals escaped by Salesforce's rules, date-times and ids
//! checked, field and object names only from a fixed alphabet. Nothing
//! else builds query text, so a filter value or a search term cannot
//! change a query's meaning.

use chrono::{DateTime, SecondsFormat, Utc};

/// A SOQL string literal: `'...'` with `\` escapes for the quote, the
/// backslash and control characters (SOQL reference, "Quoted String
/// Escape Sequences").
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        push_escaped(&mut out, c);
    }
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\'' => out.push_str("\\'"),
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        // Other control characters have no escape and no place in a value.
        c if c.is_control() => out.push(' '),
        c => out.push(c),
    }
}

/// A SOQL date-time literal (unquoted), in UTC to the second: Salesforce's
/// stamps carry whole seconds.
pub fn datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A record id as a literal, refusing anything that is not one (15 or 18
/// letters and digits), since ids come back from the CRM and go into the
/// next query.
pub fn id_literal(id: &str) -> Option<String> {
    let ok = matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| format!("'{id}'"))
}

/// A field or object name: letters, digits and `_`, starting with a
/// letter (custom ones end in `__c`). Names come from settings an admin
/// typed; one that is not a name is refused before any query is built.
pub fn is_name(name: &str) -> bool {
    name.len() <= 80
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A search term for `parameterizedSearch`'s `q`: SOSL's reserved
/// characters escaped with a backslash (SOSL reference, "Reserved
/// Characters"), so a clerk's `O'Brien & Co` or `*` searches for itself.
pub fn search_term(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "?&|!{}[]()^~*:\\\"'+-".contains(c) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_cannot_end_early() {
        assert_eq!(literal("O'Brien"), r"'O\'Brien'");
        assert_eq!(literal(r"x\' OR Id != null"), r"'x\\\' OR Id != null'");
        assert_eq!(literal("a\nb\"c"), r#"'a\nb\"c'"#);
        // The only unescaped quotes are the first and the last.
        for hostile in ["' OR '1'='1", r"\'", "'; DELETE", "%_'\\"] {
            let l = literal(hostile);
            let inner = &l[1..l.len() - 1];
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => assert!(chars.next().is_some(), "{l}"),
                    '\'' => panic!("unescaped quote in {l}"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn ids_and_names_are_checked() {
        assert_eq!(
            id_literal("003000000000001AAA").as_deref(),
            Some("'003000000000001AAA'")
        );
        assert_eq!(id_literal("003' OR Id != '"), None);
        assert!(is_name("Outpost_Key__c") && is_name("MailingCountry"));
        assert!(!is_name("Name, (SELECT Id FROM Cases)") && !is_name("_x") && !is_name(""));
    }

    #[test]
    fn search_terms_escape_sosl_operators() {
        assert_eq!(search_term("O'Brien & Co*"), r"O\'Brien \& Co\*");
        assert_eq!(search_term("a-b"), r"a\-b");
    }

    #[test]
    fn datetimes_are_utc_seconds() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T09:15:30.789+01:00").unwrap();
        assert_eq!(datetime(t.with_timezone(&Utc)), "2026-12-01T08:15:30Z");
    }
}
