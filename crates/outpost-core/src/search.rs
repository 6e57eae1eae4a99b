//! Full-text lookup: what is indexed for a customer and how a typed query
//! becomes an FTS5 expression.
//!
//! Two indexes: names, company and city (a small vocabulary) in one; email and
//! phone-digit suffixes (nearly one unique token per customer) in the other,
//! so a name prefix never has to merge a million email terms.
//!
//! Ranking is done in tiers, each a bounded query, so a one-letter prefix over
//! a million customers costs the same as a long one:
//! 1. exact email or phone match (B-tree lookups; a query that reads as a
//!    whole number matches its E.164 form, however either was typed),
//! 2. matches in a name or the company, most recent first,
//! 3. matches in the names index (adds the city), then in the contact index,
//! 4. for several words, customers whose name matches some of them and whose
//!    contact details match the rest ("ada 0151", "smith sam@exa").

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use crate::customer::phone::{self, Region};
use crate::customer::validation::ValidCustomer;
use crate::customer::{CustomerFields, Field, FieldType, SearchIndex};

/// Shortest run of phone digits indexed as a suffix: a fragment shorter than
/// this matches only at the start of the number.
const MIN_PHONE_SUFFIX: usize = 3;

/// The searchable fields of a customer, as stored: each field's spec says
/// which index holds it; a phone is indexed by its digits as typed and by
/// the digits of its E.164 form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchFields<'a> {
    pub fields: &'a CustomerFields,
    pub phone_digits: Option<&'a str>,
    pub phone_e164: Option<&'a str>,
}

impl<'a> From<&'a ValidCustomer> for SearchFields<'a> {
    fn from(c: &'a ValidCustomer) -> Self {
        SearchFields {
            fields: &c.fields,
            phone_digits: c.phone_digits.as_deref(),
            phone_e164: c.phone_e164.as_deref(),
        }
    }
}

impl SearchFields<'_> {
    /// The phone's digit strings: as typed ("01511234567"), then the E.164
    /// form's ("491511234567") when it differs.
    fn phone_numbers(&self) -> impl Iterator<Item = &str> {
        let typed = self.phone_digits.filter(|d| !d.is_empty());
        let e164 = self
            .phone_e164
            .map(|e| e.trim_start_matches('+'))
            .filter(|e| !e.is_empty() && Some(*e) != typed);
        typed.into_iter().chain(e164)
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
/// suffix of its typed digits and of its E.164 digits (once each).
fn indexed_text(f: SearchFields, field: Field) -> String {
    if field.spec().kind == FieldType::Phone {
        let mut tokens: Vec<&str> = Vec::new();
        for digits in f.phone_numbers() {
            for t in phone_suffixes(digits) {
                if !tokens.contains(&t) {
                    tokens.push(t);
                }
            }
        }
        tokens.join(" ")
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
fn phone_suffixes(digits: &str) -> Vec<&str> {
    let n = digits.len();
    if n <= MIN_PHONE_SUFFIX {
        return vec![digits];
    }
    (0..=n - MIN_PHONE_SUFFIX).map(|i| &digits[i..]).collect()
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
    /// The E.164 form if the query reads as a whole phone number (national
    /// numbers in the default region).
    pub exact_e164: Option<String>,
}

/// `None` for a query with nothing searchable in it (blank, punctuation only).
/// `region` reads a phone number typed without its country code.
pub(crate) fn parse(raw: &str, region: Option<Region>) -> Option<Query> {
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
    let exact_e164 = phone_like
        .then(|| phone::parse(raw, region).ok())
        .flatten()
        .map(|p| p.e164);
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
        exact_e164,
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
                f.phone_numbers().any(|d| phone_has_fragment(d, w))
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
        assert_eq!(phone_suffixes("123456"), ["123456", "23456", "3456", "456"]);
        assert_eq!(phone_suffixes("12"), ["12"]);
    }

    #[test]
    fn a_phone_is_indexed_by_its_typed_and_its_e164_digits() {
        let fields = CustomerFields::default();
        let f = SearchFields {
            fields: &fields,
            phone_digits: Some("0301234"),
            phone_e164: Some("+49301234"),
        };
        assert_eq!(
            indexed_text(f, Field::Phone),
            "0301234 301234 01234 1234 234 49301234 9301234"
        );
        let same = SearchFields {
            phone_digits: Some("49301234"),
            ..f
        };
        assert_eq!(
            indexed_text(same, Field::Phone),
            "49301234 9301234 301234 01234 1234 234"
        );
        let words = |q: &str| parse(q, None).unwrap();
        assert_eq!(unindexed_tier(&words("4930"), f), Some(Tier::Contact));
        assert_eq!(unindexed_tier(&words("0301"), f), Some(Tier::Contact));
        assert_eq!(unindexed_tier(&words("4931"), f), None);
    }

    #[test]
    fn a_whole_number_is_also_matched_by_its_e164_form() {
        let de = Region::parse("DE");
        let q = parse("0151 1234567", de).unwrap();
        assert_eq!(q.exact_phone.as_deref(), Some("01511234567"));
        assert_eq!(q.exact_e164.as_deref(), Some("+491511234567"));
        assert_eq!(
            parse("+49 151 1234567", None)
                .unwrap()
                .exact_e164
                .as_deref(),
            Some("+491511234567")
        );
        assert_eq!(parse("0151 1234567", None).unwrap().exact_e164, None);
        assert_eq!(parse("0151", de).unwrap().exact_e164, None, "a fragment");
    }

    #[test]
    fn words_become_prefix_terms() {
        let q = parse("  jo  Mül ", None).unwrap();
        assert_eq!(q.any, "\"jo\"* \"Mül\"*");
        assert_eq!(
            q.names,
            "{first_name last_name company} : (\"jo\"* \"Mül\"*)"
        );
        assert_eq!(q.exact_email, None);
    }

    #[test]
    fn fts_syntax_in_input_is_neutralised() {
        let q = parse("a\" OR b* NEAR(c)", None).unwrap();
        assert_eq!(q.any, "\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"*");
        assert!(parse(" \"*() ", None).is_none());
    }

    #[test]
    fn phone_like_queries_search_by_digits() {
        let q = parse("+49 30-123", None).unwrap();
        assert_eq!(q.any, "\"4930123\"*");
        assert_eq!(q.exact_phone.as_deref(), Some("4930123"));
    }

    #[test]
    fn email_like_queries_also_try_an_exact_match() {
        let q = parse("Ada@Example.org", None).unwrap();
        assert_eq!(q.exact_email.as_deref(), Some("ada@example.org"));
        assert_eq!(q.any, "\"Ada\"* \"Example\"* \"org\"*");
    }
}
