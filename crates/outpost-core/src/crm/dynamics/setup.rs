//! What an admin sets up in Dataverse, checked by the probe ("Test
//! connection" and the monitor): the application user answers `WhoAmI`,
//! the contact table has an alternate key on the key column whose index is
//! Active, and the user's security role may read, create and write
//! contacts (`RetrieveUserPrivileges`). Each problem says what to fix.
//! A setup found sound is not checked again for [`super::metadata::FRESH`],
//! so the monitor's probe costs one request (`WhoAmI`).

use serde::Deserialize;

use super::metadata::ENTITY;
use super::{odata, Dynamics, Payload};
use crate::crm::error::{ConnectorError, QueueProblem};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WhoAmI {
    user_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Key {
    #[serde(default)]
    logical_name: String,
    #[serde(default)]
    key_attributes: Vec<String>,
    #[serde(default)]
    entity_key_index_status: String,
}

#[derive(Deserialize)]
struct Keys {
    #[serde(default)]
    value: Vec<Key>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Privilege {
    #[serde(default)]
    privilege_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Privileges {
    #[serde(default)]
    role_privileges: Vec<Privilege>,
}

const SETUP_DOC: &str = "see docs/connectors/dynamics.md, \"Set-up\"";

fn misconfigured(words: String) -> ConnectorError {
    ConnectorError::Queue(QueueProblem::Misconfigured(words))
}

/// What the key's status means for an admin; `None` when it is usable.
fn key_problem(keys: &[Key], column: &str) -> Option<String> {
    let Some(key) = keys
        .iter()
        .find(|k| k.key_attributes.len() == 1 && k.key_attributes[0] == column)
    else {
        return Some(format!(
            "the contact table has no alternate key on the column {column}: add the column (single line of text) and a key with just that column in Power Apps (Tables → Contact → Keys); {SETUP_DOC}"
        ));
    };
    match key.entity_key_index_status.as_str() {
        "Active" => None,
        "Pending" | "InProgress" => Some(format!(
            "the alternate key {} on {column} is still being built (status {}): Dataverse builds its index in the background, usually within minutes; try again once it is Active",
            key.logical_name, key.entity_key_index_status
        )),
        "Failed" => Some(format!(
            "building the alternate key {} on {column} failed: usually two contacts hold the same value in {column}; clear the duplicates, then reactivate the key (Tables → Contact → Keys → Reactivate); {SETUP_DOC}",
            key.logical_name
        )),
        other => Some(format!(
            "the alternate key {} on {column} is not usable yet (status {other:?}): wait until it is Active",
            key.logical_name
        )),
    }
}

/// The privileges Outpost needs that the role lacks, in words.
fn missing_privileges(have: &[Privilege]) -> Vec<&'static str> {
    [
        ("prvReadContact", "Read"),
        ("prvCreateContact", "Create"),
        ("prvWriteContact", "Write"),
    ]
    .into_iter()
    .filter(|(p, _)| !have.iter().any(|h| h.privilege_name == *p))
    .map(|(_, words)| words)
    .collect()
}

impl Dynamics {
    /// `WhoAmI`, then the key and the privileges unless found sound lately.
    pub(super) async fn check_setup(&self) -> Result<(), ConnectorError> {
        let Some(who) = self.get_json(self.url("WhoAmI"), &[]).await? else {
            return Err(misconfigured(format!(
                "{} does not answer WhoAmI: is this the organization URL (https://ORG.crm.dynamics.com) and the API version right?",
                self.api_root
            )));
        };
        let who: WhoAmI = serde_json::from_value(serde_json::Value::Object(who))
            .map_err(|e| ConnectorError::Protocol(format!("unreadable WhoAmI answer: {e}")))?;
        {
            let checked = self.setup_checked.lock().await;
            if checked.is_some_and(|at| at.elapsed() < super::metadata::FRESH) {
                return Ok(());
            }
        }
        let keys = self
            .get_json(self.url(&format!("{ENTITY}/Keys")), &[])
            .await?
            .ok_or_else(|| {
                misconfigured(
                    "Dynamics does not describe the contact table's keys to this user".into(),
                )
            })?;
        let keys: Keys = serde_json::from_value(serde_json::Value::Object(keys))
            .map_err(|e| ConnectorError::Protocol(format!("unreadable key metadata: {e}")))?;
        if let Some(problem) = key_problem(&keys.value, &self.key_property) {
            return Err(misconfigured(problem));
        }
        let user = odata::guid(&who.user_id).ok_or_else(|| {
            ConnectorError::Protocol(format!("WhoAmI's UserId {:?}", who.user_id))
        })?;
        let url = self.url(&format!(
            "systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
        ));
        let privileges = self.get_json(url, &[]).await?.ok_or_else(|| {
            misconfigured("Dynamics does not list the application user's privileges".into())
        })?;
        let privileges: Privileges = serde_json::from_value(serde_json::Value::Object(privileges))
            .map_err(|e| ConnectorError::Protocol(format!("unreadable privileges: {e}")))?;
        let missing = missing_privileges(&privileges.role_privileges);
        if !missing.is_empty() {
            return Err(ConnectorError::Queue(QueueProblem::Forbidden(format!(
                "the application user's security role lacks {} on Contact: give it a role with Organization-level {} on contacts (Power Platform admin center → Environment → Settings → Application users → Edit security roles)",
                missing.join(", "),
                missing.join(", ")
            ))));
        }
        *self.setup_checked.lock().await = Some(tokio::time::Instant::now());
        Ok(())
    }

    /// Words for "Test connection" about what works but is limited: change
    /// tracking off on the contact table means deletions are never seen.
    pub(super) async fn setup_notes(&self) -> Result<Vec<String>, ConnectorError> {
        let url = odata::with_query(self.url("contacts"), &[("$select", super::mapping::ID)]);
        let timed = self
            .send(
                reqwest::Method::GET,
                url,
                &Payload::None,
                &[(
                    "Prefer",
                    "odata.track-changes,odata.maxpagesize=1".to_owned(),
                )],
                1,
            )
            .await?;
        if timed.response.status().as_u16() == 400 {
            let e = super::errors::parse(&crate::crm::http::body_or_empty(timed.response).await);
            if e.code == super::errors::code::CHANGE_TRACKING_OFF
                || e.message.contains("Change tracking")
            {
                return Ok(vec!["Change tracking is off on the contact table, so contacts deleted in Dynamics stay in this device's working set: an admin can turn on \"Track changes\" in the table's properties (Power Apps → Tables → Contact → Properties → Advanced options).".into()]);
            }
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(status: &str) -> Key {
        Key {
            logical_name: "outpost_key".into(),
            key_attributes: vec!["outpost_key".into()],
            entity_key_index_status: status.into(),
        }
    }

    #[test]
    fn each_key_status_says_what_to_do() {
        assert!(key_problem(&[key("Active")], "outpost_key").is_none());
        assert!(key_problem(&[key("Pending")], "outpost_key")
            .unwrap()
            .contains("Active"));
        assert!(key_problem(&[key("Failed")], "outpost_key")
            .unwrap()
            .contains("Reactivate"));
        assert!(key_problem(&[], "outpost_key")
            .unwrap()
            .contains("no alternate key"));
        assert!(key_problem(&[key("Active")], "other_key").is_some());
        let have = vec![Privilege {
            privilege_name: "prvReadContact".into(),
        }];
        assert_eq!(missing_privileges(&have), ["Create", "Write"]);
    }
}
