//! An admin's field map for one endpoint, for the CLI and the Settings
//! screen alike: the `--map` / `--unmap` edits, the effective map as shown
//! (the connector's defaults with the overrides), and checking it against
//! the CRM's field list when the CRM answers. The comparison itself is
//! `crm::field_check`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use super::secrets::SecretStore;
use super::EndpointConfig;
use crate::crm::field_check::{self, FieldList, MapProblem, MAP_FIELD};
use crate::crm::{self, ConnectorError, CrmConnector};
use crate::customer::Field;
use crate::error::{FieldError, Result, ValidationErrors};
use crate::store::Store;

/// How long saving waits for the CRM's field list before saving unchecked.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// One change to an endpoint's map, as the CLI spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapEdit {
    /// `--map notes=description`
    Map(Field, String),
    /// `--map +store_id`
    AddExtra(String),
    /// `--unmap notes`: back to the connector's default (or not sent).
    Unmap(Field),
    /// `--unmap +store_id`
    RemoveExtra(String),
}

impl MapEdit {
    /// `FIELD=CRM_FIELD` or `+CRM_FIELD`.
    pub fn parse_map(arg: &str) -> Result<MapEdit, FieldError> {
        let arg = arg.trim();
        if let Some(extra) = arg.strip_prefix('+') {
            return Ok(MapEdit::AddExtra(crm_name(extra, arg)?));
        }
        let Some((field, crm)) = arg.split_once('=') else {
            return Err(map_error(format!(
                "{arg:?}: write FIELD=CRM_FIELD (e.g. notes=description) or +CRM_FIELD to add a CRM field to the form."
            )));
        };
        Ok(MapEdit::Map(outpost_field(field)?, crm_name(crm, arg)?))
    }

    /// `FIELD` or `+CRM_FIELD`.
    pub fn parse_unmap(arg: &str) -> Result<MapEdit, FieldError> {
        let arg = arg.trim();
        match arg.strip_prefix('+') {
            Some(extra) => Ok(MapEdit::RemoveExtra(crm_name(extra, arg)?)),
            None => Ok(MapEdit::Unmap(outpost_field(arg)?)),
        }
    }
}

fn map_error(message: String) -> FieldError {
    FieldError::new(MAP_FIELD, message)
}

fn outpost_field(name: &str) -> Result<Field, FieldError> {
    let name = name.trim();
    Field::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        map_error(format!(
            "{name:?} is not an Outpost field; use one of {}.",
            names.join(", ")
        ))
    })
}

fn crm_name(name: &str, arg: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(map_error(format!(
            "{arg:?}: the CRM field name is missing."
        )));
    }
    Ok(name.to_owned())
}

/// Applies edits in order. A mapping to the connector's own default is not
/// stored as an override, so an export carries only what the admin changed.
pub fn apply(config: &mut EndpointConfig, edits: &[MapEdit]) {
    let defaults = crm::endpoint_default_map(config);
    let settings = &mut config.settings;
    for edit in edits {
        match edit {
            MapEdit::Map(field, crm) => {
                let is_default = defaults.iter().any(|e| e.field == *field && e.crm == crm);
                if is_default {
                    settings.field_map.remove(field);
                } else {
                    settings.field_map.insert(*field, crm.clone());
                }
            }
            MapEdit::Unmap(field) => {
                settings.field_map.remove(field);
            }
            MapEdit::AddExtra(name) => {
                if !settings.form_extra.contains(name) {
                    settings.form_extra.push(name.clone());
                }
            }
            MapEdit::RemoveExtra(name) => settings.form_extra.retain(|e| e != name),
        }
    }
}

/// Whether saving should ask the CRM: only an admin's overrides and extras
/// can be new to it (the defaults are checked whenever the form is fetched).
pub fn needs_check(config: &EndpointConfig) -> bool {
    !config.settings.field_map.is_empty() || !config.settings.form_extra.is_empty()
}

