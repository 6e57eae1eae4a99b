//! Whether the file at a database path is Outpost's, found by reading it
//! only: before the store creates it, sets WAL mode or migrates anything.
//! A missing or empty file is a new database; an SQLite file with no tables
//! becomes one too (there is nothing in it to lose). Everything else must
//! be Outpost's, at a schema this build knows.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::error::{Error, Result, UnusableFile};

/// `PRAGMA application_id` of Outpost's databases, "OUTP" in ASCII; set by
/// migration 10 (databases made before it have none, and are told apart by
/// their migrations).
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"OUTP");

/// The first 16 bytes of every SQLite 3 database file.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Where the header keeps the application id (big-endian), and its length.
const APPLICATION_ID_AT: usize = 68;
const HEADER_LEN: usize = 100;
/// `SQLITE_NOTADB`: SQLite's word for a file that is not a database.
const SQLITE_NOTADB: &str = "26";
/// How many of another application's tables the error names.
const TABLES_NAMED: usize = 5;

/// Checks the file at `path` (see the module). Writes nothing.
pub(super) async fn check(path: &Path, migrator: &Migrator) -> Result<()> {
    let shown = || path.display().to_string();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Open {
                path: shown(),
                source,
            })
        }
    };
    let mut header = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(|source| Error::Open {
            path: shown(),
            source,
        })?;
    drop(file);
    if header.is_empty() {
        // New, or created by SQLite with every page still in its -wal file.
        return Ok(());
    }
    if header.len() < HEADER_LEN || !header.starts_with(MAGIC) {
        return Err(UnusableFile::NotSqlite { path: shown() }.into());
    }
    let id_bytes: [u8; 4] = header[APPLICATION_ID_AT..APPLICATION_ID_AT + 4]
        .try_into()
        .expect("four bytes");
    let application_id = i32::from_be_bytes(id_bytes);
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(UnusableFile::OtherApplication {
            path: shown(),
            what: format!("its application id is {application_id:#010x}"),
        }
        .into());
    }
    let schema = read_schema(path).await.map_err(|e| match e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some(SQLITE_NOTADB) => {
            UnusableFile::NotSqlite { path: shown() }.into()
        }
        other => Error::from(other),
    })?;
    judge(&schema, application_id == APPLICATION_ID, migrator, shown)
}

/// What the probe reads of a database: its tables and applied migrations.
struct Schema {
    tables: Vec<String>,
    /// `None` without sqlx's migrations table.
    migrations: Option<Vec<i64>>,
}

/// One read-only connection, no journal-mode change, closed at once.
async fn read_schema(path: &Path) -> std::result::Result<Schema, sqlx::Error> {
    // Without a -wal file, nothing is newer than the file itself: read it as
    // immutable, so SQLite creates no -wal and -shm files beside it (a
    // read-only connection to a WAL database would, and leave them).
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(!Path::new(&wal).exists())
        .connect()
        .await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    let migrations = if tables.iter().any(|t| t == "_sqlx_migrations") {
        Some(
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await?,
        )
    } else {
        None
    };
    conn.close().await?;
    Ok(Schema { tables, migrations })
}

fn judge(
    schema: &Schema,
    marked_outpost: bool,
    migrator: &Migrator,
    shown: impl Fn() -> String,
) -> Result<()> {
    if schema.tables.is_empty() {
        return Ok(());
    }
    let known: HashSet<i64> = migrator.iter().map(|m| m.version).collect();
    let first = migrator.iter().map(|m| m.version).min();
    let applied = schema.migrations.as_deref().unwrap_or_default();
    // Outpost's own when marked so, or when its first migration ran here
    // (another sqlx application has a migrations table too).
    if !marked_outpost && !first.is_some_and(|f| applied.contains(&f)) {
        let mut named: Vec<&str> = schema
            .tables
            .iter()
            .map(String::as_str)
            .take(TABLES_NAMED)
            .collect();
        if schema.tables.len() > named.len() {
            named.push("...");
        }
        return Err(UnusableFile::OtherApplication {
            path: shown(),
            what: format!("tables {}", named.join(", ")),
        }
        .into());
    }
    if let Some(&found) = applied.iter().filter(|v| !known.contains(v)).max() {
        return Err(UnusableFile::Newer {
            path: shown(),
            found,
            known: known.iter().copied().max().unwrap_or_default(),
        }
        .into());
    }
    Ok(())
}
