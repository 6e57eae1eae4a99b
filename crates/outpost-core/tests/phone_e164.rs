//! Phone numbers in E.164 on real store files: what is stored, the default
//! region, search and the duplicate check by either typed form, customers
//! from the CRM, and the backfill of rows stored before migration 8.

use std::time::{Duration, Instant};

use outpost_core::app_settings::{AppSettingsInput, RegionSource};
use outpost_core::crm::RemoteCustomer;
use outpost_core::customer::phone::Region;
use outpost_core::customer::{CustomerFields, Field, FieldSet};
use outpost_core::sync::lookup;
use outpost_core::{Error, NewCustomer, Store, StoreOptions};
use tempfile::TempDir;

fn person(first: &str, phone: &str) -> NewCustomer {
    NewCustomer::default()
        .with(Field::FirstName, first)
        .with(Field::LastName, "Tester")
        .with(Field::Phone, phone)
}

/// A store that takes no region from the machine's locale and runs no pass
/// in the background (the tests run it), optionally without the indexer.
async fn open(dir: &TempDir, locale: Option<&str>, indexer: bool) -> Store {
    Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            background_indexing: indexer,
            locale_region: locale.and_then(Region::parse),
            background_backfill: false,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn set_region(store: &Store, region: &str) {
    store
        .set_app_settings(&AppSettingsInput {
            default_region: Some(region.into()),
        })
        .await
        .unwrap();
}

fn first_names(found: &[outpost_core::Customer]) -> Vec<String> {
    found
        .iter()
        .map(|c| c.fields.first_name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn the_typed_form_is_shown_and_the_e164_form_is_stored_beside_it() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, None, true).await;
    set_region(&store, "DE").await;
    let c = store
        .create_customer(&person("Ada", "0151 1234567"))
        .await
        .unwrap();
    assert_eq!(c.fields.phone.as_deref(), Some("0151 1234567"));
    assert_eq!(c.phone_e164.as_deref(), Some("+491511234567"));
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["phone"], "0151 1234567");
    assert_eq!(json["phone_e164"], "+491511234567");

    // The queued snapshot carries it too, and it survives a restart.
    let message = &store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(message.payload["phone_e164"], "+491511234567");
    store.close().await;
    let store = open(&dir, None, true).await;
    let again = store.customer(c.id).await.unwrap().unwrap();
    assert_eq!(again.phone_e164.as_deref(), Some("+491511234567"));
    assert_eq!(
        store.default_region(),
        Region::parse("DE"),
        "the setting is stored"
    );

    let none = store
        .create_customer(&NewCustomer::default().with(Field::Company, "No Phone Ltd"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&none).unwrap()["phone_e164"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn a_national_number_needs_a_region_from_the_setting_or_the_locale() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, None, true).await;
    assert_eq!(store.app_settings().default_region, None);
    let Err(Error::Validation(e)) = store.create_customer(&person("Ada", "0151 1234567")).await
    else {
        panic!("a national number without a region is refused");
    };
    let message = e.for_field("phone").unwrap();
    assert!(message.contains("country code, e.g. +49"), "{message}");
    assert!(
        message.contains("set a default region in Settings"),
        "{message}"
    );
    assert!(
        store.search("", 10).await.unwrap().is_empty(),
        "nothing stored"
    );
    // With its country code it needs none.
    store
        .create_customer(&person("Ada", "+49 151 1234567"))
        .await
        .unwrap();
    store.close().await;

    // The OS locale gives the default when nothing is set...
    let store = open(&dir, Some("FR"), true).await;
    let s = store.app_settings();
    assert_eq!(s.default_region, Region::parse("FR"));
    assert_eq!(s.default_region_source, Some(RegionSource::Locale));
    let c = store
        .create_customer(&person("Zoé", "06 12 34 56 78"))
        .await
        .unwrap();
    assert_eq!(c.phone_e164.as_deref(), Some("+33612345678"));
    // ...and the setting wins over it; blank follows the locale again.
    set_region(&store, "de").await;
    assert_eq!(
        store.app_settings().default_region_source,
        Some(RegionSource::Setting)
    );
    let c = store
        .create_customer(&person("Jens", "030 1234567"))
        .await
        .unwrap();
    assert_eq!(c.phone_e164.as_deref(), Some("+49301234567"));
    set_region(&store, " ").await;
    assert_eq!(store.default_region(), Region::parse("FR"));

    let Err(Error::Validation(e)) = store
        .set_app_settings(&AppSettingsInput {
            default_region: Some("Atlantis".into()),
        })
        .await
    else {
        panic!("an unknown region is refused");
    };
    assert!(e.for_field("default_region").is_some());
    assert_eq!(store.default_region(), Region::parse("FR"), "unchanged");
}

/// The same customers typed both ways, searched by both ways; the queue
/// scan (before indexing) and the index (after) agree.
#[tokio::test]
async fn either_typed_form_finds_the_number_before_and_after_indexing() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, None, false).await;
    set_region(&store, "DE").await;
    // Batch-created rows are indexed at once; single creates wait in the queue.
    store
        .create_customers(&[person("Batch", "0170 7654321")])
        .await
        .unwrap();
    store
        .create_customer(&person("National", "0151 1234567"))
        .await
        .unwrap();
    store
        .create_customer(&person("International", "+49 160 5550199"))
        .await
        .unwrap();
    store
        .create_customer(&person("Austrian", "+43 151 1234567"))
        .await
        .unwrap();
    assert_eq!(store.unindexed_customers().await.unwrap(), 3);

    let cases: &[(&str, &[&str])] = &[
        // The whole number, typed the other way: the exact tier, by E.164.
        ("+49 151 1234567", &["National"]),
        ("0049 151 1234567", &["National"]),
        ("0160 5550199", &["International"]),
        ("+49 170 7654321", &["Batch"]),
        // Fragments of the E.164 digits and of the typed digits.
        ("49151", &["National"]),
        ("4915", &["National"]),
        ("49160555", &["International"]),
        ("160555", &["International"]),
        ("4317", &[]),
        ("017076", &["Batch"]),
        ("4917", &["Batch"]),
        // The exact tier first (read as German), then fragments, newest first.
        ("1511234567", &["National", "Austrian"]),
        ("+43 151", &["Austrian"]),
    ];
    let mut before = Vec::new();
    for (q, want) in cases {
        let found = first_names(&store.search(q, 10).await.unwrap());
        assert_eq!(&found, want, "{q:?} before indexing");
        before.push(found);
    }
    store.flush_search_index().await.unwrap();
    assert_eq!(store.unindexed_customers().await.unwrap(), 0);
    for ((q, _), b) in cases.iter().zip(&before) {
        let found = first_names(&store.search(q, 10).await.unwrap());
        assert_eq!(&found, b, "{q:?} after indexing");
    }
}

