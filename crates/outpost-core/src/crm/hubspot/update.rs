//! Edits to HubSpot contacts. HubSpot has no precondition on a write, so
//! an update is a read-compare-write: one batch read of the changed
//! properties, the per-field merge every connector shares
//! (`crm::update_merge`), then one batch update of the fields still at
//! their base. A person changing the same property in HubSpot between the
//! read and the write is overwritten: the race window
//! docs/connectors/hubspot.md names.

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{error_for, record_error, HubSpot, MAX_BATCH, RESPONSE};
use crate::crm::connector::{FieldConflict, OutgoingUpdate, UpdateOutcome};
use crate::crm::error::{ConnectorError, RecordError};
use crate::crm::http::parse_json;
use crate::crm::update_merge;

/// A contact as batch read and batch update return it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Contact {
    id: String,
    #[serde(default)]
    properties: Map<String, Value>,
    /// The contact's modification time: the version Outpost keeps.
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Results {
    #[serde(default)]
    results: Vec<Contact>,
}

/// One planned write: the contact, its properties, and what the merge
/// left for a person.
struct Write {
    index: usize,
    id: String,
    properties: Map<String, Value>,
    conflicts: Vec<FieldConflict>,
}

impl HubSpot {
    /// Delivers up to [`MAX_BATCH`] updates with two requests (a read and
    /// a write), one outcome per update in input order.
    pub(super) async fn update_contacts(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        let mut out: Vec<Option<UpdateOutcome>> = vec![None; updates.len()];
        let read = match self.read_for_update(updates).await {
            Ok(r) => r,
            Err(e) => {
                return updates
                    .iter()
                    .map(|_| UpdateOutcome::Failed(e.clone()))
                    .collect()
            }
        };
        let mut writes = Vec::new();
        for (index, u) in updates.iter().enumerate() {
            let Some(contact) = read[index].as_ref() else {
                out[index] = Some(not_in_hubspot());
                continue;
            };
            let theirs = |name: &str| text(contact.properties.get(name));
            let plan = update_merge::plan(u, &self.map, Some(&theirs));
            if plan.nothing_to_write() {
                out[index] = Some(UpdateOutcome::Applied {
                    version: contact.updated_at.clone(),
                    conflicts: plan.conflicts,
                });
                continue;
            }
            let properties = plan
                .writes
                .into_iter()
                .map(|(name, v)| (name, Value::String(v.unwrap_or_default())))
                .collect();
            writes.push(Write {
                index,
                id: contact.id.clone(),
                properties,
                conflicts: plan.conflicts,
            });
        }
        for (write, outcome) in self.write_updates(writes).await {
            out[write.index] = Some(outcome);
        }
        out.into_iter()
            .map(|o| o.expect("every update has an outcome"))
            .collect()
    }

