//! The process's writer turn: every write transaction of this process waits
//! here, in FIFO order, before `BEGIN IMMEDIATE`.
//!
//! SQLite has one writer at a time. A writer that finds the lock taken sleeps
//! in SQLite's busy handler, in steps of milliseconds; one that waits here is
//! woken the moment the previous one ends. So only another process (a CLI)
//! ever meets the busy handler.

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqlitePool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::Result;

/// The pool and the turn its writers take. Cheap to clone.
#[derive(Clone)]
pub(super) struct Writer {
    pool: SqlitePool,
    turn: Arc<Mutex<()>>,
}

impl Writer {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Writer {
            pool,
            turn: Arc::new(Mutex::new(())),
        }
    }

    /// A write transaction holding SQLite's write lock from its first
    /// statement. A deferred one that reads first fails at once with
    /// "database is locked" if another connection commits before its first
    /// write (its snapshot is stale); an immediate one waits.
    pub(super) async fn begin(&self) -> Result<WriteTx> {
        let turn = self.turn.clone().lock_owned().await;
        let conn = self.sound_connection().await?;
        // `Pool::begin_with` does the same with a connection of its choosing.
        let tx = sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into())).await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// A connection for one batch of statements that carries its own
    /// `BEGIN IMMEDIATE ... COMMIT` (the create's single round trip), in turn.
    pub(super) async fn connection(&self) -> Result<WriteConn> {
        let turn = self.turn.clone().lock_owned().await;
        let conn = self.sound_connection().await?;
        Ok(WriteConn { conn, _turn: turn })
    }

    /// A pooled connection that sqlx does not believe inside a transaction.
    /// When SQLite rolls a transaction back by itself (it may on
    /// `SQLITE_FULL`), sqlx's `ROLLBACK` on drop fails and the connection
    /// comes back to the pool still counting the transaction open: every
    /// `BEGIN` on it would then fail. Such a connection is closed here.
    async fn sound_connection(&self) -> Result<PoolConnection<Sqlite>> {
        // Each pass closes one stale connection; the pool holds few.
        for _ in 0..16 {
            let mut conn = self.pool.acquire().await?;
            if !sqlx::Connection::is_in_transaction(&*conn) {
                return Ok(conn);
            }
            tracing::debug!("closing a connection left inside a rolled-back transaction");
            conn.close_on_drop();
        }
        Ok(self.pool.acquire().await?)
    }
}

/// A write transaction and this process's writer turn, released together.
pub(super) struct WriteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(super) async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A pooled connection and the writer turn, released together.
pub(super) struct WriteConn {
    pub(super) conn: PoolConnection<Sqlite>,
    _turn: OwnedMutexGuard<()>,
}
