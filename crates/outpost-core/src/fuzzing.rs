//! Entry points for the fuzz targets (`crates/outpost-core/fuzz/`) and for
//! the regression tests that replay what they found
//! (`tests/fuzz_regressions.rs`). Each takes raw bytes, runs one of the
//! parsers untrusted input reaches, and panics when a property breaks: the
//! properties live here, once, so a crash found by the fuzzer is replayed by
//! `cargo test` with the same checks.
//!
//! Not an API: the app and the CLI never call it.

use std::path::PathBuf;
use std::sync::LazyLock;

use crate::crm::connector::{RecordOutcome, RemoteCustomer};
use crate::crm::error::{ConnectorError, ErrorClass, RecordError};
use crate::crm::field_map::FieldMap;
use crate::crm::form::{CrmForm, FormMetadata};
use crate::crm::{bottlecrm, generic_rest, hubspot};
use crate::customer::phone::Region;
use crate::customer::validation::{self, ValidCustomer};
use crate::customer::{CustomerFields, Field, FieldType, NewCustomer};
use crate::error::ValidationErrors;
use crate::search;
use crate::store::{Store, StoreOptions};

/// The statuses a connector's answer is tried with (the second input byte
/// picks one).
const STATUSES: &[u16] = &[
    200, 201, 204, 302, 400, 401, 403, 404, 405, 408, 409, 418, 422, 429, 500, 502, 503, 504,
];

/// A connector's answer as the fuzzer writes it: which call it answers, its
/// status, its body.
struct Answer<'a> {
    call: u8,
    status: u16,
    body: &'a [u8],
}

impl<'a> Answer<'a> {
    fn of(data: &'a [u8]) -> Option<Self> {
        let [call, status, body @ ..] = data else {
            return None;
        };
        Some(Answer {
            call: *call,
            status: STATUSES[*status as usize % STATUSES.len()],
            body,
        })
    }
}

fn regions() -> [Option<Region>; 2] {
    [None, Region::parse("DE")]
}

// ---------------------------------------------------------------- validation

/// A new customer as the CLI's flags or the window's form give it: JSON as
/// the IPC carries it (input starting with `{`), else the fields in form
/// order separated by 0xFF bytes, then attribute names and values.
pub fn validation(data: &[u8]) {
    let input = if data.first() == Some(&b'{') {
        // The IPC edge refuses what does not deserialize; that is serde's job.
        let Ok(input) = serde_json::from_slice::<NewCustomer>(data) else {
            return;
        };
        input
    } else {
        new_customer_from_parts(data)
    };
    for region in regions() {
        check_validation(&input, region);
    }
}

fn new_customer_from_parts(data: &[u8]) -> NewCustomer {
    let mut parts = data
        .split(|b| *b == 0xFF)
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let mut fields = CustomerFields::default();
    for &field in Field::ALL {
        *fields.slot(field) = parts.next().filter(|p| !p.is_empty());
    }
    let rest: Vec<String> = parts.collect();
    let attributes = (!rest.is_empty()).then(|| {
        rest.chunks(2)
            .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
            .collect()
    });
    NewCustomer { fields, attributes }
}

/// Validation accepts a customer in its stored form, or refuses it naming
/// each field; what it accepts, validated again, is the same.
pub fn check_validation(input: &NewCustomer, region: Option<Region>) {
    match validation::validate(input, region) {
        Ok(valid) => {
            check_valid(&valid);
            let again = NewCustomer {
                fields: valid.fields.clone(),
                attributes: Some(valid.attributes.clone()),
            };
            match validation::validate(&again, region) {
                Ok(v) => assert_eq!(v, valid, "normalising twice changed the customer"),
                Err(e) => panic!("the normalised customer {again:?} is refused: {e}"),
            }
        }
        Err(e) => check_refusal(&e, input),
    }
}

