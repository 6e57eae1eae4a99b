//! The admin settings: the passphrase gate and the endpoints with their
//! secrets. Every endpoint call needs the settings unlocked in this process;
//! reading is not admin activity (an open screen still locks when idle),
//! anything that changes or probes is.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::error::{AppError, AppResult};
use super::{Mode, Outpost};
use crate::admin;
use crate::app_settings::{AppSettings, AppSettingsInput};
use crate::endpoint::diagnose::{test_connection, TestResult};
use crate::endpoint::mapping::{self, MapCheck, MapView};
use crate::endpoint::overlay::OverlaySecrets;
use crate::endpoint::save::{
    self, field_name, missing_message, secrets_set, secrets_used, Entered,
};
use crate::endpoint::secret_input::SecretsInput;
use crate::endpoint::secrets::{SecretKind, SecretStore};
use crate::endpoint::transfer::{parse_secrets, EndpointExport};
use crate::endpoint::EndpointConfig;
use crate::error::FieldError;
use crate::sensitive::Sensitive;
use crate::sync::monitor::EndpointStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AdminStatus {
    pub passphrase_set: bool,
    pub unlocked: bool,
}

/// An endpoint as the settings show it: secrets only as "set" flags.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EndpointView {
    pub config: EndpointConfig,
    pub token_set: bool,
    pub client_secret_set: bool,
    pub refresh_token_set: bool,
    /// The running engine's view of it (`None` one-shot).
    pub status: Option<EndpointStatus>,
    /// The effective field map, checked against the CRM's last field list.
    pub mapping: MapView,
}

/// An endpoint as saved, with what to tell the admin about its field map.
#[derive(Debug, Clone)]
pub struct SavedEndpoint {
    pub config: EndpointConfig,
    /// Set when the map could not be checked against the CRM (offline, no
    /// credentials yet): it was saved as entered.
    pub map_note: Option<String>,
}

/// Whether a new endpoint must come with every secret its sign-in uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewEndpointSecrets {
    /// The settings form asks for them all at once.
    Required,
    /// The CLI may add them with a later `endpoints set`.
    Later,
}

impl Outpost {
    pub async fn admin_status(&self) -> AppResult<AdminStatus> {
        Ok(AdminStatus {
            passphrase_set: admin::is_set(&self.store).await?,
            unlocked: self.admin.is_unlocked(),
        })
    }

    /// First run: sets the passphrase. Later: changes it (the current one
    /// is needed). Unlocks the settings.
    pub async fn set_passphrase(
        &self,
        current: Option<&Sensitive<String>>,
        new: &Sensitive<String>,
    ) -> AppResult<AdminStatus> {
        admin::set_passphrase(&self.store, current, new).await?;
        self.admin.unlock();
        self.admin_status().await
    }

    /// Unlocks the settings with the passphrase. `None` unlocks only while
    /// no passphrase is set (the CLI before one is chosen).
    pub async fn unlock(&self, passphrase: Option<&Sensitive<String>>) -> AppResult<AdminStatus> {
        match passphrase {
            Some(p) if p.expose().chars().count() > admin::MAX_LENGTH => {
                return Err(AppError::invalid_input(
                    "passphrase",
                    "That is longer than any passphrase.",
                ));
            }
            Some(p) => admin::verify(&self.store, p).await?,
            None if admin::is_set(&self.store).await? => return Err(AppError::SettingsLocked),
            None => {}
        }
        self.admin.unlock();
        self.admin_status().await
    }

    pub async fn lock(&self) -> AppResult<AdminStatus> {
        self.admin.lock();
        self.admin_status().await
    }

    /// The configured endpoints, primary first, without touching the keyring.
    pub async fn endpoints(&self) -> AppResult<Vec<EndpointConfig>> {
        self.settings_read()?;
        Ok(self.store.endpoints().await?)
    }

    /// One endpoint's settings, without touching the keyring.
    pub async fn endpoint_config(&self, name: &str) -> AppResult<EndpointConfig> {
        self.settings_read()?;
        self.store
            .endpoint(name)
            .await?
            .ok_or_else(|| AppError::EndpointNotFound(name.to_owned()))
    }

