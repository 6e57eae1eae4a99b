//! Edits to BottleCRM contacts: BottleCRM has no precondition on a write,
//! so an update reads the contact (`GET /api/contacts/{id}/`), merges per
//! field (`crm::update_merge`) and `PATCH`es only the fields still at their
//! base. A person changing the same field in BottleCRM between the read
//! and the write is overwritten: the race window
//! docs/connectors/bottlecrm.md names.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{error_for, refusal, BottleCrm, MISSING_NAME};
use crate::crm::connector::{OutgoingUpdate, UpdateOutcome};
use crate::crm::error::{ConnectorError, RecordError};
use crate::crm::http::{body_or_empty, parse_json};
use crate::crm::update_merge;
use crate::customer::Field;
use reqwest::Method;

/// `GET /api/contacts/{id}/`'s answer: the contact under `contact_obj`.
#[derive(Debug, Deserialize)]
struct Detail {
    contact_obj: Map<String, Value>,
}

impl BottleCrm {
    pub(super) async fn update_contact(&self, u: &OutgoingUpdate) -> UpdateOutcome {
        match self.try_update(u).await {
            Ok(outcome) => outcome,
            Err(e) => UpdateOutcome::Failed(e),
        }
    }

    async fn try_update(&self, u: &OutgoingUpdate) -> Result<UpdateOutcome, ConnectorError> {
        let id = match &u.customer.crm_id {
            Some(id) => Some(id.clone()),
            None => self.find_by_key(u.customer.id).await?,
        };
        let Some(id) = id else {
            return Ok(not_in_bottlecrm());
        };
        let url = self.url(&format!("api/contacts/{id}/"));
        let timed = self.send(Method::GET, url.clone(), None).await?;
        match timed.response.status().as_u16() {
            200 => {}
            404 => return Ok(not_in_bottlecrm()),
            _ => return Err(error_for(timed).await),
        }
        let detail: Detail = parse_json(&body_or_empty(timed.response).await, "contact")?;
        let names = self.name_fields();
        let theirs = |name: &str| {
            let v = match detail.contact_obj.get(name)? {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            };
            // The placeholder for a name the customer never had.
            let placeholder = names.contains(&name) && v == MISSING_NAME;
            (!v.is_empty() && !placeholder).then_some(v)
        };
        let plan = update_merge::plan(u, &self.map, Some(&theirs));
        if plan.nothing_to_write() {
            return Ok(UpdateOutcome::Applied {
                version: None,
                conflicts: plan.conflicts,
            });
        }
        let patch: Map<String, Value> = plan
            .writes
            .into_iter()
            .map(|(name, v)| {
                // BottleCRM requires both names: a cleared one is the placeholder.
                let empty = if names.contains(&name.as_str()) {
                    MISSING_NAME
                } else {
                    ""
                };
                let v = v.unwrap_or_else(|| empty.to_owned());
                (name, Value::String(v))
            })
            .collect();
        let timed = self
            .send(Method::PATCH, url, Some(&Value::Object(patch)))
            .await?;
        match timed.response.status().as_u16() {
            200 | 204 => Ok(UpdateOutcome::Applied {
                version: None,
                conflicts: plan.conflicts,
            }),
            404 => Ok(not_in_bottlecrm()),
            400 => Ok(UpdateOutcome::Rejected(
                refusal(&body_or_empty(timed.response).await, &self.map).error,
            )),
            _ => Err(error_for(timed).await),
        }
    }

    /// The CRM fields the names map to (both required by BottleCRM).
    fn name_fields(&self) -> [&str; 2] {
        [Field::FirstName, Field::LastName].map(|f| self.map.crm_field(f).unwrap_or(f.name()))
    }
}

fn not_in_bottlecrm() -> UpdateOutcome {
    UpdateOutcome::Rejected(RecordError {
        message: "the contact is no longer in BottleCRM (deleted there?)".into(),
        field: None,
    })
}