/// What the store may hold for a customer created here.
pub fn check_valid(v: &ValidCustomer) {
    for (field, value) in v.fields.iter() {
        let spec = field.spec();
        assert!(!value.is_empty(), "{field} is stored blank");
        assert_eq!(value, value.trim(), "{field} is stored untrimmed");
        let len = value.chars().count();
        assert!(
            len <= spec.max_len,
            "{field} has {len} > {} chars",
            spec.max_len
        );
        let multiline = spec.kind == FieldType::Multiline;
        assert!(
            !value
                .chars()
                .any(|c| c.is_control() && !(multiline && "\n\t\r".contains(c))),
            "{field} holds a control character: {value:?}"
        );
        match spec.kind {
            FieldType::Email => assert_eq!(value, value.to_lowercase(), "email not lower-cased"),
            FieldType::Country => assert!(
                value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()),
                "country {value:?} is not an upper-case code"
            ),
            _ => {}
        }
    }
    assert!(
        Field::naming().any(|f| v.fields.get(f).is_some()),
        "accepted without a name or company"
    );
    let phone = v.fields.phone.is_some();
    assert_eq!(
        phone,
        v.phone_e164.is_some(),
        "a phone without its E.164 form"
    );
    assert_eq!(
        phone,
        v.phone_digits.is_some(),
        "a phone without its digits"
    );
    if let Some(e164) = &v.phone_e164 {
        assert!(
            e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()),
            "E.164 form {e164:?}"
        );
    }
    assert!(v.attributes.len() <= validation::limits::ATTRIBUTES);
    for (name, value) in &v.attributes {
        assert!(!name.is_empty() && !value.is_empty() && value == value.trim());
    }
}

/// Every refusal names a field of the input (a customer field, an
/// attribute, or "attributes" for the set) and says something.
pub fn check_refusal(e: &ValidationErrors, input: &NewCustomer) {
    assert!(!e.fields().is_empty(), "a refusal without a reason");
    for err in e.fields() {
        let named = Field::from_name(&err.field).is_some()
            || err.field == "attributes"
            || input
                .attributes
                .as_ref()
                .is_some_and(|a| a.contains_key(&err.field));
        assert!(named, "the refusal {err:?} names no field of the input");
        assert!(!err.message.trim().is_empty(), "{err:?} says nothing");
    }
}

// -------------------------------------------------------------------- search

/// A store with a few customers, some indexed and some still queued, that
/// every search input runs against.
struct SearchFixture {
    runtime: tokio::runtime::Runtime,
    store: Store,
    _dir: TempDir,
}

/// The fixture's customers; each is found by its whole name.
const FIXTURE: &[(&str, &str, &str, &str)] = &[
    ("Ada", "Lovelace", "ada@example.org", "+49 30 1234567"),
    ("Jürgen", "Müller", "j.mueller@example.de", "0151 7654321"),
    ("Zoë", "O'Brien-Smith", "zoe@example.ie", ""),
    ("", "", "", "+1 415 555 0100"),
    ("李", "小龙", "", ""),
    ("Ωmega", "Ünal", "omega@example.com", ""),
];

/// A directory removed when the process ends normally (a fuzzer's crash
/// leaves it in the temp dir, which `scripts/fuzz` points at its own).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static SEARCH: LazyLock<SearchFixture> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("outpost-fuzz-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let store = runtime.block_on(async {
        let store = Store::open_with(
            dir.join("search.db"),
            StoreOptions {
                background_indexing: false,
                background_backfill: false,
                locale_region: Region::parse("DE"),
                max_connections: 1,
                ..Default::default()
            },
        )
        .await
        .expect("the fixture store opens");
        for (i, (first, last, email, phone)) in FIXTURE.iter().enumerate() {
            let fields = CustomerFields {
                first_name: Some(first.to_string()).filter(|s| !s.is_empty()),
                last_name: Some(last.to_string()).filter(|s| !s.is_empty()),
                company: Some(format!("Company {i}")),
                email: Some(email.to_string()).filter(|s| !s.is_empty()),
                phone: Some(phone.to_string()).filter(|s| !s.is_empty()),
                city: Some("Berlin".into()),
                ..Default::default()
            };
            store
                .create_customer(&NewCustomer {
                    fields,
                    attributes: None,
                })
                .await
                .expect("a fixture customer is valid");
            // The first half indexed, the rest still queued for the indexer.
            if i + 1 == FIXTURE.len() / 2 {
                store.flush_search_index().await.expect("indexing");
            }
        }
        store
    });
    SearchFixture {
        runtime,
        store,
        _dir: TempDir(dir),
    }
});

