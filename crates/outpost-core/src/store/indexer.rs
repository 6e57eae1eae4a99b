//! Background search indexing.
//!
//! A create at the till stores its row and outbox message without touching
//! the FTS5 indexes: writing an index segment per transaction was most of a
//! create's latency and all of its tail. The row waits in `search_pending`
//! (where the search still finds it, see `customers::unindexed_matches`)
//! until this task indexes it once the till is quiet, many rows in one
//! transaction.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::time::MissedTickBehavior;

use super::customers;
use super::writer::Writer;
use crate::error::Result;

/// The task indexes once no create came for this long, so it never competes
/// with a clerk (or an import script) creating customers one after another.
const QUIET: Duration = Duration::from_millis(100);

/// ...or once this many creates are queued without a pause: the most the
/// search scans, so no create is ever missing from a lookup.
const HIGH_WATER: usize = customers::UNINDEXED_SCAN as usize;

/// Rows queued by another process (a CLI) are picked up at least this often.
const SWEEP: Duration = Duration::from_secs(2);

/// What the creates and the indexer of one store share. A create only
/// touches two atomics: waking the task on every create cost more than the
/// index segment it saved.
pub(super) struct IndexQueue {
    started: Instant,
    /// When the last create committed, in ms since `started`.
    last_create_ms: AtomicU64,
    queued_here: AtomicUsize,
}

impl Default for IndexQueue {
    fn default() -> Self {
        IndexQueue {
            started: Instant::now(),
            last_create_ms: AtomicU64::new(0),
            queued_here: AtomicUsize::new(0),
        }
    }
}

impl IndexQueue {
    /// A create committed a row to index.
    pub(super) fn queued(&self) {
        self.last_create_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.queued_here.fetch_add(1, Ordering::Relaxed);
    }

    /// Indexes everything queued so far, one batch per write transaction; a
    /// create waiting for the writer turn goes between two batches.
    pub(super) async fn drain(&self, pool: &SqlitePool, writer: &Writer) -> Result<()> {
        self.queued_here.store(0, Ordering::Relaxed);
        let Some(up_to) = customers::newest_queued(pool).await? else {
            return Ok(());
        };
        loop {
            // IMMEDIATE: two processes (the app and a CLI) never index the same rows.
            let mut tx = writer.begin().await?;
            let taken = customers::index_queued(&mut tx, up_to).await?;
            tx.commit().await?;
            if taken == 0 {
                return Ok(());
            }
        }
    }

    /// Creates are queued and the till is quiet, or the queue is long.
    fn worth_indexing(&self) -> bool {
        let queued = self.queued_here.load(Ordering::Relaxed);
        let since_last =
            self.started.elapsed().as_millis() as u64 - self.last_create_ms.load(Ordering::Relaxed);
        queued >= HIGH_WATER || (queued > 0 && since_last >= QUIET.as_millis() as u64)
    }
}

pub(super) fn spawn(pool: SqlitePool, writer: Writer, queue: Arc<IndexQueue>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(QUIET);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut last_sweep = Instant::now();
        // A full disk is said once, not at every retry until space returns.
        let mut disk_full = false;
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if !queue.worth_indexing() && last_sweep.elapsed() < SWEEP {
                continue;
            }
            last_sweep = Instant::now();
            match queue.drain(&pool, &writer).await {
                Ok(()) => disk_full = false,
                Err(crate::Error::Database(sqlx::Error::PoolClosed)) => break,
                Err(crate::Error::DiskFull) if disk_full => {}
                Err(e) => {
                    disk_full = matches!(e, crate::Error::DiskFull);
                    tracing::warn!(error = %e, "search indexing failed; will retry");
                }
            }
        }
    });
}
