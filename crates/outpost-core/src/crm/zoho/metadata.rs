//! The module's fields (`settings/fields?module=...`: mandatory fields,
//! lengths, picklists with display and actual values, the unique flag),
//! turned into the creation form and the field list and kept for
//! [`FRESH`]; and the set-up "Test connection" and the monitor check: the
//! token, the current user (`users?type=CurrentUser`), the key field exists
//! and is unique, the module is creatable (`settings/modules/{Module}`),
//! each problem in words an admin can act on. A set-up found sound is not
//! checked again for [`FRESH`]; meanwhile the probe costs no credit (the
//! cached token and an unauthenticated request that only proves Zoho
//! answers).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::mapping::Module;
use super::{errors, Zoho, DEFAULT_CONCURRENCY};
use crate::crm::error::{ConnectorError, QueueProblem};
use crate::crm::field_check::{CrmField, CrmFieldType, FieldList};
use crate::crm::field_map::FieldMap;
use crate::crm::form::{CrmForm, DescribedField, FieldOption};
use crate::crm::http::parse_json;
use crate::customer::Field;

/// How long metadata and a sound set-up are kept.
pub const FRESH: Duration = Duration::from_secs(10 * 60);
const SETUP_DOC: &str = "see docs/connectors/zoho.md, \"Set-up\"";
/// Fields Zoho fills itself: never in the form.
const SYSTEM: &[&str] = &[
    "id",
    "Created_Time",
    "Modified_Time",
    "Created_By",
    "Modified_By",
    "Owner",
    "Last_Activity_Time",
];

#[derive(Debug, Clone, Deserialize)]
pub struct ZField {
    pub api_name: String,
    #[serde(default)]
    pub field_label: String,
    #[serde(default)]
    pub display_label: String,
    #[serde(default)]
    pub data_type: String,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub system_mandatory: bool,
    #[serde(default)]
    pub unique: Option<Value>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub pick_list_values: Vec<PickValue>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PickValue {
    #[serde(default)]
    pub display_value: String,
    #[serde(default)]
    pub actual_value: String,
}

impl ZField {
    fn label(&self) -> String {
        [&self.display_label, &self.field_label]
            .into_iter()
            .find(|l| !l.is_empty())
            .cloned()
            .unwrap_or_else(|| self.api_name.clone())
    }

    /// Zoho marks a unique field with `unique: {casesensitive}`.
    pub fn is_unique(&self) -> bool {
        match &self.unique {
            Some(Value::Object(_)) => true,
            Some(Value::Bool(b)) => *b,
            _ => false,
        }
    }

    fn options(&self) -> Vec<FieldOption> {
        self.pick_list_values
            .iter()
            .filter(|p| p.actual_value != "-None-" && !p.actual_value.is_empty())
            .map(|p| FieldOption {
                value: p.actual_value.clone(),
                label: if p.display_value.is_empty() {
                    p.actual_value.clone()
                } else {
                    p.display_value.clone()
                },
            })
            .collect()
    }

    fn is_picklist(&self) -> bool {
        self.data_type == "picklist"
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    pub fields: Vec<ZField>,
}

impl Fields {
    pub fn get(&self, api_name: &str) -> Option<&ZField> {
        self.fields.iter().find(|f| f.api_name == api_name)
    }

    /// The API name an attribute stands for (attributes are lower case,
    /// Zoho's names are not): `lead_source` → `Lead_Source`.
    pub fn api_name(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.api_name.eq_ignore_ascii_case(name))
            .map_or_else(|| name.to_owned(), |f| f.api_name.clone())
    }

