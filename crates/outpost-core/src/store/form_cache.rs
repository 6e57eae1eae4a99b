//! The CRM's form metadata, cached per endpoint with its fetch time so the
//! creation form works offline.

use super::{time, Store, StoreEvent};
use crate::crm::form::{CrmForm, FormMetadata};
use crate::error::{Error, Result};

const NOT_FETCHED_YET: &str = "This device has not reached the CRM since it was set up, so the CRM's own form (its required fields and lists) is not known yet: the basic form is shown, and the CRM may still ask for more.";

impl Store {
    pub async fn save_form_metadata(&self, endpoint: &str, form: &CrmForm) -> Result<()> {
        let body = serde_json::to_string(form).expect("a form serializes");
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO form_metadata (endpoint, fetched_at, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (endpoint) DO UPDATE SET fetched_at = excluded.fetched_at, body = excluded.body",
        )
        .bind(endpoint)
        .bind(time::to_db(time::now()))
        .bind(body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget_form();
        let _ = self.events.send(StoreEvent::FormChanged);
        Ok(())
    }

    /// The cached form may be stale (new metadata, endpoints changed).
    pub(super) fn forget_form(&self) {
        *self.form.write().expect("form cache lock") = None;
    }

    /// The form for new customers: the primary endpoint's cached CRM form,
    /// else the built-in one (with a note when a CRM is configured).
    pub async fn current_form(&self) -> Result<FormMetadata> {
        if let Some(form) = self.form.read().expect("form cache lock").clone() {
            return Ok(form);
        }
        let form = self.load_form().await?;
        *self.form.write().expect("form cache lock") = Some(form.clone());
        Ok(form)
    }

    async fn load_form(&self) -> Result<FormMetadata> {
        let Some(primary) = self.primary_endpoint().await? else {
            return Ok(FormMetadata::built_in(None));
        };
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT fetched_at, body FROM form_metadata WHERE endpoint = ?1")
                .bind(&primary.name)
                .fetch_optional(&self.pool)
                .await?;
        let Some((fetched_at, body)) = row else {
            return Ok(FormMetadata::built_in(Some(NOT_FETCHED_YET.into())));
        };
        let form: CrmForm = serde_json::from_str(&body)
            .map_err(|e| Error::Corrupt(format!("cached form of {}: {e}", primary.name)))?;
        let fetched_at = time::from_db(&fetched_at)?.to_rfc3339();
        Ok(FormMetadata::from_crm(&primary.name, fetched_at, form))
    }
}
