//! Stored endpoint configuration (never secrets).

use super::{time, Store, StoreEvent};
use crate::error::{Error, Result};
use crate::sync::endpoint::{Connectivity, EndpointConfig, EndpointKind};

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
        .execute(&self.pool)
        .await?;
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

    pub async fn endpoint(&self, name: &str) -> Result<Option<EndpointConfig>> {
        Ok(self.endpoints().await?.into_iter().find(|e| e.name == name))
    }

    pub async fn remove_endpoint(&self, name: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM endpoints WHERE name = ?1")
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.forget_form();
        let _ = self.events.send(StoreEvent::EndpointsChanged);
        Ok(n > 0)
    }
}
