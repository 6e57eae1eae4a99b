//! The CRM's form metadata, cached per endpoint with its fetch time so the
//! creation form works offline; with it the CRM's field list, against which
//! the endpoint's field map is checked and from which its form extras are
//! built when the form is read (so a changed map applies at once).

use serde::{Deserialize, Serialize};

use super::{time, Store, StoreEvent};
use crate::crm::field_check::{self, FieldList};
use crate::crm::form::{CrmForm, FormMetadata};
use crate::error::{Error, Result};

/// One cached row's body: the connector's form (the format older rows
/// have) plus, when the CRM lists them, its fields.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    #[serde(flatten)]
    form: CrmForm,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crm_fields: Option<FieldList>,
}

const NOT_FETCHED_YET: &str = "This device has not reached the CRM since it was set up, so the CRM's own form (its required fields and lists) is not known yet: the basic form is shown, and the CRM may still ask for more.";

impl Store {
    pub async fn save_form_metadata(&self, endpoint: &str, form: &CrmForm) -> Result<()> {
        self.save_crm_metadata(endpoint, form, None).await
    }

    /// Caches what was fetched from the CRM: its form and, when it listed
    /// them, its fields.
    pub async fn save_crm_metadata(
        &self,
        endpoint: &str,
        form: &CrmForm,
        fields: Option<&FieldList>,
    ) -> Result<()> {
        let body = serde_json::to_string(&Cached {
            form: form.clone(),
            crm_fields: fields.cloned(),
        })
        .expect("a form serializes");
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
        let map = crate::crm::field_map(&primary);
        let extras = &primary.settings.form_extra;
        let Some((fetched_at, cached)) = self.cached(&primary.name).await? else {
            let mut form = FormMetadata::built_in(Some(NOT_FETCHED_YET.into()));
            // The admin's extras as free text until the CRM says more.
            form.fields = field_check::compose(CrmForm::default(), None, &map, extras).fields;
            return Ok(form);
        };
        let form = field_check::compose(cached.form, cached.crm_fields.as_ref(), &map, extras);
        Ok(FormMetadata::from_crm(&primary.name, fetched_at, form))
    }

    /// The CRM's field list as last fetched for an endpoint, with its fetch
    /// time (RFC 3339); `None` when never fetched or the CRM lists none.
    pub async fn cached_field_list(&self, endpoint: &str) -> Result<Option<(String, FieldList)>> {
        Ok(self
            .cached(endpoint)
            .await?
            .and_then(|(at, c)| c.crm_fields.map(|f| (at, f))))
    }

    async fn cached(&self, endpoint: &str) -> Result<Option<(String, Cached)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT fetched_at, body FROM form_metadata WHERE endpoint = ?1")
                .bind(endpoint)
                .fetch_optional(&self.pool)
                .await?;
        let Some((fetched_at, body)) = row else {
            return Ok(None);
        };
        let cached: Cached = serde_json::from_str(&body)
            .map_err(|e| Error::Corrupt(format!("cached form of {endpoint}: {e}")))?;
        Ok(Some((time::from_db(&fetched_at)?.to_rfc3339(), cached)))
    }
}
