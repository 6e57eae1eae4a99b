//! Edits without a precondition (Zoho has none for record updates): the
//! changed fields are read (`GET {Module}/{id}?fields=...`, or a search by
//! the key when the id is unknown), merged per field against their bases
//! (`crm::update_merge`), and only the fields still at their base are
//! written (`PUT {Module}/{id}`). A third value is a conflict: the CRM's
//! stays, ours is kept for a person. The answer's `Modified_Time` becomes
//! the record's version (the next base). A race window remains between the
//! read and the write: a change a person saves in Zoho within it is
//! overwritten by ours (docs/connectors/zoho.md says so).

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::mapping::{self, MODIFIED};
use super::{errors, Zoho};
use crate::crm::connector::{CrmConnector, FieldConflict, OutgoingUpdate, UpdateOutcome};
use crate::crm::error::{ConnectorError, RecordError};
use crate::crm::http::parse_json;
use crate::crm::update_merge;

fn gone(module: &str) -> RecordError {
    RecordError {
        message: format!("the record is no longer in Zoho CRM's {module} (deleted there?)"),
        field: None,
    }
}

/// A value as Zoho holds it, in text; `None` for none.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Null | Value::String(_) => None,
        // A lookup (`{"name","id"}`) compares by its name.
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
        other => Some(other.to_string()),
    }
}

/// An update read and merged, before its write.
enum Prepared {
    /// Settled without a write (nothing still at base, or gone).
    Done(UpdateOutcome),
    Write {
        id: String,
        record: Map<String, Value>,
        conflicts: Vec<FieldConflict>,
        read_version: Option<String>,
    },
}

#[derive(serde::Deserialize)]
struct Results {
    data: Vec<Value>,
}

impl Zoho {
    pub(super) async fn update_record(&self, u: &OutgoingUpdate) -> UpdateOutcome {
        match self.try_update(u).await {
            Ok(o) => o,
            Err(e) => UpdateOutcome::Failed(e),
        }
    }

    async fn try_update(&self, u: &OutgoingUpdate) -> Result<UpdateOutcome, ConnectorError> {
        let (id, record, conflicts, read_version) = match self.prepare(u).await? {
            Prepared::Done(o) => return Ok(o),
            Prepared::Write {
                id,
                record,
                conflicts,
                read_version,
            } => (id, record, conflicts, read_version),
        };
        let module = self.module_name();
        let body = json!({"data": [record], "trigger": []});
        let a = self
            .send(
                Method::PUT,
                &format!("{module}/{id}"),
                &[],
                Some(&body),
                &[],
            )
            .await?;
        if a.status == 204 || a.status == 404 {
            return Ok(UpdateOutcome::Rejected(gone(module)));
        }
        let result = match parse_json::<Results>(&a.body, "update answer") {
            Ok(r) if matches!(a.status, 200..=299 | 400) => r.data.into_iter().next(),
            _ => return Err(self.failure(&a)),
        };
        self.finish(a.status, result, conflicts, read_version)
    }

