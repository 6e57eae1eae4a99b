//! Property tests (proptest) of the rules untrusted input meets: validation,
//! the search query parser on a real SQLite store, and the connectors'
//! field maps. Case counts are kept small so `cargo test` runs them in
//! seconds; the fuzz targets (`fuzz/`, `scripts/fuzz`) search longer.

use std::collections::BTreeMap;

use outpost_core::crm::field_map::{Conversion, FieldMap};
use outpost_core::crm::{bottlecrm, generic_rest, hubspot};
use outpost_core::customer::phone::Region;
use outpost_core::customer::validation::validate;
use outpost_core::customer::{Customer, CustomerFields, Field};
use outpost_core::fuzzing::{check_refusal, check_valid, check_validation};
use outpost_core::{CustomerId, NewCustomer, Store, StoreOptions, SyncState};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Text a person might type: letters of several scripts, digits,
/// punctuation, spaces at either end (U+03A2, unassigned, is left out of
/// the Greek range: see `any_customer_is_found_by_its_exact_name`).
fn name() -> impl Strategy<Value = String> {
    "[ ]{0,2}[A-Za-zÀ-ÿĀ-žΑ-ΡΣ-ωА-я一-龥][A-Za-zÀ-ÿΑ-ΡΣ-ωА-я0-9'. -]{0,40}[ ]{0,2}"
}

fn email() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]([A-Za-z0-9_+-]{0,12}[A-Za-z0-9])?@[a-z0-9]{1,12}\\.[A-Za-z]{2,6}"
}

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\+49 (30|151|89) [0-9]{6,8}",
        "\\+1 (415|212) [0-9]{3}-[0-9]{4}",
        "0(30|151) [0-9]{6,8}",
    ]
}

fn country() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["DE", "de", "Fr", "US", "gb", "IE", "at"]).prop_map(String::from)
}

/// A customer every rule accepts, as typed.
fn valid_input() -> impl Strategy<Value = NewCustomer> {
    (
        name(),
        prop::option::of(name()),
        prop::option::of(email()),
        prop::option::of(phone()),
        prop::option::of(country()),
        prop::option::of(name()),
    )
        .prop_map(|(first, last, email, phone, country, city)| NewCustomer {
            fields: CustomerFields {
                first_name: Some(first),
                last_name: last,
                email,
                phone,
                country,
                city,
                ..Default::default()
            },
            attributes: None,
        })
}

/// Anything at all in any field, and a few attributes.
fn any_input() -> impl Strategy<Value = NewCustomer> {
    let field = || prop::option::of(any::<String>());
    (
        prop::collection::vec(field(), Field::ALL.len()),
        prop::option::of(prop::collection::btree_map(
            "[a-z_]{0,5}|.{0,6}",
            any::<String>(),
            0..4,
        )),
    )
        .prop_map(|(values, attributes)| {
            let mut fields = CustomerFields::default();
            for (&f, v) in Field::ALL.iter().zip(values) {
                *fields.slot(f) = v;
            }
            NewCustomer { fields, attributes }
        })
}

fn de() -> Option<Region> {
    Region::parse("DE")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_inputs_are_accepted_and_normalised_once(input in valid_input()) {
        let valid = validate(&input, de()).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
        check_valid(&valid);
        let f = &valid.fields;
        prop_assert_eq!(f.first_name.as_deref(), input.fields.first_name.as_deref().map(str::trim));
        prop_assert_eq!(f.email.clone(), input.fields.email.as_ref().map(|e| e.to_lowercase()));
        prop_assert_eq!(f.country.clone(), input.fields.country.as_ref().map(|c| c.to_uppercase()));
        // Normalising what was stored changes nothing.
        check_validation(&input, de());
    }

    #[test]
    fn any_input_is_accepted_normalised_or_refused_naming_its_fields(input in any_input()) {
        for region in [None, de()] {
            check_validation(&input, region);
        }
    }

    #[test]
    fn a_customer_without_a_name_is_refused_at_the_first_name(
        email in prop::option::of(email()),
        phone in prop::option::of(phone()),
    ) {
        let input = NewCustomer {
            fields: CustomerFields { email, phone, ..Default::default() },
            attributes: None,
        };
        let e = validate(&input, de()).unwrap_err();
        check_refusal(&e, &input);
        prop_assert_eq!(&e.fields()[0].field, "first_name");
    }
}