    /// Every endpoint with which secrets are set and, in the window, its state.
    pub async fn list_endpoints(&self) -> AppResult<Vec<EndpointView>> {
        let configs = self.endpoints().await?;
        let statuses = match &self.mode {
            Mode::Running(engine) => engine.endpoint_statuses().await,
            Mode::OneShot => Vec::new(),
        };
        let mut views = Vec::with_capacity(configs.len());
        for config in configs {
            let status = statuses.iter().find(|s| s.endpoint == config.name).cloned();
            views.push(self.view(config, status).await?);
        }
        Ok(views)
    }

    pub async fn endpoint(&self, name: &str) -> AppResult<EndpointView> {
        let config = self.endpoint_config(name).await?;
        self.view(config, None).await
    }

    async fn view(
        &self,
        config: EndpointConfig,
        status: Option<EndpointStatus>,
    ) -> AppResult<EndpointView> {
        // A keyring that cannot say is an error, never a misleading "not set".
        let set = secrets_set(self.secrets.as_ref(), &config.name).await?;
        Ok(EndpointView {
            token_set: set[&SecretKind::Token],
            client_secret_set: set[&SecretKind::ClientSecret],
            refresh_token_set: set[&SecretKind::RefreshToken],
            status,
            mapping: mapping::view(&self.store, &config).await?,
            config,
        })
    }

    /// "Test connection" with the values as entered (blank secrets: the
    /// stored ones), before anything is saved.
    pub async fn test_endpoint(
        &self,
        config: &EndpointConfig,
        secrets: SecretsInput,
    ) -> AppResult<TestResult> {
        let overlay = self.entered_secrets(config, secrets)?;
        // A locked keyring is the keyring's error, not a test outcome.
        for &kind in secrets_used(config.settings.auth) {
            overlay.get(&config.name, kind).await?;
        }
        Ok(test_connection(config, overlay).await)
    }

    /// The CRM's fields for the endpoint as entered (the Settings screen's
    /// choices for its field map) and what of the map does not fit them;
    /// offline, why not.
    pub async fn endpoint_crm_fields(
        &self,
        config: &EndpointConfig,
        secrets: SecretsInput,
    ) -> AppResult<MapCheck> {
        let overlay = self.entered_secrets(config, secrets)?;
        Ok(mapping::check_online(config, overlay).await)
    }

    /// For an admin action on the form as entered: the settings and secrets
    /// checked, and the secrets typed over the stored ones (nothing saved).
    fn entered_secrets(
        &self,
        config: &EndpointConfig,
        secrets: SecretsInput,
    ) -> AppResult<Arc<OverlaySecrets>> {
        self.settings_action()?;
        let entered = check_form(config, secrets)?;
        Ok(Arc::new(OverlaySecrets::new(
            self.secrets.clone(),
            &config.name,
            entered,
        )))
    }

    /// `outpost endpoints test NAME`: probes with the stored settings.
    pub async fn test_saved_endpoint(&self, name: &str) -> AppResult<TestResult> {
        let config = self.endpoint_config(name).await?;
        self.test_endpoint(&config, SecretsInput::default()).await
    }

    /// Saves an endpoint with the secrets entered; with `previous_name`,
    /// renames that one (its secrets and queue follow). A running engine
    /// restarts it at once, so a paused queue resumes if the new settings work.
    pub async fn save_endpoint(
        &self,
        config: EndpointConfig,
        secrets: SecretsInput,
        previous_name: Option<&str>,
        new_needs: NewEndpointSecrets,
    ) -> AppResult<SavedEndpoint> {
        self.settings_action()?;
        let entered = check_form(&config, secrets)?;
        let is_new = previous_name.is_none() && self.store.endpoint(&config.name).await?.is_none();
        if is_new && new_needs == NewEndpointSecrets::Required {
            let missing: Vec<FieldError> = secrets_used(config.settings.auth)
                .iter()
                .filter(|kind| !entered.contains_key(kind))
                .map(|&kind| FieldError::new(field_name(kind), missing_message(kind)))
                .collect();
            if !missing.is_empty() {
                return Err(AppError::validation(missing));
            }
        }
        // An admin's map must fit the CRM when it answers; offline it is
        // saved unchecked, with a note.
        let overlay = Arc::new(OverlaySecrets::new(
            self.secrets.clone(),
            &config.name,
            entered.clone(),
        ));
        let map_note = mapping::require_fit(&config, overlay).await?;
        save::save(
            &self.store,
            self.secrets.as_ref(),
            &config,
            &entered,
            previous_name,
        )
        .await?;
        Ok(SavedEndpoint { config, map_note })
    }