    /// Several updates: each read and merged, then the writes in bulk
    /// (`PUT {Module}`, up to 100 records a request, each with its id).
    pub(super) async fn update_records(&self, updates: &[OutgoingUpdate]) -> Vec<UpdateOutcome> {
        let prepared =
            crate::crm::http::concurrently(updates, self.concurrency as usize, |u| self.prepare(u))
                .await;
        let mut out: Vec<Option<UpdateOutcome>> = Vec::with_capacity(updates.len());
        let mut writes = Vec::new();
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Err(e) => out.push(Some(UpdateOutcome::Failed(e))),
                Ok(Prepared::Done(o)) => out.push(Some(o)),
                Ok(Prepared::Write {
                    id,
                    mut record,
                    conflicts,
                    read_version,
                }) => {
                    record.insert("id".into(), Value::String(id));
                    writes.push((i, record, conflicts, read_version));
                    out.push(None);
                }
            }
        }
        let module = self.module_name();
        for chunk in writes.chunks(super::MAX_BATCH) {
            let body = json!({
                "data": chunk.iter().map(|(_, r, _, _)| Value::Object(r.clone())).collect::<Vec<_>>(),
                "trigger": [],
            });
            let answer = self
                .send(Method::PUT, module, &[], Some(&body), &[])
                .await
                .and_then(|a| match parse_json::<Results>(&a.body, "update answer") {
                    Ok(r) if matches!(a.status, 200..=299 | 400) && r.data.len() == chunk.len() => {
                        Ok((a.status, r.data))
                    }
                    _ => Err(self.failure(&a)),
                });
            match answer {
                Ok((status, results)) => {
                    for ((i, _, conflicts, version), r) in chunk.iter().zip(results) {
                        out[*i] = Some(
                            self.finish(status, Some(r), conflicts.clone(), version.clone())
                                .unwrap_or_else(UpdateOutcome::Failed),
                        );
                    }
                }
                Err(e) => {
                    for (i, ..) in chunk {
                        out[*i] = Some(UpdateOutcome::Failed(e.clone()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| o.expect("every update has its outcome"))
            .collect()
    }

    /// Reads the changed fields and merges them with their bases.
    async fn prepare(&self, u: &OutgoingUpdate) -> Result<Prepared, ConnectorError> {
        let module = self.module_name();
        let id = match u
            .customer
            .crm_id
            .clone()
            .filter(|i| mapping::is_api_name(i))
        {
            Some(id) => id,
            None => match self.get(u.customer.id).await? {
                Some(r) => r.crm_id,
                None => return Ok(Prepared::Done(UpdateOutcome::Rejected(gone(module)))),
            },
        };
        // Attributes are named in lower case; Zoho's API names are not.
        let names = match u.change.attributes.is_empty() {
            true => None,
            false => Some(self.module_fields().await?),
        };
        let api = |n: &str| {
            names
                .as_ref()
                .map_or_else(|| n.to_owned(), |f| f.api_name(n))
        };
        let Some(row) = self.read(u, &id, &api).await? else {
            return Ok(Prepared::Done(UpdateOutcome::Rejected(gone(module))));
        };
        let theirs = |name: &str| text(row.get(&api(name)));
        let plan = update_merge::plan(u, &self.map, Some(&theirs));
        let read_version = text(row.get(MODIFIED));
        if plan.writes.is_empty() {
            return Ok(Prepared::Done(UpdateOutcome::Applied {
                version: read_version,
                conflicts: plan.conflicts,
            }));
        }
        let record: Map<String, Value> = plan
            .writes
            .into_iter()
            .map(|(name, v)| (api(&name), v.map_or(Value::Null, Value::String)))
            .collect();
        Ok(Prepared::Write {
            id,
            record,
            conflicts: plan.conflicts,
            read_version,
        })
    }

    /// One record's result of a write.
    fn finish(
        &self,
        status: u16,
        result: Option<Value>,
        conflicts: Vec<FieldConflict>,
        read_version: Option<String>,
    ) -> Result<UpdateOutcome, ConnectorError> {
        let module = self.module_name();
        let e: errors::ApiError = result
            .and_then(|r| serde_json::from_value(r).ok())
            .unwrap_or_default();
        if e.code == errors::code::SUCCESS {
            let version = e
                .details
                .get(MODIFIED)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(read_version);
            return Ok(UpdateOutcome::Applied { version, conflicts });
        }
        if e.code == "INVALID_DATA"
            && e.details.get("api_name").and_then(Value::as_str) == Some("id")
        {
            return Ok(UpdateOutcome::Rejected(gone(module)));
        }
        if errors::is_record_refusal(&e) {
            return Ok(UpdateOutcome::Rejected(errors::record_error(
                &self.map,
                &self.key_field,
                module,
                &e,
            )));
        }
        Err(errors::request_error(status, &e, module))
    }

    /// The fields the update touches, or `None` when the record is gone.
    async fn read(
        &self,
        u: &OutgoingUpdate,
        id: &str,
        api: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Option<Map<String, Value>>, ConnectorError> {
        let names: Vec<String> = update_merge::crm_names(u, &self.map)
            .into_iter()
            .map(|n| api(&n))
            .filter(|n| mapping::is_api_name(n))
            .chain([MODIFIED.to_owned()])
            .collect();
        let path = format!("{}/{id}", self.module_name());
        let rows = self
            .rows(&path, &[("fields", names.join(","))], &[])
            .await?;
        Ok(rows.and_then(|r| r.data.into_iter().next()))
    }
}
