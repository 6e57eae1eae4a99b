//! Saving, renaming and removing an endpoint together with its secrets, for
//! the settings screen and the CLI alike. The keyring ends up holding exactly
//! the secrets each existing endpoint uses, under its current name: a rename
//! moves them (nothing is typed again, nothing is left behind).

use std::collections::HashMap;

use crate::endpoint::secrets::{SecretError, SecretKind, SecretStore};
use crate::endpoint::{AuthMethod, EndpointConfig};
use crate::error::{Error, FieldError, ValidationErrors};
use crate::sensitive::Sensitive;
use crate::store::Store;

pub const SECRET_KINDS: [SecretKind; 3] = [
    SecretKind::Token,
    SecretKind::ClientSecret,
    SecretKind::RefreshToken,
];

/// What the keyring caches for an endpoint besides its secrets (a
/// minted access token): dropped whenever the settings are saved (they
/// may name another client or data centre) or the endpoint is removed.
pub const CACHED_KINDS: [SecretKind; 1] = [SecretKind::AccessToken];

/// Secrets as entered in a form or on stdin; absent ones keep what is stored.
pub type Entered = HashMap<SecretKind, Sensitive<String>>;

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("no endpoint named {0}")]
    NotFound(String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] Error),
}

/// The secrets an authentication method needs, in the keyring.
pub fn secrets_used(auth: AuthMethod) -> &'static [SecretKind] {
    match auth {
        AuthMethod::Token => &[SecretKind::Token],
        AuthMethod::OauthRefresh => &[SecretKind::ClientSecret, SecretKind::RefreshToken],
        AuthMethod::OauthClientCredentials => &[SecretKind::ClientSecret],
    }
}

/// The form's field name of a secret.
pub fn field_name(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Token => "token",
        SecretKind::ClientSecret => "client_secret",
        SecretKind::RefreshToken => "refresh_token",
        SecretKind::AccessToken => "access_token",
    }
}

/// What the settings form says when a new endpoint lacks this secret.
pub fn missing_message(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Token => "Enter the API token.",
        SecretKind::ClientSecret => "Enter the client secret.",
        SecretKind::RefreshToken => "Enter the refresh token.",
        SecretKind::AccessToken => "A new access token is minted when needed.",
    }
}

/// Saves `config`; with `previous_name` different from its name, the stored
/// endpoint of that name is renamed: its secrets and its queued messages
/// follow. Secrets are written before the store changes, because the store's
/// change restarts the endpoint and it reads them at once.
pub async fn save(
    store: &Store,
    secrets: &dyn SecretStore,
    config: &EndpointConfig,
    entered: &Entered,
    previous_name: Option<&str>,
) -> Result<(), EndpointError> {
    config.validate().map_err(Error::Validation)?;
    let renamed_from = previous_name.filter(|old| *old != config.name);
    if let Some(old) = renamed_from {
        if store.endpoint(old).await?.is_none() {
            return Err(EndpointError::NotFound(old.to_owned()));
        }
        if store.endpoint(&config.name).await?.is_some() {
            return Err(Error::Validation(ValidationErrors(vec![FieldError::new(
                "name",
                "Another endpoint already has this name.",
            )]))
            .into());
        }
    }
    let used = secrets_used(config.settings.auth);
    for &kind in used {
        let value = match (entered.get(&kind), renamed_from) {
            (Some(v), _) => Some(v.clone()),
            (None, Some(old)) => secrets.get(old, kind).await?,
            (None, None) => None,
        };
        if let Some(v) = value {
            secrets.set(&config.name, kind, &v).await?;
        }
    }
    match renamed_from {
        Some(old) => {
            if !store.rename_endpoint(old, config).await? {
                return Err(EndpointError::NotFound(old.to_owned()));
            }
        }
        None => store.save_endpoint(config).await?,
    }
    // The settings are saved; a leftover secret is tidied up, not a failure.
    let unused = SECRET_KINDS
        .iter()
        .filter(|k| !used.contains(k))
        .chain(CACHED_KINDS.iter());
    let stale =
        unused
            .map(|&k| (config.name.as_str(), k))
            .chain(renamed_from.into_iter().flat_map(|old| {
                SECRET_KINDS
                    .into_iter()
                    .chain(CACHED_KINDS)
                    .map(move |k| (old, k))
            }));
    for (name, kind) in stale {
        if let Err(e) = secrets.delete(name, kind).await {
            tracing::warn!(endpoint = name, ?kind, error = %e, "could not delete a secret the endpoint no longer uses");
        }
    }
    Ok(())
}

/// Removes an endpoint and every secret stored for it. The secrets go first:
/// an endpoint left without them shows "not set", whereas secrets left
/// without an endpoint would be invisible.
pub async fn remove(
    store: &Store,
    secrets: &dyn SecretStore,
    name: &str,
) -> Result<(), EndpointError> {
    if store.endpoint(name).await?.is_none() {
        return Err(EndpointError::NotFound(name.to_owned()));
    }
    for kind in SECRET_KINDS.into_iter().chain(CACHED_KINDS) {
        secrets.delete(name, kind).await?;
    }
    store.remove_endpoint(name).await?;
    Ok(())
}

/// Which secrets are stored for an endpoint ("set" / "not set" is all a
/// caller ever learns).
pub async fn secrets_set(
    secrets: &dyn SecretStore,
    name: &str,
) -> Result<HashMap<SecretKind, bool>, SecretError> {
    let mut set = HashMap::new();
    for kind in SECRET_KINDS {
        set.insert(kind, secrets.get(name, kind).await?.is_some());
    }
    Ok(set)
}