    /// The creation form: mandatory mapped fields, shorter limits than
    /// Outpost's, and every writable picklist with its options (an
    /// unmapped one as an attribute, named in lower case).
    pub fn form(&self, map: &FieldMap, key_field: &str, module: Module) -> CrmForm {
        let mut fields = Vec::new();
        for f in &self.fields {
            if f.read_only || f.api_name == key_field || SYSTEM.contains(&f.api_name.as_str()) {
                continue;
            }
            let customer_field = map.outpost_field(&f.api_name);
            // A Lead's company is sent as "[not provided]" when empty.
            let lead_company = module == Module::Leads && customer_field == Some(Field::Company);
            fields.extend(
                DescribedField {
                    customer_field,
                    crm_name: &f.api_name,
                    label: f.label(),
                    picklist: f.is_picklist(),
                    options: f.options(),
                    required: f.system_mandatory && customer_field.is_some() && !lead_company,
                    length: f.length,
                }
                .form_field(),
            );
        }
        CrmForm {
            required_one_of: Vec::new(),
            fields,
        }
    }

    pub fn field_list(&self, module: Module) -> FieldList {
        FieldList {
            crm: "Zoho CRM".into(),
            noun: format!("{} field", module.name()),
            fixed: false,
            fields: self
                .fields
                .iter()
                .map(|f| CrmField {
                    name: f.api_name.clone(),
                    label: f.label(),
                    kind: match f.data_type.as_str() {
                        "text" | "lookup" | "ownerlookup" | "autonumber" => CrmFieldType::Text,
                        "textarea" => CrmFieldType::Multiline,
                        "email" => CrmFieldType::Email,
                        "phone" => CrmFieldType::Phone,
                        "picklist" => CrmFieldType::Picklist,
                        "boolean" => CrmFieldType::Boolean,
                        "integer" | "bigint" | "double" | "currency" | "decimal" => {
                            CrmFieldType::Number
                        }
                        "date" => CrmFieldType::Date,
                        "datetime" => CrmFieldType::DateTime,
                        _ => CrmFieldType::Other,
                    },
                    writable: !f.read_only && !SYSTEM.contains(&f.api_name.as_str()),
                    options: f.options(),
                })
                .collect(),
        }
    }
}

fn misconfigured(words: String) -> ConnectorError {
    ConnectorError::Queue(QueueProblem::Misconfigured(words))
}

/// What the key field's definition means for an admin; `None` when usable.
pub fn key_problem(fields: &Fields, key_field: &str, module: &str) -> Option<String> {
    match fields.get(key_field) {
        None => Some(format!(
            "the {module} module has no field with the API name {key_field}: add a single line custom field (Setup → Customization → Modules and Fields → {module}), tick \"Do not allow duplicate values\", and check its API name; {SETUP_DOC}"
        )),
        Some(f) if !f.is_unique() => Some(format!(
            "the field {key_field} in {module} allows duplicate values: edit it and tick \"Do not allow duplicate values\", so a retried upsert updates the same record; {SETUP_DOC}"
        )),
        Some(f) if f.read_only => Some(format!(
            "the field {key_field} in {module} is read-only for this user: make it editable in the user's profile (field permissions)"
        )),
        Some(_) => None,
    }
}

#[derive(Deserialize)]
struct Modules {
    #[serde(default)]
    modules: Vec<ModuleInfo>,
}

#[derive(Deserialize)]
struct ModuleInfo {
    #[serde(default)]
    api_name: String,
    #[serde(default)]
    creatable: Option<bool>,
    #[serde(default)]
    editable: Option<bool>,
}

impl Zoho {
    /// The module's fields, fetched when the ones kept are older than [`FRESH`].
    pub(super) async fn module_fields(&self) -> Result<Arc<Fields>, ConnectorError> {
        let mut kept = self.fields.lock().await;
        if let Some((at, f)) = kept.as_ref() {
            if at.elapsed() < FRESH {
                return Ok(f.clone());
            }
        }
        let a = self
            .send(
                Method::GET,
                "settings/fields",
                &[("module", self.module_name().to_owned())],
                None,
                &[],
            )
            .await?;
        if !(200..300).contains(&a.status) || a.status == 204 {
            return Err(self.failure(&a));
        }
        let f: Arc<Fields> = Arc::new(parse_json(&a.body, "Zoho field list")?);
        *kept = Some((tokio::time::Instant::now(), f.clone()));
        Ok(f)
    }