/// A query typed into the lookup: it never makes SQLite fail, its FTS
/// expressions are always ones SQLite accepts, and a name is found by the
/// same words before it is indexed.
pub fn search_query(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let limit = 1 + (data.len() % 7) as u32;
    let fx = &*SEARCH;
    fx.runtime.block_on(async {
        let found = fx
            .store
            .search(&query, limit)
            .await
            .unwrap_or_else(|e| panic!("search {query:?} failed: {e}"));
        assert!(found.len() <= limit as usize);
        let named = |c: &crate::Customer| {
            let first = c.fields.first_name.as_deref().unwrap_or_default();
            let last = c.fields.last_name.as_deref().unwrap_or_default();
            format!("{first} {last}").trim() == query.trim()
        };
        let fixture_name = FIXTURE
            .iter()
            .any(|(f, l, _, _)| !f.is_empty() && format!("{f} {l}") == query.trim());
        if fixture_name {
            assert!(
                found.iter().any(named),
                "{query:?} does not find its customer"
            );
        }
        for (i, c) in found.iter().enumerate() {
            assert!(
                !found[..i].iter().any(|o| o.id == c.id),
                "{query:?} found {} twice",
                c.id
            );
        }
        if let Some(q) = search::parse(&query, Region::parse("DE")) {
            check_fts_expressions(&fx.store, &q).await;
        }
    });
    check_found_unindexed_by_name(&query);
}

/// Every expression `parse` makes runs as an FTS5 MATCH on both indexes.
async fn check_fts_expressions(store: &Store, q: &search::Query) {
    for term in &q.terms {
        let inner = term
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix("\"*"))
            .unwrap_or_else(|| panic!("term {term:?} is not a quoted prefix"));
        assert!(!inner.is_empty() && !inner.contains('"'), "term {term:?}");
    }
    let mut expressions = vec![q.any.clone(), q.names.clone(), q.terms.join(" ")];
    expressions.extend(q.terms.iter().cloned());
    for expr in expressions {
        for table in ["customers_names_fts", "customers_contact_fts"] {
            let sql = format!("SELECT count(*) FROM {table} WHERE {table} MATCH ?1");
            if let Err(e) = sqlx::query_scalar::<_, i64>(&sql)
                .bind(&expr)
                .fetch_one(store.pool_for_tests())
                .await
            {
                if table == "customers_contact_fts" && expr == q.names {
                    // Column filters name the names index's columns only.
                    continue;
                }
                panic!("SQLite refused {expr:?} on {table}: {e}");
            }
        }
    }
}

/// A customer whose first name is the query, not indexed yet, is found by
/// the search's own token rules (the ones that mirror unicode61).
fn check_found_unindexed_by_name(name: &str) {
    let Some(q) = search::parse(name, None) else {
        return;
    };
    if q.exact_phone.is_some() {
        return;
    }
    let fields = CustomerFields {
        first_name: Some(name.trim().to_owned()),
        ..Default::default()
    };
    let f = search::SearchFields {
        fields: &fields,
        phone_digits: None,
        phone_e164: None,
    };
    assert_eq!(
        search::unindexed_tier(&q, f),
        Some(search::Tier::Names),
        "a customer named {name:?} is not found by its name before indexing"
    );
}

// ---------------------------------------------------------------- connectors

