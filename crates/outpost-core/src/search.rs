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

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use crate::customer::validation::ValidCustomer;
use crate::customer::{CustomerFields, Field, FieldType, SearchIndex};

/// Shortest run of phone digits indexed as a suffix: a fragment shorter than
/// this matches only at the start of the number.
const MIN_PHONE_SUFFIX: usize = 3;

/// The searchable fields of a customer, as stored: each field's spec says
/// which index holds it; a phone is indexed by its digits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchFields<'a> {
    pub fields: &'a CustomerFields,
    pub phone_digits: Option<&'a str>,
}

impl<'a> From<&'a ValidCustomer> for SearchFields<'a> {
    fn from(c: &'a ValidCustomer) -> Self {
        SearchFields {
            fields: &c.fields,
            phone_digits: c.phone_digits.as_deref(),
        }
    }
}

/// The columns of `customers_names_fts`: names, then places.
pub(crate) fn name_index_fields() -> impl Iterator<Item = Field> {
    Field::indexed_in(|i| i != SearchIndex::Contact)
}

/// The columns of `customers_contact_fts`.
pub(crate) fn contact_index_fields() -> impl Iterator<Item = Field> {
    Field::indexed_in(|i| i == SearchIndex::Contact)
}

/// What one field contributes to its index: the text, or for a phone every
/// suffix of its digits.
fn indexed_text(f: SearchFields, field: Field) -> String {
    if field.spec().kind == FieldType::Phone {
        f.phone_digits.map(phone_suffixes).unwrap_or_default()
    } else {
        f.fields.get(field).unwrap_or_default().to_owned()
    }
}

/// The text indexed in `customers_names_fts`, in column order.
pub(crate) fn name_columns(f: SearchFields) -> Vec<String> {
    name_index_fields()
        .map(|field| indexed_text(f, field))
        .collect()
}

/// The text indexed in `customers_contact_fts` (email, phone suffixes).
pub(crate) fn contact_columns(f: SearchFields) -> Vec<String> {
    contact_index_fields()
        .map(|field| indexed_text(f, field))
        .collect()
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
    /// The words as the tokenizer sees them (lower case, no diacritics), for
    /// matching customers that are not indexed yet.
    pub words: Vec<String>,
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
    let name_columns: Vec<&str> = Field::indexed_in(|i| i == SearchIndex::Name)
        .map(Field::name)
        .collect();
    Some(Query {
        names: format!("{{{}}} : ({expr})", name_columns.join(" ")),
        any: expr,
        words: tokens.iter().map(|t| fold(t)).collect(),
        terms,
        exact_email,
        exact_phone,
    })
}

/// The tiers of [`parse`]'s query a customer can match in, in ranking order
/// (after the exact email and phone matches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Tier {
    /// Every word in a name or the company.
    Names,
    /// Every word in a name, the company or the city.
    NamesOrCity,
    /// Every word in the email or the phone number.
    Contact,
    /// Several words, some in the names and the others in the contact details.
    Mixed,
}

/// The tier in which the FTS indexes would find this customer, for the few
/// customers created moments ago that the background indexer has not
/// reached: the same tokens (unicode61 with diacritics removed), the same
/// prefix rule, the same phone suffixes.
pub(crate) fn unindexed_tier(q: &Query, f: SearchFields) -> Option<Tier> {
    // Where each word is found: in a name or the company, the city, the
    // contact details. Checked column by column without building token lists:
    // a search may scan a thousand queued rows.
    let mut in_names = true;
    let mut in_names_or_city = true;
    let mut in_contact = true;
    let mut everywhere = true;
    let in_index = |index: SearchIndex, w: &str| {
        Field::indexed_in(|i| i == index).any(|field| {
            if field.spec().kind == FieldType::Phone {
                f.phone_digits.is_some_and(|d| phone_has_fragment(d, w))
            } else {
                has_token_starting_with(f.fields.get(field), w)
            }
        })
    };
    for w in &q.words {
        let names = in_index(SearchIndex::Name, w);
        let city = in_index(SearchIndex::Place, w);
        let contact = in_index(SearchIndex::Contact, w);
        in_names &= names;
        in_names_or_city &= names || city;
        in_contact &= contact;
        everywhere &= names || city || contact;
    }
    if in_names {
        Some(Tier::Names)
    } else if in_names_or_city {
        Some(Tier::NamesOrCity)
    } else if in_contact {
        Some(Tier::Contact)
    } else {
        let mixed =
            everywhere && q.words.len() > 1 && q.words.iter().all(|w| w.chars().count() >= 2);
        mixed.then_some(Tier::Mixed)
    }
}

/// Whether a token of the column (as unicode61 splits and folds it) starts
/// with `word` (already folded).
fn has_token_starting_with(column: Option<&str>, word: &str) -> bool {
    column.is_some_and(|c| {
        c.split(|ch: char| !ch.is_alphanumeric()).any(|t| {
            if t.is_ascii() {
                t.len() >= word.len()
                    && t.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            } else {
                fold(t).starts_with(word)
            }
        })
    })
}

/// Whether `word` is a prefix of one of the indexed suffixes of the number
/// (see [`phone_suffixes`]).
fn phone_has_fragment(digits: &str, word: &str) -> bool {
    let n = digits.len();
    if n <= MIN_PHONE_SUFFIX {
        return digits.starts_with(word);
    }
    (0..=n - MIN_PHONE_SUFFIX).any(|i| digits.is_char_boundary(i) && digits[i..].starts_with(word))
}

/// What unicode61 with `remove_diacritics 2` makes of a token: lower case,
/// combining marks dropped ("Müller" → "muller").
fn fold(token: &str) -> String {
    token
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
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
