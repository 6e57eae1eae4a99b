//! The core's typed errors. The IPC edge and the CLI map them once each.

use serde::Serialize;
use ts_rs::TS;

/// One problem with one input field, in words the form shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FieldError {
    /// The field's snake_case name, as in [`crate::NewCustomer`].
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Every field-level problem found in one input; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// The message for one field, if that field has a problem.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    #[error("no customer with key {0}")]
    CustomerNotFound(String),
    #[error("customer {customer} has no conflict on {field}")]
    ConflictNotFound { customer: String, field: String },
    #[error("the local database could not be opened at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the local database could not be upgraded: {0}")]
    Migration(sqlx::migrate::MigrateError),
    #[error("local database error: {0}")]
    Database(sqlx::Error),
    /// SQLite could not grow a file (`SQLITE_FULL`: the disk, or the
    /// database's size limit): the transaction was rolled back whole.
    #[error("the disk is full: nothing was saved")]
    DiskFull,
    /// The file given as the database is not one this version can use; it
    /// was left as it was (see `store::probe`).
    #[error(transparent)]
    UnusableFile(#[from] UnusableFile),
    #[error("{0}")]
    Refused(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}

/// Why the file at a database path cannot be opened as Outpost's. Found by
/// reading it only, before anything is written or migrated.
#[derive(Debug, thiserror::Error)]
pub enum UnusableFile {
    #[error("{path} is not an Outpost database: it is not an SQLite database file. It was left unchanged.")]
    NotSqlite { path: String },
    /// Another application's SQLite database: `what` says how it was told
    /// apart (its application id, or its tables).
    #[error("{path} is not an Outpost database: it is another application's SQLite database ({what}). It was left unchanged.")]
    OtherApplication { path: String, what: String },
    /// Migrations this build does not know were applied to it.
    #[error("{path} was written by a newer version of Outpost (its schema version {found}, this version knows up to {known}): open it with that version or a later one. It was left unchanged.")]
    Newer {
        path: String,
        found: i64,
        known: i64,
    },
}

/// SQLite's primary result code for a full disk or database (extended codes
/// share its low byte).
const SQLITE_FULL: i32 = 13;
/// `SQLITE_IOERR_SHMSIZE`: SQLite could not grow the `-shm` file beside a
/// WAL database. It does so by writing one byte per page, which fails only
/// when the file system has no room left, so it is a full disk too (met
/// when a process opens a database on a disk that is already full).
const SQLITE_IOERR_SHMSIZE: i32 = 10 | (19 << 8);

/// Whether SQLite failed for lack of space.
pub(crate) fn is_disk_full(e: &sqlx::Error) -> bool {
    let Some(code) = e
        .as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
    else {
        return false;
    };
    code & 0xff == SQLITE_FULL || code == SQLITE_IOERR_SHMSIZE
}

/// The one place a database error gets its meaning: a full disk is told
/// apart from every other failure.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if is_disk_full(&e) {
            Error::DiskFull
        } else {
            Error::Database(e)
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError as M;
        match &e {
            M::Execute(db) | M::ExecuteMigration(db, _) if is_disk_full(db) => Error::DiskFull,
            _ => Error::Migration(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
