//! Endpoint secrets (tokens, client secrets, refresh tokens) live in the OS
//! keyring, never in the database, a file or a log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::sensitive::Sensitive;
use crate::template::fill;

/// Longest secret accepted, in characters.
pub const MAX_CHARS: usize = 4096;
/// The secret rule in words (`{max}`: [`MAX_CHARS`]).
pub const RULE: &str = "One line of at most {max} characters.";

/// A secret is one line (no control characters) of at most [`MAX_CHARS`]
/// characters; `Err` holds the rule in words.
pub fn check(secret: &str) -> Result<(), String> {
    if secret.chars().count() > MAX_CHARS || secret.chars().any(char::is_control) {
        Err(fill(RULE, &[("max", &MAX_CHARS)]))
    } else {
        Ok(())
    }
}

/// Which secret of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// API / private-app token, or an OAuth access token source.
    Token,
    ClientSecret,
    RefreshToken,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::Token => "token",
            SecretKind::ClientSecret => "client-secret",
            SecretKind::RefreshToken => "refresh-token",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available ({0}); on Linux a Secret Service such as GNOME Keyring must be running and unlocked")]
    Unavailable(String),
    #[error("the OS keyring is locked: unlock it and try again")]
    Locked,
    #[error("keyring error: {0}")]
    Other(String),
}

#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// `Ok(None)` when the secret was never set.
    async fn get(
        &self,
        endpoint: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, SecretError>;
    async fn set(
        &self,
        endpoint: &str,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError>;
    /// Deleting a secret that does not exist is not an error.
    async fn delete(&self, endpoint: &str, kind: SecretKind) -> Result<(), SecretError>;
}

/// The platform keyring (Secret Service, macOS Keychain, Windows Credential
/// Manager). Its calls block, so they run on the blocking thread pool.
#[derive(Debug, Clone)]
pub struct KeyringSecrets {
    service: String,
}

impl KeyringSecrets {
    pub fn new(service: impl Into<String>) -> Self {
        KeyringSecrets {
            service: service.into(),
        }
    }

    async fn with_entry<T: Send + 'static>(
        &self,
        endpoint: &str,
        kind: SecretKind,
        f: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, SecretError> {
        let service = self.service.clone();
        let user = format!("endpoint:{endpoint}:{}", kind.as_str());
        tokio::task::spawn_blocking(move || keyring::Entry::new(&service, &user).and_then(f))
            .await
            .map_err(|e| SecretError::Other(e.to_string()))?
            .map_err(map_keyring_error)
    }
}

impl Default for KeyringSecrets {
    fn default() -> Self {
        KeyringSecrets::new("app.outpost.desktop")
    }
}

fn map_keyring_error(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoStorageAccess(inner) => {
            let text = inner.to_string();
            if text.to_lowercase().contains("lock") {
                SecretError::Locked
            } else {
                SecretError::Unavailable(text)
            }
        }
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(inner.to_string()),
        other => SecretError::Other(other.to_string()),
    }
}

#[async_trait]
impl SecretStore for KeyringSecrets {
    async fn get(
        &self,
        endpoint: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        self.with_entry(endpoint, kind, |e| match e.get_password() {
            Ok(p) => Ok(Some(Sensitive::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(other) => Err(other),
        })
        .await
    }

    async fn set(
        &self,
        endpoint: &str,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError> {
        let value = value.expose().clone();
        self.with_entry(endpoint, kind, move |e| e.set_password(&value))
            .await
    }

    async fn delete(&self, endpoint: &str, kind: SecretKind) -> Result<(), SecretError> {
        self.with_entry(endpoint, kind, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(other) => Err(other),
        })
        .await
    }
}

/// In-memory secrets for unit tests of code that is not about the keyring.
#[derive(Debug, Clone, Default)]
pub struct MemorySecrets(Arc<Mutex<HashMap<(String, SecretKind), String>>>);

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get(
        &self,
        endpoint: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        let map = self.0.lock().expect("secrets lock");
        Ok(map
            .get(&(endpoint.to_owned(), kind))
            .cloned()
            .map(Sensitive::new))
    }

    async fn set(
        &self,
        endpoint: &str,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError> {
        let mut map = self.0.lock().expect("secrets lock");
        map.insert((endpoint.to_owned(), kind), value.expose().clone());
        Ok(())
    }

    async fn delete(&self, endpoint: &str, kind: SecretKind) -> Result<(), SecretError> {
        self.0
            .lock()
            .expect("secrets lock")
            .remove(&(endpoint.to_owned(), kind));
        Ok(())
    }
}
