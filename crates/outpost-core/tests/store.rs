//! The store on real SQLite files: durability, concurrency, atomic enqueue, search.

use std::collections::HashSet;

use outpost_core::crm::form::{CrmForm, FieldKind, FieldOption, FormField};
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind};
use outpost_core::{Error, FieldError, NewCustomer, OutboxState, Store, StoreOptions, SyncState};
use tempfile::TempDir;

fn person(first: &str, last: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn open(dir: &TempDir) -> Store {
    Store::open(dir.path().join("outpost.db")).await.unwrap()
}

/// A store whose single creates stay in the indexer's queue until
/// `flush_search_index`.
async fn open_without_indexer(dir: &TempDir) -> Store {
    Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            background_indexing: false,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn creating_a_customer_queues_one_outbox_message() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let c = store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                email: Some("Ada@Example.org".into()),
                ..person("Ada", "Lovelace").fields
            },
            ..person("Ada", "Lovelace")
        })
        .await
        .unwrap();
    assert_eq!(c.sync_state, SyncState::Pending);
    assert_eq!(c.fields.email.as_deref(), Some("ada@example.org"));

    let outbox = store.outbox(None, 100).await.unwrap();
    assert_eq!(outbox.len(), 1);
    let m = &outbox[0];
    assert_eq!(m.customer_id, c.id);
    assert_eq!(m.kind, "customer.create");
    assert_eq!(m.state, OutboxState::Pending);
    assert_eq!(m.attempts, 0);
    assert_eq!(m.last_error, None);
    assert_eq!(m.payload["email"], "ada@example.org");
    assert_eq!(m.payload["id"], c.id.to_string());

    let status = store.status().await.unwrap();
    assert_eq!((status.pending, status.customers), (1, 1));
}

#[tokio::test]
async fn invalid_input_stores_nothing() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let err = store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                email: Some("not-an-email".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap_err();
    let Error::Validation(v) = err else {
        panic!("expected validation, got {err}")
    };
    assert!(v.for_field("email").is_some());
    assert!(v.for_field("first_name").is_some());
    assert_eq!(store.status().await.unwrap().customers, 0);
    assert!(store.outbox(None, 10).await.unwrap().is_empty());
}

