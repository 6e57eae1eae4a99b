//! Gives stored phones their E.164 form: the rows written before migration
//! 8, and those whose number could not be read in the default region of the
//! time (a national number with no region set). SQL cannot read phone
//! numbers, so this runs here, in batches through the writer turn (a create
//! at the till waits for one batch at most), and re-indexes each row it
//! fills so a search by the E.164 digits finds it.
//!
//! A pass runs at open and when the default region changes; the region of
//! the last complete pass is remembered, so an unchanged store is not
//! scanned again. Passes are idempotent: only rows without an E.164 form
//! are read, and an interrupted pass is finished by the next one.

use super::{customers, Store};
use crate::customer::phone::{self, Region};
use crate::error::Result;

/// The `app_settings` key holding the region of the last complete pass
/// ("" for none).
const DONE_KEY: &str = "phone_e164_backfill_region";
/// Rows read and written per transaction.
const BATCH: i64 = 500;

fn marker(region: Option<Region>) -> &'static str {
    region.map_or("", Region::code)
}

impl Store {
    /// Reads every stored phone without an E.164 form in the current default
    /// region; returns how many got one.
    pub async fn backfill_phone_e164(&self) -> Result<u64> {
        let region = self.default_region();
        let mut after = 0;
        let mut filled = 0;
        // Ends: `after` grows with every batch and the table is finite.
        loop {
            let mut tx = self.write_tx().await?;
            let rows = customers::phones_without_e164(&mut tx, after, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                if self.default_region() == region {
                    sqlx::query(
                        "INSERT INTO app_settings (key, value) VALUES (?1, ?2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(DONE_KEY)
                    .bind(marker(region))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                break;
            };
            let mut read = Vec::new();
            for mut row in rows {
                let Some(e164) = row.phone().and_then(|p| phone::e164_lenient(p, region)) else {
                    continue;
                };
                sqlx::query("UPDATE customers SET phone_e164 = ?2 WHERE seq = ?1")
                    .bind(row.seq)
                    .bind(&e164)
                    .execute(&mut *tx)
                    .await?;
                customers::unindex(&mut tx, row.seq).await?;
                row.phone_e164 = Some(e164);
                read.push(row);
            }
            let entries: Vec<_> = read.iter().map(|r| (r.seq, r.fields())).collect();
            customers::index_many(&mut tx, &entries).await?;
            tx.commit().await?;
            filled += read.len() as u64;
            after = last;
        }
        if filled > 0 {
            tracing::info!(filled, region = ?region, "stored phone numbers given their E.164 form");
        }
        Ok(filled)
    }

    /// Starts a pass in the background unless the last complete one used
    /// the current default region.
    pub(super) async fn spawn_phone_backfill(&self) -> Result<()> {
        let done = self.setting(DONE_KEY).await?;
        if done.as_deref() == Some(marker(self.default_region())) {
            return Ok(());
        }
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.backfill_phone_e164().await {
                // A closed store (a CLI process exiting) ends a pass early:
                // the next open finishes it.
                tracing::debug!(error = %e, "phone backfill stopped; the next start resumes it");
            }
        });
        Ok(())
    }
}
