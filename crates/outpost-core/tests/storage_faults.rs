//! The store when its storage fails: a real full disk (a small tmpfs, see
//! `common/small_disk.rs`) and the database's own size limit
//! (`PRAGMA max_page_count`), and files at the database path that are not
//! Outpost's. A full disk refuses a change whole and in words; a file that is
//! not Outpost's is never written.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

mod common;
use common::{inputs, wait_until, DEADLINE};
#[path = "common/small_disk.rs"]
mod small_disk;
use small_disk::SmallDisk;

use crm_emulator::{Config, Emulator, Faults};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::error::UnusableFile;
use outpost_core::sync::flusher::Flusher;
use outpost_core::sync::monitor::Monitor;
use outpost_core::sync::once::{flush_once, FlushError};
use outpost_core::{Error, NewCustomer, OutboxState, Sensitive, Store, StoreOptions};
use sqlx::{Connection, SqliteConnection};

const DISK_FULL_WORDS: &str = "the disk is full: nothing was saved";
/// More creates than a few MiB can hold: a loop that fills the disk ends.
const MAX_CREATES: usize = 20_000;

fn named(first: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(first.to_owned()),
            last_name: Some("Diskfull".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn options() -> StoreOptions {
    StoreOptions {
        locale_region: None,
        background_backfill: false,
        ..StoreOptions::default()
    }
}

/// Creates customers named `{tag}{i:05}` until one is refused; returns how
/// many were created and the refusal.
async fn create_until_refused(store: &Store, tag: &str) -> (usize, Error) {
    for i in 0..MAX_CREATES {
        if let Err(e) = store.create_customer(&named(&format!("{tag}{i:05}"))).await {
            return (i, e);
        }
    }
    panic!("{MAX_CREATES} creates and the disk is still not full");
}

/// Every customer has exactly its one create message and the other way
/// round, the file is sound, and the search finds exactly `expected`.
async fn assert_whole(store: &Store, expected: &[String]) {
    let pool = store.pool_for_tests();
    let orphans: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.customer_id = c.id))
              + (SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id))",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        orphans, 0,
        "a customer without its message, or a message without its customer"
    );
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let status = store.status().await.unwrap();
    assert_eq!(status.customers, expected.len() as u64);
    assert_eq!(status.pending, expected.len() as u64);
    for name in expected {
        let found = store.search(name, 5).await.unwrap();
        assert_eq!(found.len(), 1, "search for {name}: {found:?}");
        assert_eq!(found[0].fields.first_name.as_deref(), Some(name.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_on_a_full_disk_is_refused_whole_and_creates_work_again_when_space_returns() {
    let Some(disk) = SmallDisk::mount(4) else {
        return;
    };
    let db = disk.path().join("outpost.db");
    let store = Store::open_with(&db, options()).await.unwrap();
    store.create_customer(&named("Before00000")).await.unwrap();
    store.set_setting("probe", "kept").await.unwrap();

    let filler = disk.fill();
    // What SQLite already holds (its -wal file's free frames) may take a few
    // more creates; each one acknowledged is whole.
    let (more, refused) = create_until_refused(&store, "Full").await;
    assert!(matches!(refused, Error::DiskFull), "{refused:?}");
    assert_eq!(refused.to_string(), DISK_FULL_WORDS);
    // Again, a batch, and another kind of write: refused the same way.
    let again = store.create_customer(&named("Refused")).await.unwrap_err();
    assert!(matches!(again, Error::DiskFull), "{again:?}");
    let batch = store
        .create_customers(&inputs(20, "Batch"))
        .await
        .unwrap_err();
    assert!(matches!(batch, Error::DiskFull), "{batch:?}");
    let setting = store.set_setting("probe", "changed").await.unwrap_err();
    assert!(matches!(setting, Error::DiskFull), "{setting:?}");
    assert_eq!(
        store.setting("probe").await.unwrap().as_deref(),
        Some("kept")
    );

    let mut expected: Vec<String> = std::iter::once("Before00000".to_owned())
        .chain((0..more).map(|i| format!("Full{i:05}")))
        .collect();
    // Found while the disk is full (the indexer cannot write: the queue is scanned).
    assert_whole(&store, &expected).await;
    assert!(store.search("Refused", 5).await.unwrap().is_empty());

    filler.free();
    store.create_customer(&named("After00000")).await.unwrap();
    store.create_customers(&inputs(3, "Batch")).await.unwrap();
    expected.push("After00000".into());
    expected.extend((0..3).map(|i| format!("Batch{i}")));
    store.flush_search_index().await.unwrap();
    assert_eq!(store.unindexed_customers().await.unwrap(), 0);
    assert_whole(&store, &expected).await;
    store.close().await;

    // And the file opens again as it was.
    let reopened = Store::open_with(&db, options()).await.unwrap();
    assert_whole(&reopened, &expected).await;
    reopened.close().await;
}

/// The same refusal when SQLite's own limit is reached, on any machine:
/// `PRAGMA max_page_count` on the store's one connection.
#[tokio::test]
async fn a_create_at_the_databases_size_limit_is_refused_the_same_way() {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open_with(
        dir.path().join("outpost.db"),
        StoreOptions {
            max_connections: 1,
            background_indexing: false,
            ..options()
        },
    )
    .await
    .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    sqlx::query(&format!("PRAGMA max_page_count = {}", pages + 4))
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    let (created, refused) = create_until_refused(&store, "Limit").await;
    assert!(matches!(refused, Error::DiskFull), "{refused:?}");
    let expected: Vec<String> = (0..created).map(|i| format!("Limit{i:05}")).collect();
    assert_whole(&store, &expected).await;

    sqlx::query("PRAGMA max_page_count = 1073741823")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    store.create_customer(&named("After00000")).await.unwrap();
    store.close().await;
}

/// A round's outcomes that cannot be recorded (the disk filled while the CRM
/// answered): `sync --once` fails in words, the messages stay in flight (not
/// lost, not marked sent), and once there is space the next run sends them
/// again, and the CRM has each customer exactly once.
/// A store on `disk` with the emulator as its generic REST endpoint "crm".
async fn world_on(disk: &SmallDisk) -> (Emulator, Store, Arc<dyn SecretStore>, EndpointConfig) {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let store = Store::open_with(disk.path().join("outpost.db"), options())
        .await
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    secrets
        .set(
            "crm",
            SecretKind::Token,
            &Sensitive::new(emu.token().to_owned()),
        )
        .await
        .unwrap();
    let config = EndpointConfig {
        name: "crm".into(),
        kind: EndpointKind::GenericRest,
        base_url: emu.crm_url(),
        connectivity: Connectivity::OnlineOffline,
        priority: 1,
        settings: EndpointSettings::default(),
    };
    store.save_endpoint(&config).await.unwrap();
    (emu, store, secrets, config)
}

/// The window's flusher keeps a round's outcomes it could not store and
/// stores them once there is space: nothing stays in flight until the next
/// start, and nothing is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_flusher_stores_the_outcomes_once_space_returns() {
    let Some(disk) = SmallDisk::mount(8) else {
        return;
    };
    let (emu, store, secrets, config) = world_on(&disk).await;
    let keys = store.create_customers(&inputs(5, "Queued")).await.unwrap();
    let connector = outpost_core::crm::build(&config, secrets).await.unwrap();
    let monitor = Monitor::new("crm", connector.clone());
    let flusher = Flusher::new("crm", store.clone(), connector, monitor, 100);
    emu.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let round = tokio::spawn({
        let flusher = flusher.clone();
        async move { flusher.round().await }
    });
    wait_until("the round in flight", DEADLINE, || async {
        store.status().await.unwrap().in_flight == 5
    })
    .await;
    let filler = disk.fill();
    let (extra, _) = create_until_refused(&store, "Filler").await;
    let failed = round.await.unwrap().unwrap_err();
    assert!(matches!(failed, Error::DiskFull), "{failed:?}");
    // Still full: kept again.
    let again = flusher.round().await.unwrap_err();
    assert!(matches!(again, Error::DiskFull), "{again:?}");
    assert_eq!(store.status().await.unwrap().in_flight, 5);

    filler.free();
    emu.set_faults(Faults::default());
    let stored = flusher.round().await.unwrap();
    assert_eq!(stored.delivered, 5, "the kept outcomes, not a new send");
    let status = store.status().await.unwrap();
    assert_eq!((status.in_flight, status.sent), (0, 5));
    assert_eq!(status.pending, extra as u64);
    let per_key = emu.puts_per_key();
    for k in &keys {
        assert_eq!(per_key.get(&k.to_string()), Some(&1), "{k} sent once");
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_outcomes_on_a_full_disk_are_not_lost() {
    let Some(disk) = SmallDisk::mount(8) else {
        return;
    };
    let (emu, store, secrets, _) = world_on(&disk).await;
    let keys = store.create_customers(&inputs(5, "Queued")).await.unwrap();
    // Slow answers: time to fill the disk while the round is at the CRM.
    emu.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let flush = tokio::spawn({
        let (store, secrets) = (store.clone(), secrets.clone());
        async move { flush_once(&store, secrets).await }
    });
    wait_until("the round in flight", DEADLINE, || async {
        store.status().await.unwrap().in_flight == 5
    })
    .await;
    let filler = disk.fill();
    // Whatever room SQLite still has is taken by creates (queued, kept).
    let (extra, refused) = create_until_refused(&store, "Filler").await;
    assert!(matches!(refused, Error::DiskFull), "{refused:?}");

    let failed = flush.await.unwrap().unwrap_err();
    assert!(
        matches!(failed, FlushError::Store(Error::DiskFull)),
        "{failed:?}"
    );
    let in_flight = store
        .outbox(Some(OutboxState::InFlight), 100)
        .await
        .unwrap();
    assert_eq!(
        in_flight.len(),
        5,
        "the round's messages are kept in flight"
    );
    assert_eq!(
        store
            .outbox(Some(OutboxState::Sent), 100)
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        emu.records().len(),
        5,
        "the CRM took them before the disk filled"
    );

    filler.free();
    emu.set_faults(Faults::default());
    let summary = flush_once(&store, secrets.clone()).await.unwrap();
    assert_eq!(summary.round.delivered as usize, 5 + extra);
    let status = store.status().await.unwrap();
    assert_eq!((status.pending, status.sent), (0, (5 + extra) as u64));
    let mut per_key = HashMap::<String, usize>::new();
    for r in emu.records() {
        *per_key.entry(r.key.unwrap()).or_default() += 1;
    }
    for k in &keys {
        assert_eq!(per_key.get(&k.to_string()), Some(&1), "{k} exactly once");
    }
    assert_eq!(per_key.len(), 5 + extra);
    store.close().await;
}

/// The file's bytes and modification time, to check nothing wrote it.
fn snapshot(path: &Path) -> (Vec<u8>, SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// Names in the file's directory, to check nothing was created beside it.
fn neighbours(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn refused_untouched(path: &Path) -> UnusableFile {
    let before = snapshot(path);
    let around = neighbours(path);
    let err = match Store::open_with(path, options()).await {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    };
    assert_eq!(snapshot(path), before, "{} was written", path.display());
    assert_eq!(neighbours(path), around, "files appeared beside it");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "the words name the file: {err}"
    );
    match err {
        Error::UnusableFile(u) => u,
        other => panic!("{other:?}"),
    }
}

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn random_bytes_are_not_an_outpost_database() {
    let dir = tempfile::TempDir::new().unwrap();
    for (name, bytes) in [
        (
            "random.db",
            (0..8192u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                .collect::<Vec<_>>(),
        ),
        ("short.db", b"SQLite format 3\0".to_vec()),
        ("text.db", b"name,email\nIda,ida@example.com\n".to_vec()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = refused_untouched(&path).await;
        assert!(
            matches!(err, UnusableFile::NotSqlite { .. }),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string().contains("is not an SQLite database file"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn another_applications_sqlite_database_is_left_alone() {
    let dir = tempfile::TempDir::new().unwrap();
    // Plain tables of its own.
    let plain = dir.path().join("notes.db");
    let mut conn = raw(&plain).await;
    sqlx::raw_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let err = refused_untouched(&plain).await;
    assert!(
        matches!(err, UnusableFile::OtherApplication { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("another application's SQLite database (tables notes)"),
        "{err}"
    );

    // Another sqlx application: a migrations table, none of Outpost's.
    let sqlx_app = dir.path().join("other-sqlx.db");
    let mut conn = raw(&sqlx_app).await;
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations VALUES (1, 'init', CURRENT_TIMESTAMP, 1, x'00', 1);
         CREATE TABLE orders (id INTEGER PRIMARY KEY);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let err = refused_untouched(&sqlx_app).await;
    assert!(
        matches!(err, UnusableFile::OtherApplication { .. }),
        "{err:?}"
    );

    // Marked as another application's in its header.
    let marked = dir.path().join("marked.db");
    let mut conn = raw(&marked).await;
    sqlx::raw_sql("PRAGMA application_id = 1234; CREATE TABLE t (x);")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let err = refused_untouched(&marked).await;
    assert!(
        err.to_string().contains("application id is 0x000004d2"),
        "{err}"
    );
}

/// A later Outpost applied migrations this build does not know: refused, not
/// migrated downwards, and said so.
#[tokio::test]
async fn a_database_from_a_newer_outpost_is_not_migrated_downwards() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("outpost.db");
    let store = Store::open_with(&path, options()).await.unwrap();
    store.create_customer(&named("Kept")).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (29991231000001, 'from the future', 1, x'00', 1)",
    )
    .execute(store.pool_for_tests())
    .await
    .unwrap();
    store.close().await;
    // The last connection's close (its `PRAGMA optimize`, the checkpoint)
    // may still be writing: done when it removed the -wal file.
    let wal = dir.path().join("outpost.db-wal");
    wait_until("the store to be closed", DEADLINE, || async {
        !wal.exists()
    })
    .await;
    let err = refused_untouched(&path).await;
    match &err {
        UnusableFile::Newer { found, known, .. } => {
            assert_eq!(*found, 29991231000001);
            assert!(*known >= 20261202000010, "{known}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("written by a newer version of Outpost"),
        "{err}"
    );
}

#[tokio::test]
async fn empty_missing_and_older_outpost_files_open() {
    let dir = tempfile::TempDir::new().unwrap();
    // Missing: created. Empty (0 bytes): a new database too.
    for name in ["missing.db", "empty.db"] {
        let path = dir.path().join(name);
        if name == "empty.db" {
            std::fs::write(&path, b"").unwrap();
        }
        let store = Store::open_with(&path, options()).await.unwrap();
        let id: i32 = sqlx::query_scalar("PRAGMA application_id")
            .fetch_one(store.pool_for_tests())
            .await
            .unwrap();
        assert_eq!(id, outpost_core::store::APPLICATION_ID, "{name}");
        store.close().await;
    }
    // An SQLite file with no tables holds nothing to lose: it becomes Outpost's.
    let bare = dir.path().join("bare.db");
    let mut conn = raw(&bare).await;
    sqlx::raw_sql("PRAGMA user_version = 0; VACUUM;")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    Store::open_with(&bare, options())
        .await
        .unwrap()
        .close()
        .await;

    // Made before the application id existed: no id, Outpost's migrations.
    let older = dir.path().join("older.db");
    let store = Store::open_with(&older, options()).await.unwrap();
    store.create_customer(&named("Older")).await.unwrap();
    sqlx::raw_sql(
        "PRAGMA application_id = 0;
         DELETE FROM _sqlx_migrations WHERE version = 20261202000010;",
    )
    .execute(store.pool_for_tests())
    .await
    .unwrap();
    store.close().await;
    let store = Store::open_with(&older, options()).await.unwrap();
    assert_eq!(store.search("Older", 5).await.unwrap().len(), 1);
    let id: i32 = sqlx::query_scalar("PRAGMA application_id")
        .fetch_one(store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(id, outpost_core::store::APPLICATION_ID);
    store.close().await;
}