    /// Each update's contact as HubSpot holds it now (`None`: not there),
    /// by the CRM id where Outpost knows it, else by the key property.
    async fn read_for_update(
        &self,
        updates: &[OutgoingUpdate],
    ) -> Result<Vec<Option<Contact>>, ConnectorError> {
        let mut names: BTreeSet<String> = updates
            .iter()
            .flat_map(|u| update_merge::crm_names(u, &self.map))
            .collect();
        names.insert(self.key_property.clone());
        let names: Vec<String> = names.into_iter().collect();
        let mut found: Vec<Option<Contact>> = updates.iter().map(|_| None).collect();
        let (by_id, by_key): (Vec<usize>, Vec<usize>) =
            (0..updates.len()).partition(|&i| updates[i].customer.crm_id.is_some());
        for (indexes, id_property) in [(by_id, None), (by_key, Some(&self.key_property))] {
            for chunk in indexes.chunks(MAX_BATCH) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|&i| match id_property {
                        None => updates[i].customer.crm_id.clone().expect("partitioned"),
                        Some(_) => updates[i].customer.id.to_string(),
                    })
                    .collect();
                let mut body = json!({
                    "properties": names,
                    "inputs": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
                });
                if let Some(p) = id_property {
                    body["idProperty"] = json!(p);
                }
                let url = self.url("crm/v3/objects/contacts/batch/read");
                let timed = self.send(Method::POST, url, Some(&body)).await?;
                let results: Results = parse_json(&Self::body(timed).await?, RESPONSE)?;
                let mut by: HashMap<String, Contact> = results
                    .results
                    .into_iter()
                    .filter_map(|c| {
                        let id = match id_property {
                            None => Some(c.id.clone()),
                            Some(p) => text(c.properties.get(p.as_str())),
                        };
                        id.map(|id| (id, c))
                    })
                    .collect();
                for (&i, id) in chunk.iter().zip(&ids) {
                    found[i] = by.remove(id);
                }
            }
        }
        Ok(found)
    }

    /// `batch/update` by contact id. HubSpot validates a batch as a whole,
    /// so a refused batch is split until the refused contact stands alone.
    async fn write_updates(&self, writes: Vec<Write>) -> Vec<(Write, UpdateOutcome)> {
        if writes.is_empty() {
            return Vec::new();
        }
        let inputs: Vec<Value> = writes
            .iter()
            .map(|w| json!({"id": w.id, "properties": w.properties}))
            .collect();
        let url = self.url("crm/v3/objects/contacts/batch/update");
        let timed = match self
            .send(Method::POST, url, Some(&json!({ "inputs": inputs })))
            .await
        {
            Ok(t) => t,
            Err(e) => return failed_all(writes, e),
        };
        let status = timed.response.status().as_u16();
        if timed.response.status().is_success() {
            let body = match timed.response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    let e =
                        ConnectorError::Protocol(format!("unreadable batch/update response: {e}"));
                    return failed_all(writes, e);
                }
            };
            let results: Results = match parse_json(&body, "batch/update response") {
                Ok(r) => r,
                Err(e) => return failed_all(writes, e),
            };
            let mut versions: HashMap<String, Option<String>> = results
                .results
                .into_iter()
                .map(|c| (c.id, c.updated_at))
                .collect();
            return writes
                .into_iter()
                .map(|w| {
                    let outcome = match versions.remove(&w.id) {
                        Some(version) => UpdateOutcome::Applied {
                            version,
                            conflicts: w.conflicts.clone(),
                        },
                        None => UpdateOutcome::Failed(ConnectorError::Protocol(format!(
                            "no result for contact {} in batch/update",
                            w.id
                        ))),
                    };
                    (w, outcome)
                })
                .collect();
        }
        if matches!(status, 400 | 404 | 409) {
            let (error, detail) = error_for(timed).await;
            if writes.len() == 1 {
                let outcome = match status {
                    404 => not_in_hubspot(),
                    _ => UpdateOutcome::Rejected(
                        detail
                            .map(|d| record_error(&self.map, status, &d))
                            .unwrap_or_else(|| RecordError {
                                message: error.to_string(),
                                field: None,
                            }),
                    ),
                };
                return writes.into_iter().map(|w| (w, outcome.clone())).collect();
            }
            let mut writes = writes;
            let right = writes.split_off(writes.len() / 2);
            let mut out = Box::pin(self.write_updates(writes)).await;
            out.extend(Box::pin(self.write_updates(right)).await);
            return out;
        }
        let (e, _) = error_for(timed).await;
        failed_all(writes, e)
    }
}

fn failed_all(writes: Vec<Write>, e: ConnectorError) -> Vec<(Write, UpdateOutcome)> {
    writes
        .into_iter()
        .map(|w| (w, UpdateOutcome::Failed(e.clone())))
        .collect()
}

fn not_in_hubspot() -> UpdateOutcome {
    UpdateOutcome::Rejected(RecordError {
        message: "the contact is no longer in HubSpot (deleted or merged there?)".into(),
        field: None,
    })
}

/// A property's value as text; an empty one is no value.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
