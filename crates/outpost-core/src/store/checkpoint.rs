//! Background WAL checkpoints.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the
//! threshold, so one unlucky create at the till pays for copying the whole
//! WAL back into the database. Instead, automatic checkpoints are off and this
//! task runs a PASSIVE checkpoint (it never blocks readers or writers) every
//! second. When the last connection closes SQLite checkpoints anyway, so a
//! short-lived CLI process leaves no WAL behind.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::time::MissedTickBehavior;

const INTERVAL: Duration = Duration::from_secs(1);

pub(super) fn spawn(pool: SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        // After a stall one checkpoint catches up with everything; a burst of
        // them would only repeat the work.
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        tick.tick().await;
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                Ok(_) => {}
                Err(sqlx::Error::PoolClosed) => break,
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
            }
        }
    });
}
