//! This device's requests per hour to CRMs that count a daily budget
//! (`crm::connector::DeviceUsage`), kept so that a restarted process goes on
//! counting a device's share of the day instead of starting at zero.

use super::Store;
use crate::crm::connector::DeviceUsage;
use crate::error::Result;

/// Hours older than this are dropped when a newer count is written: a
/// budget day is 24 of them, plus the one under way.
const KEPT_HOURS: i64 = 25;

impl Store {
    /// What [`write`] kept for `endpoint`: its last day of hours.
    pub async fn device_usage(&self, endpoint: &str) -> Result<DeviceUsage> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT hour, requests FROM api_device_usage WHERE endpoint = ?1 ORDER BY hour",
        )
        .bind(endpoint)
        .fetch_all(&self.pool)
        .await?;
        let mut usage = DeviceUsage::default();
        for (hour, requests) in rows {
            usage.add(hour, u32::try_from(requests).unwrap_or(u32::MAX));
        }
        Ok(usage)
    }
}

/// Keeps a connector's count. Each hour keeps the larger of the stored and
/// the new figure: a process reports what it restored plus what it sent,
/// so the larger is the newer, and two processes never add up one hour twice.
pub(super) async fn write(
    conn: &mut sqlx::SqliteConnection,
    endpoint: &str,
    usage: &DeviceUsage,
) -> Result<()> {
    let Some(newest) = usage.hours.iter().map(|(h, _)| *h).max() else {
        return Ok(());
    };
    // One statement for the day's hours: a round holds the writer turn
    // while it records its outcomes, and creates at the till wait for it.
    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO api_device_usage (endpoint, hour, requests) ",
    );
    insert.push_values(&usage.hours, |mut row, (hour, requests)| {
        row.push_bind(endpoint)
            .push_bind(*hour)
            .push_bind(i64::from(*requests));
    });
    insert.push(
        " ON CONFLICT (endpoint, hour) DO UPDATE SET requests = max(requests, excluded.requests)",
    );
    insert.build().execute(&mut *conn).await?;
    sqlx::query("DELETE FROM api_device_usage WHERE endpoint = ?1 AND hour <= ?2")
        .bind(endpoint)
        .bind(newest - KEPT_HOURS * 3600)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