/// What a record received from a CRM must satisfy: only the fields the map
/// receives, trimmed; storable as the store keeps CRM records; and, read as
/// a new customer, either valid or refused naming its fields.
pub fn check_remote(r: &RemoteCustomer) {
    for (field, value) in r.fields.iter() {
        assert!(
            r.received.contains(field),
            "{field} came in although the map does not receive it"
        );
        assert!(
            !value.is_empty() && value == value.trim(),
            "{field}: {value:?}"
        );
    }
    for region in regions() {
        let stored = validation::from_remote(r, region);
        for (field, value) in stored.fields.iter() {
            let spec = field.spec();
            assert!(!value.is_empty(), "{field} stored blank");
            assert_eq!(value, value.trim(), "{field} stored untrimmed: {value:?}");
            assert!(value.chars().count() <= spec.max_len, "{field} too long");
            assert!(!value.chars().any(char::is_control), "{field}: {value:?}");
        }
        if let Some(d) = &stored.phone_digits {
            assert!(d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit()));
        }
        let again = RemoteCustomer {
            fields: stored.fields.clone(),
            ..r.clone()
        };
        assert_eq!(
            validation::from_remote(&again, region),
            stored,
            "storing a CRM record twice changed it"
        );
        check_validation(
            &NewCustomer {
                fields: r.fields.clone(),
                attributes: None,
            },
            region,
        );
    }
}

/// A record's outcome agrees with the status it came with: only a 2xx
/// delivers, only the connector's refusal statuses refuse, and a failing
/// CRM (5xx, 429) is always retried, never a refusal.
fn check_outcome(status: u16, refusals: &[u16], outcome: &RecordOutcome) {
    match outcome {
        RecordOutcome::Delivered { .. } => {
            assert!((200..300).contains(&status), "delivered on HTTP {status}")
        }
        RecordOutcome::Rejected(e) => {
            assert!(refusals.contains(&status), "refused on HTTP {status}");
            check_record_error(e);
        }
        RecordOutcome::Failed(e) => check_error(status, e),
    }
}

fn check_record_error(e: &RecordError) {
    assert!(!e.message.trim().is_empty(), "a refusal without words");
    if let Some(f) = &e.field {
        assert!(!f.is_empty(), "a refusal naming the empty field");
    }
}

/// The error class follows the status: credentials pause the queue, a
/// failing CRM is retried.
fn check_error(status: u16, e: &ConnectorError) {
    let expected = match status {
        401 | 403 | 404 | 405 => Some(ErrorClass::Queue),
        408 | 429 | 500..=599 => Some(ErrorClass::Transient),
        200..=299 => Some(ErrorClass::Transient), // an unreadable success
        _ => None,
    };
    if let Some(class) = expected {
        assert_eq!(e.class(), class, "HTTP {status} gave {e:?}");
    }
    assert!(!e.to_string().trim().is_empty());
}

/// A read that failed to parse is a protocol error (retried, logged).
fn check_protocol<T>(r: &Result<T, ConnectorError>) {
    if let Err(e) = r {
        assert!(
            matches!(e, ConnectorError::Protocol(_)),
            "an unreadable body gave {e:?}"
        );
    }
}

/// The CRM's form, cached and applied to a new customer: no panic, and a
/// refusal names fields.
fn check_form(form: CrmForm) {
    let form = FormMetadata::from_crm("fuzz", "2026-01-01T00:00:00Z".into(), form);
    let input = NewCustomer::default()
        .with(Field::FirstName, "Ada")
        .with(Field::Country, "DE");
    if let Err(e) = form.check(&input) {
        assert!(e.fields().iter().all(|f| !f.field.is_empty()));
    }
    let _ = validation::check(&input, &form, None);
}

fn keys() -> Vec<String> {
    [
        "018f0000-0000-7000-8000-000000000001",
        "018f0000-0000-7000-8000-000000000002",
        "018f0000-0000-7000-8000-000000000003",
    ]
    .map(String::from)
    .to_vec()
}

/// Outpost's REST contract's answers (`crm/generic_rest`).
pub fn generic_rest_response(data: &[u8]) {
    let Some(a) = Answer::of(data) else { return };
    let map = FieldMap::new(generic_rest::DEFAULT_MAP);
    match a.call % 5 {
        0 => {
            let outcome = generic_rest::upsert_outcome(a.status, None, a.body, &map);
            check_outcome(a.status, &[400, 409, 422], &outcome);
        }
        1 => {
            let r = generic_rest::record(a.body, &map);
            check_protocol(&r);
            if let Ok(r) = r {
                check_remote(&r);
            }
        }
        2 => {
            let page = generic_rest::list(a.body, &map);
            check_protocol(&page);
            for r in page.iter().flat_map(|p| &p.items) {
                check_remote(r);
            }
        }
        3 => {
            let m = generic_rest::metadata(a.body, &map);
            check_protocol(&m);
            if let Ok((form, _fields)) = m {
                check_form(form);
            }
        }
        _ => check_error(a.status, &generic_rest::error_from(a.status, None, a.body)),
    }
}

