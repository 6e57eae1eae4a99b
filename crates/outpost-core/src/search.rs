//! Full-text lookup: what is indexed for a customer and how a typed query
//! becomes an FTS5 expression.
//!
//! Two indexes: names, company and city (a small vocabulary) in one; email and
//! phone-digit suffixes (nearly one unique token per customer) in the other,
//! so a name prefix never has to merge a million email terms.
//!
//! Ranking is done in tiers, each a bounded query, so a one-letter prefix over
//! a million customers costs the same as a long one:
//! 1. exact email or phone match (B-tree lookups),
//! 2. matches in a name or the company, most recent first,
//! 3. matches in the names index (adds the city), then in the contact index,
//! 4. for several words, customers whose name matches some of them and whose
//!    contact details match the rest ("ada 0151", "smith sam@exa").

use crate::validation::ValidCustomer;

/// Shortest run of phone digits indexed as a suffix: a fragment shorter than
/// this matches only at the start of the number.
const MIN_PHONE_SUFFIX: usize = 3;

/// The text indexed in `customers_names_fts`, in column order
/// (first_name, last_name, company, city).
pub(crate) fn name_columns(c: &ValidCustomer) -> [String; 4] {
    [
        c.first_name.clone().unwrap_or_default(),
        c.last_name.clone().unwrap_or_default(),
        c.company.clone().unwrap_or_default(),
        c.city.clone().unwrap_or_default(),
    ]
}

/// The text indexed in `customers_contact_fts` (email, phone suffixes).
pub(crate) fn contact_columns(c: &ValidCustomer) -> [String; 2] {
    [
        c.email.clone().unwrap_or_default(),
        c.phone_digits
            .as_deref()
            .map(phone_suffixes)
            .unwrap_or_default(),
    ]
}

/// "4930123" → "4930123 930123 30123 0123 123": every suffix is a token, so a
/// prefix query on any of them finds the number by a fragment from its middle.
fn phone_suffixes(digits: &str) -> String {
    let n = digits.len();
    if n <= MIN_PHONE_SUFFIX {
        return digits.to_owned();
    }
    (0..=n - MIN_PHONE_SUFFIX)
        .map(|i| &digits[i..])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A parsed search query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// FTS5 expression matching any column of one index.
    pub any: String,
    /// The same, limited to the name and company columns.
    pub names: String,
    /// One prefix term per word, for matching words across both indexes.
    pub terms: Vec<String>,
    /// The whole query if it looks like an email address (lower-cased).
    pub exact_email: Option<String>,
    /// The digits if the query looks like a phone number.
    pub exact_phone: Option<String>,
}

/// `None` for a query with nothing searchable in it (blank, punctuation only).
pub(crate) fn parse(raw: &str) -> Option<Query> {
    let raw = raw.trim();
    let phone_like = raw.chars().filter(char::is_ascii_digit).count() >= MIN_PHONE_SUFFIX
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()/".contains(c));
    let tokens: Vec<String> = if phone_like {
        vec![raw.chars().filter(char::is_ascii_digit).collect()]
    } else {
        // The same split as the unicode61 tokenizer: anything that is not a
        // letter or digit separates tokens. Tokens are alphanumeric only, so
        // quoting them is always safe.
        raw.split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .take(8)
            .map(str::to_owned)
            .collect()
    };
    if tokens.is_empty() {
        return None;
    }
    let terms: Vec<String> = tokens.iter().map(|t| format!("\"{t}\"*")).collect();
    let expr = terms.join(" ");
    let exact_email = raw.contains('@').then(|| raw.to_lowercase());
    let exact_phone = phone_like.then(|| tokens[0].clone());
    Some(Query {
        names: format!("{{first_name last_name company}} : ({expr})"),
        any: expr,
        terms,
        exact_email,
        exact_phone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_suffixes_cover_every_fragment_from_three_digits() {
        assert_eq!(phone_suffixes("123456"), "123456 23456 3456 456");
        assert_eq!(phone_suffixes("12"), "12");
    }

    #[test]
    fn words_become_prefix_terms() {
        let q = parse("  jo  Mül ").unwrap();
        assert_eq!(q.any, "\"jo\"* \"Mül\"*");
        assert_eq!(
            q.names,
            "{first_name last_name company} : (\"jo\"* \"Mül\"*)"
        );
        assert_eq!(q.exact_email, None);
    }

    #[test]
    fn fts_syntax_in_input_is_neutralised() {
        let q = parse("a\" OR b* NEAR(c)").unwrap();
        assert_eq!(q.any, "\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*");
        assert!(parse(" \"*() ").is_none());
    }

    #[test]
    fn phone_like_queries_search_by_digits() {
        let q = parse("+49 30-123").unwrap();
        assert_eq!(q.any, "\"4930123\"*");
        assert_eq!(q.exact_phone.as_deref(), Some("4930123"));
    }

    #[test]
    fn email_like_queries_also_try_an_exact_match() {
        let q = parse("Ada@Example.org").unwrap();
        assert_eq!(q.exact_email.as_deref(), Some("ada@example.org"));
        assert_eq!(q.any, "\"Ada\"* \"Example\"* \"org\"*");
    }
}