    /// A GET that must answer 200 with a body.
    async fn must_get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ConnectorError> {
        let a = self.send(Method::GET, path, query, None, &[]).await?;
        if a.status != 200 {
            let e = errors::parse(&a.body);
            return Err(match (a.status, e.code.as_str()) {
                (204, _) => misconfigured(format!("Zoho CRM answered {path} with nothing")),
                _ => self.failure(&a),
            });
        }
        parse_json(&a.body, "Zoho answer")
    }

    /// Everything, unless found sound within [`FRESH`]; then only the
    /// token and that Zoho answers.
    pub(super) async fn check_setup(&self) -> Result<(), ConnectorError> {
        let session = self.auth.session(&self.http).await?;
        {
            let checked = self.setup_checked.lock().await;
            if checked.is_some_and(|at| at.elapsed() < FRESH) {
                drop(checked);
                // Without a token: Zoho answers (401) and charges no credit.
                let url = self.url(&session.api_domain, "users");
                self.http
                    .send_uncounted(self.http.client().get(url))
                    .await?;
                return Ok(());
            }
        }
        let module = self.module_name();
        // Fresh field metadata for the check.
        *self.fields.lock().await = None;
        // The three reads at once (a delivery waits for this check), then
        // judged in the order an admin fixes them.
        let modules_path = format!("settings/modules/{module}");
        let current_user = [("type", "CurrentUser".to_owned())];
        let (who, fields, m) = tokio::join!(
            self.must_get("users", &current_user),
            self.module_fields(),
            self.must_get(&modules_path, &[]),
        );
        let who = who?;
        let active = who
            .get("users")
            .and_then(Value::as_array)
            .and_then(|u| u.first())
            .is_some();
        if !active {
            return Err(misconfigured(
                "Zoho CRM does not name the user the refresh token belongs to (users?type=CurrentUser)".into(),
            ));
        }
        let fields = fields?;
        if let Some(p) = key_problem(&fields, &self.key_field, module) {
            return Err(misconfigured(p));
        }
        let m = m?;
        let info: Modules = serde_json::from_value(m)
            .map_err(|e| ConnectorError::Protocol(format!("unreadable module metadata: {e}")))?;
        let info = info.modules.into_iter().find(|i| i.api_name == module);
        match info {
            None => {
                return Err(misconfigured(format!(
                    "Zoho CRM does not describe the {module} module to this user"
                )))
            }
            Some(i) if i.creatable == Some(false) || i.editable == Some(false) => {
                return Err(ConnectorError::Queue(QueueProblem::Forbidden(format!(
                    "the Zoho user may not create and edit {module} records: give the user's profile Create and Edit on {module} (Setup → Users and Control → Security Control → Profiles)"
                ))))
            }
            Some(_) => {}
        }
        *self.setup_checked.lock().await = Some(tokio::time::Instant::now());
        Ok(())
    }