fn customer(fields: CustomerFields, phone_e164: Option<String>) -> Customer {
    let now = chrono::Utc::now();
    Customer {
        id: CustomerId(uuid::Uuid::now_v7()),
        fields,
        phone_e164,
        crm_id: None,
        sync_state: SyncState::Pending,
        created_at: now,
        updated_at: now,
        origin: Default::default(),
        attributes: BTreeMap::new(),
        crm_updated_at: None,
        crm_version: None,
        crm_version_tag: None,
        pending_edit: false,
        crm_deleted_at: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A stored customer sent with a connector's map and read back with it
    /// has the same values in every field the map carries both ways.
    #[test]
    fn field_maps_round_trip(input in valid_input()) {
        let valid = validate(&input, de()).unwrap();
        let c = customer(valid.fields.clone(), valid.phone_e164.clone());
        for defaults in [generic_rest::DEFAULT_MAP, hubspot::DEFAULT_MAP, bottlecrm::DEFAULT_MAP] {
            let map = FieldMap::new(defaults);
            let sent = map.outgoing(&c);
            let (back, received) = map.incoming_json(&sent);
            for m in map.mappings() {
                if !(m.direction.sends() && m.direction.receives()) {
                    continue;
                }
                prop_assert!(received.contains(m.field));
                let expected = match m.conversion {
                    Conversion::PhoneE164 => c.phone_e164.clone(),
                    _ => c.fields.get(m.field).map(str::to_owned),
                };
                prop_assert_eq!(back.get(m.field).map(str::to_owned), expected, "{} via {}", m.field, m.crm);
            }
        }
    }
}

/// A store whose creates stay unindexed until `flush_search_index`, so both
/// ways a search finds a customer are exercised.
async fn store(dir: &TempDir) -> Store {
    Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            background_indexing: false,
            background_backfill: false,
            locale_region: de(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Runs a property with a store shared by its cases (a store per case
/// would spend the time opening SQLite files).
fn with_store(
    cases: u32,
    strategy: impl Strategy<Value = String>,
    f: impl Fn(&Runtime, &Store, String),
) {
    let rt = Runtime::new().unwrap();
    let dir = TempDir::new().unwrap();
    let store = rt.block_on(store(&dir));
    TestRunner::new(Config::with_cases(cases))
        .run(&strategy, |s| {
            f(&rt, &store, s);
            Ok(())
        })
        .unwrap();
}

/// Any string as a query runs against the real indexes without an error.
#[test]
fn any_query_runs_against_a_real_store() {
    with_store(256, any::<String>(), |rt, store, query| {
        let found = rt.block_on(store.search(&query, 20));
        assert!(found.is_ok(), "{query:?}: {found:?}");
    });
}

/// A name in the scripts people type is found by typing it, moments after
/// the create (from the indexer's queue) and once indexed.
#[test]
fn a_customer_is_found_by_its_exact_name() {
    found_by_exact_name(256, name());
}

/// The same for any string at all. Known gap, found by this test: letters
/// newer than the Unicode tables of SQLite's unicode61 tokenizer (6.1), e.g.
/// "𜽐𑎷", are separators to SQLite but letters to Rust, so such a name has no
/// tokens in the FTS index: found before indexing, not after; and an
/// unassigned code point inside a word ("a\u{3a2}Α") splits it for Rust but
/// not for SQLite (docs/notes.md).
#[test]
#[ignore = "known gap: names made only of letters newer than SQLite's Unicode 6.1 tables"]
fn any_customer_is_found_by_its_exact_name() {
    found_by_exact_name(128, any::<String>());
}

fn found_by_exact_name(cases: u32, names: impl Strategy<Value = String>) {
    with_store(cases, names, |rt, store, name| {
        let input = NewCustomer::default().with(Field::FirstName, name.clone());
        let Ok(created) = rt.block_on(store.create_customer(&input)) else {
            return; // not a valid name: validation's properties cover it
        };
        for when in ["before indexing", "once indexed"] {
            if when == "once indexed" {
                rt.block_on(store.flush_search_index()).unwrap();
            }
            let found = rt.block_on(store.search(&name, 500)).unwrap();
            assert!(
                found.iter().any(|c| c.id == created.id),
                "{name:?} is not found by its name {when}"
            );
        }
    });
}