/// The create form's as-you-type check: the same answer a create would
/// give (validation, then the cached CRM form), and nothing stored.
#[tokio::test]
async fn checking_a_customer_answers_as_a_create_would_and_stores_nothing() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;

    let bad = NewCustomer::default().with(Field::Email, "nope");
    let check = store.check_customer(&bad).await.unwrap();
    let Error::Validation(refused) = store.create_customer(&bad).await.unwrap_err() else {
        panic!("expected a validation error")
    };
    assert_eq!(
        check.errors, refused.0,
        "every problem, in the create's words"
    );
    assert_eq!(check.normalised, None);

    let ok = person("Ada", "Lovelace")
        .with(Field::Email, " Ada@Example.ORG ")
        .with(Field::Country, "de");
    let check = store.check_customer(&ok).await.unwrap();
    assert_eq!(check.errors, []);
    let normalised = check.normalised.expect("accepted");
    assert_eq!(normalised.email.as_deref(), Some("ada@example.org"));
    assert_eq!(normalised.country.as_deref(), Some("DE"));

    // With the primary CRM's form cached, its rules apply as well.
    let endpoint = EndpointConfig {
        name: "crm".into(),
        kind: EndpointKind::GenericRest,
        base_url: "https://crm.example.com".into(),
        connectivity: Connectivity::OnlineOffline,
        priority: 10,
        settings: Default::default(),
    };
    store.save_endpoint(&endpoint).await.unwrap();
    let lead_source = FormField {
        name: "lead_source".into(),
        label: "Lead source".into(),
        kind: FieldKind::Picklist,
        required: true,
        options: vec![FieldOption {
            value: "web".into(),
            label: "Website".into(),
        }],
        attribute: true,
        max_len: None,
    };
    let form = CrmForm {
        required_one_of: vec![],
        fields: vec![lead_source],
    };
    store.save_form_metadata("crm", &form).await.unwrap();
    let check = store.check_customer(&ok).await.unwrap();
    assert_eq!(
        check.errors,
        [FieldError::new("lead_source", "Lead source is required.")]
    );

    assert_eq!(store.status().await.unwrap().customers, 0);
    assert!(store.outbox(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_enqueue_rolls_the_customer_back() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    store
        .create_customer(&person("Before", "Failure"))
        .await
        .unwrap();
    // Simulate the outbox write failing after the customer row was inserted
    // in the same transaction (disk full, constraint, crash of the statement).
    sqlx::query("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'simulated outbox failure'); END")
        .execute(store.pool_for_tests())
        .await
        .unwrap();

    let err = store
        .create_customer(&person("Lost", "Cause"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err}");
    assert!(err.to_string().contains("simulated outbox failure"));

    // Neither the row, nor its search entry, nor a message survived.
    assert_eq!(store.status().await.unwrap().customers, 1);
    assert!(store.search("lost", 10).await.unwrap().is_empty());
    assert_eq!(store.outbox(None, 10).await.unwrap().len(), 1);
    let fts_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM customers_names_fts WHERE customers_names_fts MATCH 'cause'",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(fts_rows, 0);
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM search_pending WHERE seq NOT IN (SELECT seq FROM customers)",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(orphans, 0);

    // The failed create left no transaction open on a pooled connection.
    sqlx::query("DROP TRIGGER fail_outbox")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    for i in 0..8 {
        store
            .create_customer(&person("After", &format!("Failure{i}")))
            .await
            .unwrap();
    }
    assert_eq!(store.status().await.unwrap().customers, 9);
}

#[tokio::test]
async fn everything_is_still_there_after_a_restart() {
    let dir = TempDir::new().unwrap();
    let mut keys = Vec::new();
    {
        let store = open(&dir).await;
        for i in 0..50 {
            keys.push(
                store
                    .create_customer(&person(&format!("Name{i}"), "Restart"))
                    .await
                    .unwrap()
                    .id,
            );
        }
        store.close().await;
    }
    let store = open(&dir).await;
    for k in &keys {
        let c = store
            .customer(*k)
            .await
            .unwrap()
            .expect("customer survives a restart");
        assert_eq!(c.fields.last_name.as_deref(), Some("Restart"));
    }
    assert_eq!(store.search("restart", 100).await.unwrap().len(), 50);
    assert_eq!(
        store
            .outbox(Some(OutboxState::Pending), 1000)
            .await
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn two_connections_writing_at_once_lose_nothing() {
    let dir = TempDir::new().unwrap();
    // Two independent stores (two pools) on one file, as the app and the CLI would be.
    let a = open(&dir).await;
    let b = open(&dir).await;
    let write = |store: Store, tag: &'static str| {
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..200 {
                ids.push(
                    store
                        .create_customer(&person(&format!("{tag}{i}"), tag))
                        .await
                        .unwrap()
                        .id,
                );
            }
            ids
        })
    };
    let (ra, rb) = tokio::join!(write(a.clone(), "Alpha"), write(b.clone(), "Beta"));
    let all: HashSet<_> = ra.unwrap().into_iter().chain(rb.unwrap()).collect();
    assert_eq!(all.len(), 400);
    let status = a.status().await.unwrap();
    assert_eq!((status.customers, status.pending), (400, 400));
    let outbox = b.outbox(None, 1000).await.unwrap();
    assert!(outbox.windows(2).all(|w| w[0].id < w[1].id));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nested").join("outpost.db");
    let store = Store::open(&path).await.unwrap();
    store
        .create_customer(&person("Private", "Data"))
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

mod search {
    use super::*;

    /// The same customers twice: created at the till and still waiting for
    /// the background indexer, and indexed. Every search must find the same.
    async fn seeded_both() -> Vec<(TempDir, Store)> {
        vec![seeded(false).await, seeded(true).await]
    }

    async fn seeded(indexed: bool) -> (TempDir, Store) {
        let dir = TempDir::new().unwrap();
        let store = open_without_indexer(&dir).await;
        // Jens's number is national: read as German.
        store
            .set_app_settings(&outpost_core::app_settings::AppSettingsInput {
                default_region: Some("DE".into()),
            })
            .await
            .unwrap();
        let rows = [
            NewCustomer {
                fields: CustomerFields {
                    email: Some("maria.garcia@example.com".into()),
                    phone: Some("+34 600 123 456".into()),
                    city: Some("Madrid".into()),
                    ..person("María", "García").fields
                },
                ..person("María", "García")
            },
            NewCustomer {
                fields: CustomerFields {
                    email: Some("mario@shop.example".into()),
                    city: Some("Marseille".into()),
                    ..person("Mario", "Rossi").fields
                },
                ..person("Mario", "Rossi")
            },
            NewCustomer {
                fields: CustomerFields {
                    company: Some("Marble & Co".into()),
                    phone: Some("030 555 0199".into()),
                    ..person("Jens", "Olsen").fields
                },
                ..person("Jens", "Olsen")
            },
            NewCustomer {
                fields: CustomerFields {
                    city: Some("Marbella".into()),
                    email: Some("sam@example.com".into()),
                    ..person("Sam", "Smith").fields
                },
                ..person("Sam", "Smith")
            },
            NewCustomer {
                fields: CustomerFields {
                    company: Some("Zeta Müller GmbH".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        ];
        for r in rows {
            store.create_customer(&r).await.unwrap();
        }
        if indexed {
            store.flush_search_index().await.unwrap();
        }
        assert_eq!(
            store.unindexed_customers().await.unwrap(),
            if indexed { 0 } else { 5 }
        );
        (dir, store)
    }

    fn names(found: &[outpost_core::Customer]) -> Vec<String> {
        found.iter().map(|c| c.display_name()).collect()
    }

    #[tokio::test]
    async fn prefixes_are_case_and_accent_insensitive() {
        for (_d, store) in seeded_both().await {
            assert_eq!(
                names(&store.search("garc", 10).await.unwrap()),
                ["María García"]
            );
            assert_eq!(
                names(&store.search("MARIA", 10).await.unwrap()),
                ["María García"]
            );
            assert_eq!(
                names(&store.search("muller", 10).await.unwrap()),
                ["Zeta Müller GmbH"]
            );
            assert_eq!(
                names(&store.search("ma ga", 10).await.unwrap()),
                ["María García"]
            );
        }
    }

    #[tokio::test]
    async fn names_rank_before_other_fields_and_recent_first_within_a_tier() {
        for (_d, store) in seeded_both().await {
            // "mar" is in two first names, a company, and three cities/emails.
            let found = names(&store.search("mar", 10).await.unwrap());
            assert_eq!(
                found,
                ["Jens Olsen", "Mario Rossi", "María García", "Sam Smith"]
            );
        }
    }

    #[tokio::test]
    async fn exact_email_ranks_first() {
        for (_d, store) in seeded_both().await {
            // "sam@example.com" shares the "example" and "com" tokens with others.
            let found = store.search("Sam@Example.com", 10).await.unwrap();
            assert_eq!(found[0].display_name(), "Sam Smith");
        }
    }

    #[tokio::test]
    async fn phone_fragments_match_anywhere_in_the_number() {
        for (_d, store) in seeded_both().await {
            assert_eq!(
                names(&store.search("0199", 10).await.unwrap()),
                ["Jens Olsen"]
            );
            assert_eq!(
                names(&store.search("555-01", 10).await.unwrap()),
                ["Jens Olsen"]
            );
            assert_eq!(
                names(&store.search("+34 600", 10).await.unwrap()),
                ["María García"]
            );
            // Exact number typed differently still ranks its owner first.
            assert_eq!(
                names(&store.search("030 5550199", 10).await.unwrap()),
                ["Jens Olsen"]
            );
        }
    }

    #[tokio::test]
    async fn empty_query_lists_recent_customers() {
        for (_d, store) in seeded_both().await {
            let found = names(&store.search("  ", 3).await.unwrap());
            assert_eq!(found, ["Zeta Müller GmbH", "Sam Smith", "Jens Olsen"]);
        }
    }

    #[tokio::test]
    async fn fts_operators_in_queries_are_plain_text() {
        for (_d, store) in seeded_both().await {
            for q in [
                "\"",
                "mar*",
                "NEAR(mar",
                "mar OR sam",
                "-",
                "^",
                "{city}:mar",
            ] {
                store
                    .search(q, 10)
                    .await
                    .unwrap_or_else(|e| panic!("{q:?} failed: {e}"));
            }
            assert!(store.search("mar OR sam", 10).await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn words_can_match_a_name_and_a_phone_or_email_fragment() {
        for (_d, store) in seeded_both().await {
            assert_eq!(
                names(&store.search("jens 0199", 10).await.unwrap()),
                ["Jens Olsen"]
            );
            assert_eq!(
                names(&store.search("smith sam@exa", 10).await.unwrap()),
                ["Sam Smith"]
            );
            assert!(store.search("jens 600", 10).await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn limit_is_respected() {
        for (_d, store) in seeded_both().await {
            assert_eq!(store.search("example", 2).await.unwrap().len(), 2);
        }
    }
}

/// A store written before the search index was split (migration 5) is
/// re-indexed on upgrade: names, emails and phone fragments are all found.
#[tokio::test]
async fn customers_indexed_before_the_index_split_are_found_after_the_upgrade() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("outpost.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        let mut before_split = sqlx::migrate!("../../migrations");
        let first_four = before_split.migrations[..4].to_vec();
        before_split.migrations = std::borrow::Cow::Owned(first_four);
        before_split.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO customers (seq, id, first_name, last_name, email, phone, phone_digits, city, created_at, updated_at)
             VALUES (7, '0190b1d2-0000-7000-8000-000000000001', 'Greta', 'Lindqvist', 'greta@fjord.example',
                     '+46 70 123 4567', '46701234567', 'Umeå', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO customers_fts (rowid, first_name, last_name, company, email, phone, city)
             VALUES (7, 'Greta', 'Lindqvist', '', 'greta@fjord.example', '46701234567 6701234567 701234567', 'Umeå')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    for q in ["lindq", "umea", "fjord", "4567", "012345", "greta 4567"] {
        let found = store.search(q, 10).await.unwrap();
        assert_eq!(found.len(), 1, "{q:?} found {found:?}");
        assert_eq!(found[0].display_name(), "Greta Lindqvist");
    }
}

/// Creates at the till are indexed by a background task; until then the
/// search scans them. Both must give the same answers, in the same order.
mod deferred_index {
    use super::*;
    use std::time::{Duration, Instant};

    const FIRST: &[&str] = &["Ada", "Adam", "Ana", "José", "Jonas", "Léa", "Leon", "Mia"];
    const LAST: &[&str] = &["Müller", "Muller", "Mulder", "Berger", "Bernal", "Olsen"];
    const CITIES: &[&str] = &["Berlin", "Bern", "Lyon", "Oslo"];

    fn varied(i: usize) -> NewCustomer {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / 3) % LAST.len()];
        NewCustomer {
            fields: CustomerFields {
                company: i
                    .is_multiple_of(5)
                    .then(|| format!("{} & Söhne", LAST[i % LAST.len()])),
                email: Some(format!("{}.{}{i}@mail-{}.example", first, last, i % 4).to_lowercase()),
                phone: (!i.is_multiple_of(7))
                    .then(|| format!("+49 151 {:07}", i * 7919 % 10_000_000)),
                city: Some(CITIES[i % CITIES.len()].into()),
                ..person(first, last).fields
            },
            ..person(first, last)
        }
    }

    const QUERIES: &[&str] = &[
        "a",
        "ad",
        "ada",
        "jos",
        "JOSE",
        "lea",
        "léa",
        "mul",
        "müller",
        "muller",
        "ber",
        "bern",
        "berl",
        "lyon",
        "söhne",
        "sohne",
        "oslo",
        "0151",
        "151 00",
        "7919",
        "5838",
        "ada.m",
        "mail-2",
        "ada ber",
        "ada 0151",
        "leon 79",
        "jonas mail",
        "mia@",
        "zzz",
        "a b",
        "ana müller",
    ];

    async fn answers(store: &Store) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for q in QUERIES {
            let found = store.search(q, 20).await.unwrap();
            all.push(found.iter().map(|c| c.id.to_string()).collect());
        }
        all
    }

    #[tokio::test]
    async fn the_search_finds_the_same_before_and_after_indexing() {
        let dir = TempDir::new().unwrap();
        let store = open_without_indexer(&dir).await;
        // Older customers arrive in batches (indexed at once), the newest one
        // by one at the till (queued for the indexer).
        let batch: Vec<_> = (0..120).map(varied).collect();
        store.create_customers(&batch).await.unwrap();
        for i in 120..160 {
            store.create_customer(&varied(i)).await.unwrap();
        }
        assert_eq!(store.unindexed_customers().await.unwrap(), 40);
        let before = answers(&store).await;
        assert!(
            before.iter().filter(|a| !a.is_empty()).count() > QUERIES.len() / 2,
            "the queries find something"
        );

        store.flush_search_index().await.unwrap();
        assert_eq!(store.unindexed_customers().await.unwrap(), 0);
        let after = answers(&store).await;
        for ((q, b), a) in QUERIES.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "{q:?} before and after indexing");
        }
    }

    #[tokio::test]
    async fn the_background_indexer_catches_up_within_moments() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir).await;
        for i in 0..30 {
            store.create_customer(&varied(i)).await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while store.unindexed_customers().await.unwrap() > 0 {
            assert!(Instant::now() < deadline, "the indexer did not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let indexed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM customers_names_fts WHERE customers_names_fts MATCH 'ada'",
        )
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
        assert_eq!(indexed, 4);
    }

    #[tokio::test]
    async fn closing_the_store_indexes_what_is_queued() {
        let dir = TempDir::new().unwrap();
        {
            let store = open_without_indexer(&dir).await;
            store.create_customer(&varied(1)).await.unwrap();
            store.close().await;
        }
        let store = open_without_indexer(&dir).await;
        assert_eq!(store.unindexed_customers().await.unwrap(), 0);
        assert_eq!(store.search("adam", 5).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_customer_corrected_before_it_is_indexed_is_found_by_its_new_name() {
        let dir = TempDir::new().unwrap();
        let store = open_without_indexer(&dir).await;
        let c = store
            .create_customer(&person("Lost", "Cause"))
            .await
            .unwrap();
        store
            .update_unsent_customer(c.id, &person("Found", "Cause"))
            .await
            .unwrap();
        for _ in 0..2 {
            assert!(store.search("lost", 5).await.unwrap().is_empty());
            assert_eq!(store.search("found", 5).await.unwrap().len(), 1);
            assert_eq!(store.search("cause", 5).await.unwrap().len(), 1);
            store.flush_search_index().await.unwrap();
        }
        assert_eq!(store.unindexed_customers().await.unwrap(), 0);
    }
}

/// What listeners hear: one event per transaction, naming every customer it
/// touched and how.
mod events {
    use super::*;
    use outpost_core::{CustomerChange, CustomersChanged, StoreEvent};

    fn customer_events(
        rx: &mut tokio::sync::broadcast::Receiver<StoreEvent>,
    ) -> Vec<CustomersChanged> {
        let mut found = Vec::new();
        while let Ok(e) = rx.try_recv() {
            if let StoreEvent::CustomersChanged(c) = e {
                found.push(c);
            }
        }
        found
    }

    #[tokio::test]
    async fn a_create_an_import_and_a_correction_each_tell_once() {
        let dir = TempDir::new().unwrap();
        let store = open(&dir).await;
        let mut rx = store.subscribe();

        let one = store
            .create_customer(&person("Ada", "Lovelace"))
            .await
            .unwrap();
        let imported = store
            .create_customers(&[
                person("Alan", "Turing"),
                person("Grace", "Hopper"),
                person("Kurt", "Gödel"),
            ])
            .await
            .unwrap();
        store
            .update_unsent_customer(one.id, &person("Ada", "King"))
            .await
            .unwrap();
        assert_eq!(
            customer_events(&mut rx),
            vec![
                CustomersChanged {
                    change: CustomerChange::Created,
                    ids: vec![one.id]
                },
                CustomersChanged {
                    change: CustomerChange::Created,
                    ids: imported
                },
                CustomersChanged {
                    change: CustomerChange::Edited,
                    ids: vec![one.id]
                },
            ]
        );
    }
}

#[tokio::test]
async fn refusals_stored_before_the_refused_field_column_keep_their_field() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("outpost.db");
    {
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        let mut before = sqlx::migrate!("../../migrations");
        let earlier: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 20261201000009)
            .cloned()
            .collect();
        before.migrations = std::borrow::Cow::Owned(earlier);
        before.run(&pool).await.unwrap();
        for (n, state, reason) in [
            (1, "needs-attention", "phone: Enter a valid phone number."),
            (
                2,
                "needs-attention",
                "Duplicate contact: the CRM already has one",
            ),
            (3, "pending", "the CRM is unreachable: connection reset"),
        ] {
            let key = format!("0190b1d2-0000-7000-8000-00000000000{n}");
            sqlx::query(
                "INSERT INTO customers (id, last_name, created_at, updated_at)
                 VALUES (?1, 'Old', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
            )
            .bind(&key)
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO outbox (customer_id, kind, payload, state, attempts, next_attempt_at, last_error, created_at, updated_at)
                 VALUES (?1, 'customer.create', '{}', ?2, 1, '2026-11-01T00:00:00.000Z', ?3,
                         '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z')",
            )
            .bind(&key)
            .bind(state)
            .bind(reason)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    let m = store.outbox(None, 10).await.unwrap();
    let seen: Vec<_> = m
        .iter()
        .map(|m| {
            (
                m.last_error.as_deref(),
                m.refused_field.as_deref(),
                m.refusal_message.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                Some("phone: Enter a valid phone number."),
                Some("phone"),
                Some("Enter a valid phone number.")
            ),
            (
                Some("Duplicate contact: the CRM already has one"),
                None,
                Some("Duplicate contact: the CRM already has one")
            ),
            (Some("the CRM is unreachable: connection reset"), None, None),
        ]
    );
}
