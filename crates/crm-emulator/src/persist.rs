//! Optional SQLite persistence (`--state FILE`): a single writer task applies
//! record writes in the order the store made them, so the file never holds a
//! stale version of a record that was written twice concurrently.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::Error;

/// One stored row: `kind` names the table-like collection (e.g. `rest_customer`).
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub kind: String,
    pub id: String,
    pub body: String,
}

#[derive(Debug)]
pub enum Op {
    Put(StoredRow),
    Delete {
        kind: String,
        id: String,
    },
    Clear,
    /// Acknowledged once every earlier op is committed.
    Barrier(oneshot::Sender<()>),
}

#[derive(Debug)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Op>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Opens (creating if needed) the state file and returns its rows.
    pub async fn open(path: &Path) -> Result<(Writer, Vec<StoredRow>), Error> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        // One connection: the writer is the only user after loading.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS records (
                kind TEXT NOT NULL,
                id TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (kind, id)
            )",
        )
        .execute(&pool)
        .await?;
        let rows = sqlx::query("SELECT kind, id, body FROM records ORDER BY kind, id")
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|r| StoredRow {
                kind: r.get(0),
                id: r.get(1),
                body: r.get(2),
            })
            .collect();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(pool, rx));
        Ok((Writer { tx, task }, rows))
    }

    pub fn send(&self, op: Op) {
        // The task only ends after `close`, so a failed send means shutdown is under way.
        let _ = self.tx.send(op);
    }

    /// Flushes every queued write and closes the file.
    pub async fn close(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

async fn run(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Op>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        if let Err(e) = apply(&pool, &batch).await {
            tracing::error!(error = %e, "writing the state file failed");
        }
        for op in batch.drain(..) {
            if let Op::Barrier(ack) = op {
                let _ = ack.send(());
            }
        }
    }
    pool.close().await;
}

/// Applies a batch in one transaction: fewer fsyncs under load.
async fn apply(pool: &SqlitePool, ops: &[Op]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for op in ops {
        match op {
            Op::Put(row) => {
                sqlx::query(
                    "INSERT INTO records (kind, id, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                )
                .bind(&row.kind)
                .bind(&row.id)
                .bind(&row.body)
                .execute(&mut *tx)
                .await?;
            }
            Op::Delete { kind, id } => {
                sqlx::query("DELETE FROM records WHERE kind = ?1 AND id = ?2")
                    .bind(kind)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            Op::Clear => {
                sqlx::query("DELETE FROM records").execute(&mut *tx).await?;
            }
            Op::Barrier(_) => {}
        }
    }
    tx.commit().await
}