    /// Removes an endpoint and its secrets.
    pub async fn remove_endpoint(&self, name: &str) -> AppResult<()> {
        self.settings_action()?;
        Ok(save::remove(&self.store, self.secrets.as_ref(), name).await?)
    }

    /// Every endpoint's non-secret configuration, for a fleet.
    pub async fn export_endpoints(&self) -> AppResult<EndpointExport> {
        Ok(EndpointExport::new(self.endpoints().await?))
    }

    /// Applies an export, with the secrets that go with it
    /// (`{"NAME": {"token": "..."}}`). Everything is checked before
    /// anything is saved; each endpoint is then saved like a new one.
    pub async fn import_endpoints(
        &self,
        export: &str,
        secrets: Option<&str>,
    ) -> AppResult<Vec<EndpointConfig>> {
        self.settings_action()?;
        let export = EndpointExport::parse(export).map_err(AppError::InvalidInput)?;
        let mut given = match secrets {
            Some(text) => parse_secrets(text).map_err(AppError::InvalidInput)?,
            None => Default::default(),
        };
        if let Some(stray) = given
            .keys()
            .find(|name| !export.endpoints.iter().any(|c| &c.name == *name))
        {
            return Err(AppError::invalid_input(
                "secrets",
                format!("{stray} is not an endpoint of the file"),
            ));
        }
        let mut errors = Vec::new();
        let mut planned: Vec<(&EndpointConfig, Entered)> = Vec::new();
        for config in &export.endpoints {
            let input = given.remove(&config.name).unwrap_or_default();
            match check_form(config, input) {
                Ok(entered) => planned.push((config, entered)),
                Err(AppError::Core(crate::error::Error::Validation(v))) => {
                    errors.extend(v.0.into_iter().map(|f| FieldError {
                        field: f.field,
                        message: format!("{}: {}", config.name, f.message),
                    }))
                }
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        for (config, entered) in planned {
            save::save(&self.store, self.secrets.as_ref(), config, &entered, None).await?;
        }
        Ok(export.endpoints)
    }

    fn settings_read(&self) -> AppResult<()> {
        self.admin
            .is_unlocked()
            .then_some(())
            .ok_or(AppError::SettingsLocked)
    }

    /// Each action restarts the idle clock.
    /// The device's settings (the default region phone numbers are read in).
    /// Reading is open to the create form; changing is an admin action.
    pub fn app_settings(&self) -> AppSettings {
        self.store.app_settings()
    }

    pub async fn set_app_settings(&self, input: &AppSettingsInput) -> AppResult<AppSettings> {
        input.region()?;
        self.settings_action()?;
        Ok(self.store.set_app_settings(input).await?)
    }

    fn settings_action(&self) -> AppResult<()> {
        self.admin
            .touch()
            .then_some(())
            .ok_or(AppError::SettingsLocked)
    }
}

/// The settings and the secrets entered, every problem against its field.
fn check_form(config: &EndpointConfig, secrets: SecretsInput) -> AppResult<Entered> {
    let mut fields = config.validate().err().map(|e| e.0).unwrap_or_default();
    match secrets.check(config.settings.auth) {
        Ok(entered) if fields.is_empty() => Ok(entered),
        Ok(_) => Err(AppError::validation(fields)),
        Err(secret_errors) => {
            fields.extend(secret_errors);
            Err(AppError::validation(fields))
        }
    }
}
