//! The device's settings (`crate::app_settings`) as the store keeps and
//! applies them: the default region is read once at open and kept here, so
//! validating a create costs no query.

use std::sync::RwLock;

use sqlx::SqlitePool;

use super::Store;
use crate::app_settings::{AppSettings, AppSettingsInput, DEFAULT_REGION_KEY};
use crate::customer::phone::Region;
use crate::error::Result;

/// The stored default region and the OS locale's.
pub(super) struct Regions {
    locale: Option<Region>,
    setting: RwLock<Option<Region>>,
}

impl Regions {
    pub(super) async fn load(pool: &SqlitePool, locale: Option<Region>) -> Result<Self> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM app_settings WHERE key = ?1")
                .bind(DEFAULT_REGION_KEY)
                .fetch_optional(pool)
                .await?;
        let setting = stored.as_deref().and_then(|code| {
            let region = Region::parse(code);
            if region.is_none() {
                // Only a newer version or a hand edit writes another value.
                tracing::warn!(value = code, "ignoring an unknown default region");
            }
            region
        });
        Ok(Regions {
            locale,
            setting: RwLock::new(setting),
        })
    }

    fn setting(&self) -> Option<Region> {
        *self.setting.read().unwrap_or_else(|e| e.into_inner())
    }

    fn settings(&self) -> AppSettings {
        AppSettings::new(self.setting(), self.locale)
    }
}

impl Store {
    /// The region phone numbers typed without a country code are read in:
    /// the setting, else the OS locale's, else none.
    pub fn default_region(&self) -> Option<Region> {
        self.regions.settings().default_region
    }

    pub fn app_settings(&self) -> AppSettings {
        self.regions.settings()
    }

    /// Validates and stores the settings; a changed default region applies
    /// to the next create and search at once, and stored phones that had no
    /// E.164 form are read again in the new region (in the background).
    pub async fn set_app_settings(&self, input: &AppSettingsInput) -> Result<AppSettings> {
        let region = input.region()?;
        let before = self.default_region();
        let mut tx = self.write_tx().await?;
        match region {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO app_settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(DEFAULT_REGION_KEY)
                .bind(r.code())
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM app_settings WHERE key = ?1")
                    .bind(DEFAULT_REGION_KEY)
                    .execute(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        *self
            .regions
            .setting
            .write()
            .unwrap_or_else(|e| e.into_inner()) = region;
        if self.default_region() != before {
            tracing::info!(region = ?self.default_region(), "default region for phone numbers changed");
            self.spawn_phone_backfill().await?;
        }
        Ok(self.app_settings())
    }
}
