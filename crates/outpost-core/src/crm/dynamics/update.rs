//! Edits with Dataverse's own precondition: `PATCH contacts(<id>)` of the
//! changed columns with `If-Match: <@odata.etag of the base>`. A 412
//! (someone changed the contact since) is never retried blindly: the row is
//! read, merged per field (`crm::update_merge`) and written under the
//! read's etag, at most [`TRIES`] times. Without a known etag the update
//! starts with the read. Each write asks `Prefer: return=representation`
//! (with `$select` of the id), so the new etag comes back in the same answer
//! and becomes the next base.

use reqwest::Method;
use serde_json::{Map, Value};

use super::mapping::{ETAG, ID};
use super::{errors, odata, Dynamics, Payload};
use crate::crm::connector::{CrmConnector, FieldConflict, OutgoingUpdate, UpdateOutcome};
use crate::crm::error::{ConnectorError, RecordError};
use crate::crm::http::{body_or_empty, parse_json};
use crate::crm::update_merge::{self, MergePlan};

/// Reads and writes of one update before it waits for a later round.
const TRIES: usize = 3;

enum Written {
    Done(Option<String>),
    Changed,
    Outcome(UpdateOutcome),
}

fn gone() -> RecordError {
    RecordError {
        message: "the contact is no longer in Dynamics (deleted there?)".into(),
        field: None,
    }
}

impl Dynamics {
    pub(super) async fn update_record(&self, u: &OutgoingUpdate) -> UpdateOutcome {
        match self.try_update(u).await {
            Ok(o) => o,
            Err(e) => UpdateOutcome::Failed(e),
        }
    }

    async fn try_update(&self, u: &OutgoingUpdate) -> Result<UpdateOutcome, ConnectorError> {
        let id = match u.customer.crm_id.as_deref().and_then(odata::guid) {
            Some(id) => id,
            None => match self.get(u.customer.id).await? {
                Some(r) => r.crm_id,
                None => return Ok(UpdateOutcome::Rejected(gone())),
            },
        };
        // The bases belong to this etag: write them all under it.
        if let Some(etag) = u
            .change
            .base_version
            .as_deref()
            .filter(|v| v.starts_with("W/"))
        {
            let plan = update_merge::plan(u, &self.map, None);
            match self.write(&id, plan.writes, etag).await? {
                Written::Done(version) => return Ok(applied(version, plan.conflicts)),
                Written::Outcome(o) => return Ok(o),
                Written::Changed => {}
            }
        }
        for _ in 0..TRIES {
            let Some(row) = self.read(u, &id).await? else {
                return Ok(UpdateOutcome::Rejected(gone()));
            };
            let etag = row
                .get(ETAG)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ConnectorError::Protocol("a row without @odata.etag".into()))?;
            let theirs = |name: &str| match row.get(name)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Null | Value::String(_) => None,
                other => Some(other.to_string()),
            };
            let MergePlan { writes, conflicts } = update_merge::plan(u, &self.map, Some(&theirs));
            if writes.is_empty() {
                return Ok(applied(Some(etag), conflicts));
            }
            match self.write(&id, writes, &etag).await? {
                Written::Done(version) => return Ok(applied(version, conflicts)),
                Written::Outcome(o) => return Ok(o),
                Written::Changed => continue,
            }
        }
        Err(ConnectorError::Transient {
            reason: format!(
                "the contact changed in Dynamics each time it was read ({TRIES} times); trying again later"
            ),
            retry_after: None,
        })
    }

    /// The columns the update touches, or `None` when the row is gone.
    async fn read(
        &self,
        u: &OutgoingUpdate,
        id: &str,
    ) -> Result<Option<Map<String, Value>>, ConnectorError> {
        let names: Vec<String> = update_merge::crm_names(u, &self.map)
            .into_iter()
            .filter(|n| odata::is_name(n))
            .collect();
        let select = mapping_select(&names);
        let url = odata::with_query(
            self.url(&format!("contacts({id})")),
            &[("$select", &select)],
        );
        self.get_json(url, &[]).await
    }

    /// `PATCH` of `writes` unless the row's etag moved on from `etag`.
    async fn write(
        &self,
        id: &str,
        writes: Vec<(String, Option<String>)>,
        etag: &str,
    ) -> Result<Written, ConnectorError> {
        if writes.is_empty() {
            return Ok(Written::Done(Some(etag.to_owned())));
        }
        let numeric = self
            .numeric_columns(writes.iter().map(|(n, _)| n.as_str()))
            .await?;
        let body: Map<String, Value> = writes
            .into_iter()
            .map(|(name, v)| {
                let v = match v {
                    None => Value::Null,
                    Some(s) if numeric.contains(&name) => super::mapping::typed(&s),
                    Some(s) => Value::String(s),
                };
                (name, v)
            })
            .collect();
        let url = odata::with_query(self.url(&format!("contacts({id})")), &[("$select", ID)]);
        let timed = self
            .send(
                Method::PATCH,
                url,
                &Payload::Json(Value::Object(body)),
                &[
                    ("If-Match", etag.to_owned()),
                    ("Prefer", "return=representation".to_owned()),
                ],
                1,
            )
            .await?;
        let status = timed.response.status().as_u16();
        Ok(match status {
            200..=299 => {
                let header = timed
                    .response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = body_or_empty(timed.response).await;
                let from_body = parse_json::<Map<String, Value>>(&body, "updated contact")
                    .ok()
                    .and_then(|r| r.get(ETAG).and_then(Value::as_str).map(str::to_owned));
                Written::Done(from_body.or(header))
            }
            412 => Written::Changed,
            404 => Written::Outcome(UpdateOutcome::Rejected(gone())),
            400 | 403 => {
                let e = errors::parse(&body_or_empty(timed.response).await);
                if status == 400 && errors::is_record_refusal(status, &e) {
                    Written::Outcome(UpdateOutcome::Rejected(errors::record_error(
                        &self.map,
                        &self.key_property,
                        status,
                        &e,
                    )))
                } else {
                    return Err(errors::request_error(status, &e, &self.key_property));
                }
            }
            _ => return Err(self.error_for(timed).await),
        })
    }
}

/// The id and the named columns.
fn mapping_select(names: &[String]) -> String {
    std::iter::once(ID.to_owned())
        .chain(names.iter().cloned())
        .collect::<Vec<_>>()
        .join(",")
}

fn applied(version: Option<String>, conflicts: Vec<FieldConflict>) -> UpdateOutcome {
    UpdateOutcome::Applied { version, conflicts }
}