/// An endpoint's map as Settings and `outpost endpoints show` present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MapView {
    /// Outpost field → CRM field in effect: the connector's defaults with
    /// the admin's overrides.
    pub field_map: BTreeMap<String, String>,
    pub form_extra: Vec<String>,
    /// What does not fit the CRM's field list as last fetched.
    pub problems: Vec<MapProblem>,
    /// When that list was fetched (RFC 3339); `None`: never, or the CRM
    /// lists no fields, so the map is unchecked.
    pub checked_at: Option<String>,
}

/// The effective map, checked against the cached field list (no network).
pub async fn view(store: &Store, config: &EndpointConfig) -> Result<MapView> {
    let map = crm::field_map(config);
    let cached = store.cached_field_list(&config.name).await?;
    let (problems, checked_at) = match cached {
        Some((at, list)) => (
            field_check::check(&map, &config.settings.form_extra, &list),
            Some(at),
        ),
        None => (Vec::new(), None),
    };
    Ok(MapView {
        field_map: map.as_names(),
        form_extra: config.settings.form_extra.clone(),
        problems,
        checked_at,
    })
}

/// The map checked against the CRM itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MapCheck {
    /// The CRM's fields, when it answered and lists them (the Settings
    /// screen offers them as choices).
    pub fields: Option<FieldList>,
    pub problems: Vec<MapProblem>,
    /// Why the map could not be checked (unreachable, no credentials, the
    /// CRM lists no fields); `None` when it was.
    pub unchecked: Option<String>,
}

impl MapCheck {
    fn unchecked(why: String) -> Self {
        MapCheck {
            fields: None,
            problems: Vec::new(),
            unchecked: Some(why),
        }
    }

    /// The problems as field errors on `map`, if there are any.
    pub fn errors(&self) -> Option<ValidationErrors> {
        (!self.problems.is_empty()).then(|| {
            ValidationErrors(
                self.problems
                    .iter()
                    .map(MapProblem::to_field_error)
                    .collect(),
            )
        })
    }

    /// What to tell an admin whose map was saved without a check.
    pub fn note(&self) -> Option<String> {
        self.unchecked.as_ref().map(|why| {
            format!("the field map was saved but could not be checked against the CRM: {why}")
        })
    }
}

/// Asks the CRM for its fields (with the secrets as given, e.g. an overlay
/// of what was just typed) and checks the map, within [`CHECK_TIMEOUT`].
pub async fn check_online(config: &EndpointConfig, secrets: Arc<dyn SecretStore>) -> MapCheck {
    let connector = match crm::build(config, secrets).await {
        Ok(c) => c,
        Err(e) => return MapCheck::unchecked(why(&e)),
    };
    check_with(config, connector.as_ref()).await
}

/// [`check_online`] with a connector already built (Test connection).
pub async fn check_with(config: &EndpointConfig, connector: &dyn CrmConnector) -> MapCheck {
    let list = match tokio::time::timeout(CHECK_TIMEOUT, connector.fields()).await {
        Err(_) => return MapCheck::unchecked("the CRM did not answer in time".into()),
        Ok(Err(e)) => return MapCheck::unchecked(why(&e)),
        Ok(Ok(None)) => return MapCheck::unchecked("the CRM does not list its fields".into()),
        Ok(Ok(Some(list))) => list,
    };
    let map = crm::field_map(config);
    MapCheck {
        problems: field_check::check(&map, &config.settings.form_extra, &list),
        fields: Some(list),
        unchecked: None,
    }
}

/// Before saving: an admin's map must fit the CRM when the CRM answers.
/// `Err` with the problems as field errors on `map`; `Ok` with a note to
/// show when it could not be checked (it is saved as entered).
pub async fn require_fit(
    config: &EndpointConfig,
    secrets: Arc<dyn SecretStore>,
) -> Result<Option<String>, ValidationErrors> {
    if !needs_check(config) {
        return Ok(None);
    }
    let check = check_online(config, secrets).await;
    match check.errors() {
        Some(errors) => Err(errors),
        None => Ok(check.note()),
    }
}

