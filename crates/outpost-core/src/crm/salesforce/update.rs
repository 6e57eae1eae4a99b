//! Edits to Salesforce records with Salesforce's own precondition:
//! `PATCH /sobjects/{Object}/{Id}` with `If-Unmodified-Since` set to the
//! base's `LastModifiedDate`. A 412 (someone changed the record since) is
//! never retried blindly: the record is read, merged per field
//! (`crm::update_merge`) and written with the read's stamp as the new
//! precondition, at most [`TRIES`] times. Without a known base stamp the
//! update starts with the read.
//!
//! The stamp has whole seconds, so a change made in Salesforce within the
//! same second as the read is not caught: the race window
//! docs/connectors/salesforce.md names.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Map, Value};

use super::mapping::{self, MODIFIED};
use super::{errors, not_in_salesforce, Salesforce};
use crate::crm::connector::{CrmConnector, OutgoingUpdate, UpdateOutcome};
use crate::crm::error::ConnectorError;
use crate::crm::http::{body_or_empty, parse_json};
use crate::crm::update_merge::{self, MergePlan};

/// Reads and writes of one update before it waits for a later round.
const TRIES: usize = 3;

/// What a conditional write came to.
enum Written {
    Done,
    Changed,
    Outcome(UpdateOutcome),
}

impl Salesforce {
    pub(super) async fn update_record(&self, u: &OutgoingUpdate) -> UpdateOutcome {
        match self.try_update(u).await {
            Ok(outcome) => outcome,
            Err(e) => UpdateOutcome::Failed(e),
        }
    }

    async fn try_update(&self, u: &OutgoingUpdate) -> Result<UpdateOutcome, ConnectorError> {
        let id = match &u.customer.crm_id {
            Some(id) => id.clone(),
            None => match self.get(u.customer.id).await? {
                Some(r) => r.crm_id,
                None => {
                    return Ok(UpdateOutcome::Rejected(not_in_salesforce(
                        self.object.name(),
                    )))
                }
            },
        };
        // The bases belong to this stamp: write them all under it.
        if let Some(stamp) = u
            .change
            .base_version
            .as_deref()
            .and_then(mapping::parse_time)
        {
            let plan = update_merge::plan(u, &self.map, None);
            match self.write(&id, plan.writes, stamp).await? {
                Written::Done => return Ok(applied(None, plan.conflicts)),
                Written::Outcome(o) => return Ok(o),
                Written::Changed => {}
            }
        }
        for _ in 0..TRIES {
            let Some((record, stamp)) = self.read(u, &id).await? else {
                return Ok(UpdateOutcome::Rejected(not_in_salesforce(
                    self.object.name(),
                )));
            };
            let theirs = |name: &str| {
                let value = record
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)?;
                match value {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Null | Value::String(_) => None,
                    other => Some(other.to_string()),
                }
            };
            let MergePlan { writes, conflicts } = update_merge::plan(u, &self.map, Some(&theirs));
            let version = record
                .get(MODIFIED)
                .and_then(Value::as_str)
                .map(str::to_owned);
            if writes.is_empty() {
                return Ok(applied(version, conflicts));
            }
            match self.write(&id, writes, stamp).await? {
                Written::Done => return Ok(applied(None, conflicts)),
                Written::Outcome(o) => return Ok(o),
                Written::Changed => continue,
            }
        }
        Err(ConnectorError::Transient {
            reason: format!(
                "the {} changed in Salesforce each time it was read ({TRIES} times); trying again later",
                self.object.name()
            ),
            retry_after: None,
        })
    }

    /// The fields the update touches and the stamp, or `None` when the
    /// record is gone.
    async fn read(
        &self,
        u: &OutgoingUpdate,
        id: &str,
    ) -> Result<Option<(Map<String, Value>, DateTime<Utc>)>, ConnectorError> {
        let described = self.described().await?;
        let names = &described.names;
        let mut fields: Vec<String> = update_merge::crm_names(u, &self.map)
            .iter()
            .map(|n| names.api_name(n))
            .collect();
        fields.push(MODIFIED.into());
        let path = self.sobject_path(id);
        let timed = self
            .send(
                Method::GET,
                &path,
                &[("fields", &fields.join(","))],
                None,
                &[],
            )
            .await?;
        if timed.response.status().as_u16() == 404 {
            return Ok(None);
        }
        let record: Map<String, Value> = parse_json(&self.ok_body(timed).await?, "record")?;
        let stamp = record
            .get(MODIFIED)
            .and_then(Value::as_str)
            .and_then(mapping::parse_time)
            .ok_or_else(|| ConnectorError::Protocol(format!("a record without {MODIFIED}")))?;
        Ok(Some((record, stamp)))
    }

    /// `PATCH` of `writes` unless the record changed after `stamp`.
    async fn write(
        &self,
        id: &str,
        writes: Vec<(String, Option<String>)>,
        stamp: DateTime<Utc>,
    ) -> Result<Written, ConnectorError> {
        if writes.is_empty() {
            return Ok(Written::Done);
        }
        let described = self.described().await?;
        let names = &described.names;
        let body: Map<String, Value> = writes
            .into_iter()
            .map(|(name, v)| (names.api_name(&name), v.map_or(Value::Null, Value::String)))
            .collect();
        let since = stamp.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let timed = self
            .send(
                Method::PATCH,
                &self.sobject_path(id),
                &[],
                Some(&Value::Object(body)),
                &[("If-Unmodified-Since", since)],
            )
            .await?;
        let status = timed.response.status().as_u16();
        Ok(match status {
            200..=299 => Written::Done,
            412 => Written::Changed,
            404 => Written::Outcome(UpdateOutcome::Rejected(not_in_salesforce(
                self.object.name(),
            ))),
            400 => {
                let errors = errors::parse(&body_or_empty(timed.response).await);
                let first = errors.into_iter().next().unwrap_or_default();
                Written::Outcome(UpdateOutcome::Rejected(errors::record_error(
                    &self.map,
                    &self.key_field,
                    &first,
                )))
            }
            _ => return Err(self.error_for(timed).await),
        })
    }
}

fn applied(
    version: Option<String>,
    conflicts: Vec<crate::crm::connector::FieldConflict>,
) -> UpdateOutcome {
    UpdateOutcome::Applied { version, conflicts }
}