#[tokio::test]
async fn the_duplicate_check_compares_numbers_in_e164() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, None, true).await;
    set_region(&store, "DE").await;
    store
        .create_customer(&person("National", "0151 1234567"))
        .await
        .unwrap();
    store
        .create_customer(&person("International", "+49 160 5550199"))
        .await
        .unwrap();
    store
        .create_customer(&person("Austrian", "+43 151 1234567"))
        .await
        .unwrap();
    let dupes = |phone: &'static str| {
        let store = store.clone();
        async move {
            let found =
                lookup::possible_duplicates(&store, None, None, Some(phone), lookup::DEADLINE)
                    .await
                    .unwrap();
            first_names(&found)
        }
    };
    assert_eq!(dupes("+49 151 1234567").await, ["National"]);
    assert_eq!(dupes("0151/123 45 67").await, ["National"]);
    assert_eq!(dupes("0160 5550199").await, ["International"]);
    assert_eq!(dupes("+43 (0)151 1234567").await, ["Austrian"]);
    assert!(dupes("0151 7654321").await.is_empty());
}

#[tokio::test]
async fn customers_from_the_crm_get_an_e164_form_when_it_can_be_read() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir, None, true).await;
    set_region(&store, "DE").await;
    let record = |id: &str, name: &str, phone: &str| RemoteCustomer {
        crm_id: id.into(),
        key: None,
        fields: CustomerFields::default()
            .with(Field::FirstName, name)
            .with(Field::Phone, phone),
        received: [Field::FirstName, Field::Phone]
            .into_iter()
            .collect::<FieldSet>(),
        updated_at: None,
        version: None,
    };
    let stored = store
        .cache_remote(&[
            record("1", "Pulled", "030 1234567"),
            record("2", "Odd", "ask at the desk"),
            record("3", "Abroad", "+44 20 7946 0009"),
        ])
        .await
        .unwrap();
    let e164: Vec<_> = stored.iter().map(|c| c.phone_e164.as_deref()).collect();
    assert_eq!(e164, [Some("+49301234567"), None, Some("+442079460009")]);
    assert_eq!(
        stored[1].fields.phone.as_deref(),
        Some("ask at the desk"),
        "never refused"
    );
    assert_eq!(
        first_names(&store.search("+49 30 1234567", 5).await.unwrap()),
        ["Pulled"]
    );
    assert_eq!(
        first_names(&store.search("4420794", 5).await.unwrap()),
        ["Abroad"]
    );
}