    /// What works but deserves a word: the edition's concurrency limit
    /// against the setting, the credits left.
    pub(super) async fn notes(&self) -> Result<Vec<String>, ConnectorError> {
        let mut notes = Vec::new();
        let org = self.must_get("org", &[]).await?;
        let edition = org
            .get("org")
            .and_then(Value::as_array)
            .and_then(|o| o.first())
            .and_then(|o| o.get("edition"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(limit) = edition_concurrency(&edition) {
            if self.concurrency > limit {
                notes.push(format!(
                    "the Zoho {edition} edition allows {limit} requests at once, but the endpoint sends up to {} (setting concurrency): set --concurrency {limit}",
                    self.concurrency
                ));
            } else if self.concurrency < limit && self.concurrency == DEFAULT_CONCURRENCY {
                notes.push(format!(
                    "the Zoho {edition} edition allows {limit} requests at once; the endpoint sends up to {} (--concurrency {limit} would deliver faster, if no other integration shares the org's limit)",
                    self.concurrency
                ));
            }
        }
        if let Some(left) = self.credits.left().org_left {
            notes.push(format!(
                "Zoho reports {left} API credits left for the last 24 hours (it tells once half is used)"
            ));
        }
        Ok(notes)
    }
}

/// Requests an edition allows at once (Zoho's API limits page).
pub fn edition_concurrency(edition: &str) -> Option<u32> {
    match edition.to_ascii_lowercase().as_str() {
        "free" => Some(5),
        "standard" | "starter" => Some(10),
        "professional" => Some(15),
        "enterprise" => Some(20),
        "ultimate" => Some(25),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        serde_json::from_value(serde_json::json!({"fields": [
            {"api_name": "First_Name", "field_label": "First Name", "data_type": "text", "length": 40},
            {"api_name": "Last_Name", "field_label": "Last Name", "data_type": "text", "length": 80, "system_mandatory": true},
            {"api_name": "Email", "data_type": "email", "length": 100},
            {"api_name": "Company", "data_type": "text", "length": 200, "system_mandatory": true},
            {"api_name": "Outpost_Key", "data_type": "text", "length": 255, "unique": {"casesensitive": "false"}},
            {"api_name": "Modified_Time", "data_type": "datetime", "read_only": true},
            {"api_name": "Lead_Source", "display_label": "Lead Source", "data_type": "picklist", "length": 120,
             "pick_list_values": [{"display_value": "-None-", "actual_value": "-None-"},
                                  {"display_value": "Kaltakquise", "actual_value": "Cold Call"}]}
        ]}))
        .unwrap()
    }

    #[test]
    fn the_form_has_mandatory_short_and_picklist_fields() {
        let f = fields();
        let map = FieldMap::new(super::super::CONTACTS_MAP);
        let form = f.form(&map, "Outpost_Key", Module::Contacts);
        let first = form.fields.iter().find(|x| x.name == "first_name").unwrap();
        assert_eq!(first.max_len, Some(40));
        assert!(!first.required);
        let last = form.fields.iter().find(|x| x.name == "last_name").unwrap();
        assert!(last.required);
        let pick = form
            .fields
            .iter()
            .find(|x| x.name == "lead_source")
            .unwrap();
        assert!(pick.attribute && pick.kind == crate::crm::form::FieldKind::Picklist);
        assert_eq!(pick.label, "Lead Source");
        assert_eq!(pick.options.len(), 1, "-None- is no option");
        assert_eq!(
            (
                pick.options[0].value.as_str(),
                pick.options[0].label.as_str()
            ),
            ("Cold Call", "Kaltakquise")
        );
        assert!(!form
            .fields
            .iter()
            .any(|x| x.name == "outpost_key" || x.name == "modified_time"));
        assert_eq!(f.api_name("lead_source"), "Lead_Source");
        assert_eq!(f.api_name("unknown_x"), "unknown_x");
        // A Lead's company is filled with a placeholder, so not required.
        let leads = FieldMap::new(super::super::LEADS_MAP);
        let form = f.form(&leads, "Outpost_Key", Module::Leads);
        assert!(form
            .fields
            .iter()
            .all(|x| x.name != "company" || !x.required));
        let list = f.field_list(Module::Contacts);
        assert_eq!(list.fields.len(), 7);
        assert!(!list.get("Modified_Time").unwrap().writable);
    }

    #[test]
    fn the_key_field_must_exist_and_be_unique() {
        let mut f = fields();
        assert!(key_problem(&f, "Outpost_Key", "Contacts").is_none());
        let p = key_problem(&f, "Other_Key", "Contacts").unwrap();
        assert!(p.contains("no field with the API name Other_Key"), "{p}");
        f.fields
            .iter_mut()
            .find(|x| x.api_name == "Outpost_Key")
            .unwrap()
            .unique = None;
        let p = key_problem(&f, "Outpost_Key", "Contacts").unwrap();
        assert!(p.contains("Do not allow duplicate values"), "{p}");
        assert_eq!(edition_concurrency("Enterprise"), Some(20));
        assert_eq!(edition_concurrency("?"), None);
    }
}