fn why(e: &ConnectorError) -> String {
    use crate::crm::QueueProblem;
    match e {
        ConnectorError::Queue(QueueProblem::CredentialsMissing) => {
            "no credentials are stored for it yet".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::{Connectivity, EndpointKind, EndpointSettings};

    fn hubspot() -> EndpointConfig {
        EndpointConfig {
            name: "hs".into(),
            kind: EndpointKind::Hubspot,
            base_url: "https://api.hubapi.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings::default(),
        }
    }

    #[test]
    fn edits_parse_as_the_cli_spells_them() {
        assert_eq!(
            MapEdit::parse_map(&format!(" {}=vat_number ", Field::TaxId.name())).unwrap(),
            MapEdit::Map(Field::TaxId, "vat_number".into())
        );
        assert_eq!(
            MapEdit::parse_map("+store_id").unwrap(),
            MapEdit::AddExtra("store_id".into())
        );
        assert_eq!(
            MapEdit::parse_unmap("+store_id").unwrap(),
            MapEdit::RemoveExtra("store_id".into())
        );
        let taxid = Field::TaxId.name();
        let no_value = format!("{taxid}=");
        for bad in ["taxid=vat", taxid, no_value.as_str(), "+", "=x"] {
            let e = MapEdit::parse_map(bad).unwrap_err();
            assert_eq!(e.field, "map", "{bad}");
        }
        let e = MapEdit::parse_unmap("vat").unwrap_err();
        assert!(e.message.contains("not an Outpost field") && e.message.contains(taxid));
    }

    #[test]
    fn a_default_mapping_is_not_stored_and_unmap_restores_the_default() {
        let mut c = hubspot();
        apply(
            &mut c,
            &[
                MapEdit::Map(Field::TaxId, "vat_number".into()),
                MapEdit::Map(Field::Email, "email".into()),
                MapEdit::Map(Field::Phone, "mobilephone".into()),
                MapEdit::AddExtra("store_id".into()),
                MapEdit::AddExtra("store_id".into()),
            ],
        );
        assert_eq!(c.settings.field_map.len(), 2, "email=email is the default");
        assert_eq!(c.settings.form_extra, ["store_id"]);
        assert_eq!(
            crm::field_map(&c).crm_field(Field::Phone),
            Some("mobilephone")
        );
        apply(
            &mut c,
            &[
                MapEdit::Unmap(Field::Phone),
                MapEdit::RemoveExtra("store_id".into()),
            ],
        );
        assert_eq!(crm::field_map(&c).crm_field(Field::Phone), Some("phone"));
        assert!(c.settings.form_extra.is_empty());
        assert!(needs_check(&c), "the tax id is still overridden");
    }

    #[test]
    fn conflicting_maps_are_refused_offline() {
        let mut c = hubspot();
        apply(
            &mut c,
            &[
                MapEdit::Map(Field::TaxId, "email".into()),
                MapEdit::Map(Field::Notes, "outpost_key".into()),
                MapEdit::AddExtra("zip".into()),
                MapEdit::AddExtra(Field::TaxId.name().into()),
                MapEdit::AddExtra("Store-Id".into()),
            ],
        );
        let e = c.validate().unwrap_err();
        let messages: Vec<&str> = e.fields().iter().map(|f| f.message.as_str()).collect();
        assert!(e.fields().iter().all(|f| f.field == "map"), "{messages:?}");
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains(&format!(
            "email and {} would both be sent to email",
            Field::TaxId.name()
        ))));
        assert!(messages.iter().any(|m| m.contains("holds Outpost's key")));
        assert!(messages
            .iter()
            .any(|m| m.contains("postal_code is already mapped to zip")));
        assert!(messages.iter().any(|m| m.contains("is an Outpost field")));
        assert!(messages.iter().any(|m| m.contains("lower-case")));
    }
}