/// Rows written by a version before migration 8, indexed by their typed
/// digits only.
async fn store_before_e164(dir: &TempDir) {
    let path = dir.path().join("outpost.db");
    let pool = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    let mut before = sqlx::migrate!("../../migrations");
    let first_seven = before.migrations[..7].to_vec();
    before.migrations = std::borrow::Cow::Owned(first_seven);
    before.run(&pool).await.unwrap();
    for (seq, name, phone, digits) in [
        (1, "National", "0151 1234567", "01511234567"),
        (2, "Swede", "+46 70 123 4567", "46701234567"),
        (3, "Odd", "12", "12"),
    ] {
        sqlx::query(
            "INSERT INTO customers (seq, id, first_name, phone, phone_digits, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
        )
        .bind(seq)
        .bind(format!("0190b1d2-0000-7000-8000-00000000000{seq}"))
        .bind(name)
        .bind(phone)
        .bind(digits)
        .execute(&pool)
        .await
        .unwrap();
        let suffixes: Vec<&str> = (0..digits.len().saturating_sub(2).max(1))
            .map(|i| &digits[i..])
            .collect();
        sqlx::query("INSERT INTO customers_names_fts (rowid, first_name, last_name, company, city) VALUES (?1, ?2, '', '', '')")
            .bind(seq)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO customers_contact_fts (rowid, email, phone) VALUES (?1, '', ?2)")
            .bind(seq)
            .bind(suffixes.join(" "))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

#[tokio::test]
async fn stored_phones_get_their_e164_form_once_and_are_found_by_it() {
    let dir = TempDir::new().unwrap();
    store_before_e164(&dir).await;
    let store = open(&dir, None, true).await;
    // No region yet: only the international number can be read.
    assert_eq!(store.backfill_phone_e164().await.unwrap(), 1);
    assert_eq!(
        first_names(&store.search("46701", 5).await.unwrap()),
        ["Swede"]
    );
    assert!(store.search("+49 151 1234567", 5).await.unwrap().is_empty());
    assert_eq!(store.backfill_phone_e164().await.unwrap(), 0, "idempotent");

    // Setting the region reads the rest again, in the background.
    set_region(&store, "DE").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = store.search("+49 151 1234567", 5).await.unwrap();
        if first_names(&found) == ["National"] {
            assert_eq!(found[0].phone_e164.as_deref(), Some("+491511234567"));
            assert_eq!(
                found[0].fields.phone.as_deref(),
                Some("0151 1234567"),
                "display kept"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the backfill did not run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Found by a fragment of the E.164 digits: it was re-indexed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while first_names(&store.search("4915112", 5).await.unwrap()) != ["National"] {
        assert!(Instant::now() < deadline, "not re-indexed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The typed digits still find it, and an unreadable number stays as it was.
    assert_eq!(
        first_names(&store.search("01511", 5).await.unwrap()),
        ["National"]
    );
    let odd = store.search("odd", 5).await.unwrap();
    assert_eq!(
        (odd[0].fields.phone.as_deref(), odd[0].phone_e164.as_deref()),
        (Some("12"), None)
    );
}

#[tokio::test]
async fn a_store_opened_after_the_upgrade_fills_them_in_by_itself() {
    let dir = TempDir::new().unwrap();
    store_before_e164(&dir).await;
    let store = Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            locale_region: Region::parse("DE"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while first_names(&store.search("+49 151 1234567", 5).await.unwrap()) != ["National"] {
        assert!(
            Instant::now() < deadline,
            "the backfill at open did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let swede = store.search("swede", 5).await.unwrap();
    assert_eq!(swede[0].phone_e164.as_deref(), Some("+46701234567"));
    // The pass is done: nothing is left for another.
    assert_eq!(store.backfill_phone_e164().await.unwrap(), 0);
}