/// HubSpot's CRM v3 answers (`crm/hubspot`).
pub fn hubspot_response(data: &[u8]) {
    let Some(a) = Answer::of(data) else { return };
    let map = FieldMap::new(hubspot::DEFAULT_MAP);
    let key_property = hubspot::DEFAULT_KEY_PROPERTY;
    match a.call % 5 {
        0 => {
            let keys = keys();
            let outcomes = hubspot::batch_outcomes(a.body, &keys, key_property);
            check_protocol(&outcomes);
            for o in outcomes.iter().flatten() {
                check_outcome(200, &[], o);
            }
            if let Ok(o) = outcomes {
                assert_eq!(o.len(), keys.len(), "one outcome per record");
            }
        }
        1 => {
            let (error, detail) = hubspot::error_from(a.status, None, a.body);
            check_error(a.status, &error);
            if let Some(d) = detail {
                check_record_error(&hubspot::record_error(&map, a.status, &d));
            }
        }
        2 => {
            let r = hubspot::contact(a.body, key_property, &map);
            check_protocol(&r);
            if let Ok(r) = r {
                check_remote(&r);
            }
        }
        3 => {
            let page = hubspot::search_page(a.body, key_property, &map);
            check_protocol(&page);
            let Ok(page) = page else { return };
            for r in &page.items {
                check_remote(r);
            }
            // Where the pull goes next, from the start and from deep in a window.
            use hubspot::listing::Position;
            for position in [
                Position::start(None),
                Position::Window {
                    from: 1_700_000_000_000,
                    after: 9_800,
                },
                Position::Instant {
                    at: 1_700_000_000_000,
                    id: 41,
                },
            ] {
                let next = position.next(&page.items, page.next_after);
                check_protocol(&next);
                if let Ok(Some(p)) = next {
                    assert_eq!(Position::decode(&p.encode()).ok(), Some(p));
                }
            }
        }
        _ => {
            let _ = hubspot::key_property_problem(a.body);
            let props = hubspot::properties(a.body);
            check_protocol(&props);
            if let Ok(props) = props {
                let (form, _fields) = hubspot::form_and_fields(props, &map);
                check_form(form);
            }
        }
    }
}

/// BottleCRM's answers (`crm/bottlecrm`).
pub fn bottlecrm_response(data: &[u8]) {
    let Some(a) = Answer::of(data) else { return };
    let map = FieldMap::new(bottlecrm::DEFAULT_MAP);
    match a.call % 6 {
        0 => {
            let list = bottlecrm::contact_list(a.body, &map);
            check_protocol(&list);
            for r in list.iter().flatten() {
                assert_ne!(
                    r.fields.first_name.as_deref(),
                    Some(bottlecrm::MISSING_NAME)
                );
                assert_ne!(r.fields.last_name.as_deref(), Some(bottlecrm::MISSING_NAME));
                check_remote(r);
            }
        }
        1 => check_protocol(&bottlecrm::created_id(a.body)),
        2 => {
            let r = bottlecrm::refusal(a.body, &map);
            check_record_error(&r.error);
            if r.duplicate_email {
                assert_eq!(r.error.field.as_deref(), Some("email"));
            }
        }
        3 => {
            let e = bottlecrm::error_from(a.status, None, Some(a.body));
            check_error(a.status, &e);
            if a.status == 403 {
                assert_eq!(e.class(), ErrorClass::Queue);
            }
        }
        4 => check_protocol(&bottlecrm::first_duplicate(a.body)),
        _ => {
            let _ = bottlecrm::has_key_field(a.body);
        }
    }
}
