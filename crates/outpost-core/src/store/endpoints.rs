//! Stored endpoint configuration (never secrets).

use super::{outbox, time, Store, StoreEvent};
use crate::endpoint::{Connectivity, EndpointConfig, EndpointKind};
use crate::error::{Error, Result};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    name: String,
    kind: String,
    base_url: String,
    connectivity: String,
    priority: i64,
    settings: String,
}

impl TryFrom<EndpointRow> for EndpointConfig {
    type Error = Error;
    fn try_from(r: EndpointRow) -> Result<Self> {
        Ok(EndpointConfig {
            kind: EndpointKind::parse(&r.kind)
                .ok_or_else(|| Error::Corrupt(format!("endpoint kind {:?}", r.kind)))?,
            connectivity: Connectivity::parse(&r.connectivity)
                .ok_or_else(|| Error::Corrupt(format!("connectivity {:?}", r.connectivity)))?,
            settings: serde_json::from_str(&r.settings)
                .map_err(|e| Error::Corrupt(format!("endpoint {} settings: {e}", r.name)))?,
            name: r.name,
            base_url: r.base_url,
            priority: r.priority,
        })
    }
}

impl Store {
    /// Inserts or replaces an endpoint after validating it.
    pub async fn save_endpoint(&self, config: &EndpointConfig) -> Result<()> {
        config.validate()?;
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO endpoints (name, kind, base_url, connectivity, priority, settings, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
               connectivity = excluded.connectivity, priority = excluded.priority,
               settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(&config.name)
        .bind(config.kind.as_str())
        .bind(config.base_url.trim())
        .bind(config.connectivity.as_str())
        .bind(config.priority)
        .bind(serde_json::to_string(&config.settings).expect("settings serialize"))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget_form();
        let _ = self.events.send(StoreEvent::EndpointsChanged);
        Ok(())
    }

    /// Every endpoint, primary first.
    pub async fn endpoints(&self) -> Result<Vec<EndpointConfig>> {
        let rows: Vec<EndpointRow> = sqlx::query_as(
            "SELECT name, kind, base_url, connectivity, priority, settings FROM endpoints ORDER BY priority, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EndpointConfig::try_from).collect()
    }

    /// The primary endpoint: the one with the lowest priority (then name).
    /// Only it receives creations and feeds the working set. The one place
    /// this rule lives; the engine keeps its runtimes in this order.
    pub async fn primary_endpoint(&self) -> Result<Option<EndpointConfig>> {
        Ok(self.endpoints().await?.into_iter().next())
    }

    pub async fn endpoint(&self, name: &str) -> Result<Option<EndpointConfig>> {
        Ok(self.endpoints().await?.into_iter().find(|e| e.name == name))
    }

    /// Renames `old` to `config.name` and applies `config`, in one
    /// transaction: the endpoint's queued messages, sync and pull bookkeeping
    /// and cached form follow the new name, so nothing waits for an endpoint
    /// that no longer exists and nothing is fetched again. False when `old`
    /// does not exist.
    pub async fn rename_endpoint(&self, old: &str, config: &EndpointConfig) -> Result<bool> {
        config.validate()?;
        let now = time::to_db(time::now());
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO endpoints (name, kind, base_url, connectivity, priority, settings, created_at, updated_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, created_at, ?7 FROM endpoints WHERE name = ?8",
        )
        .bind(&config.name)
        .bind(config.kind.as_str())
        .bind(config.base_url.trim())
        .bind(config.connectivity.as_str())
        .bind(config.priority)
        .bind(serde_json::to_string(&config.settings).expect("settings serialize"))
        .bind(&now)
        .bind(old)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        outbox::rename_endpoint(&mut tx, old, &config.name).await?;
        let mut statements = vec!["DELETE FROM endpoints WHERE name = ?2".to_owned()];
        // Per-endpoint bookkeeping keyed by name: a stale row under the new
        // name goes, the old name's row takes its place.
        for table in [
            "endpoint_sync",
            "pull_state",
            "form_metadata",
            "api_device_usage",
        ] {
            statements.push(format!("DELETE FROM {table} WHERE endpoint = ?1"));
            statements.push(format!(
                "UPDATE {table} SET endpoint = ?1 WHERE endpoint = ?2"
            ));
        }
        for sql in &statements {
            sqlx::query(sql)
                .bind(&config.name)
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.forget_form();
        let _ = self.events.send(StoreEvent::EndpointsChanged);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(true)
    }

    /// Removes an endpoint. Its undelivered messages become unassigned again,
    /// so whichever endpoint is primary now delivers them.
    pub async fn remove_endpoint(&self, name: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM endpoints WHERE name = ?1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        outbox::unassign_endpoint(&mut tx, name).await?;
        tx.commit().await?;
        self.forget_form();
        let _ = self.events.send(StoreEvent::EndpointsChanged);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(n > 0)
    }
}
