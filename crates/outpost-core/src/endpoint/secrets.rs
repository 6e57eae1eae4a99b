//! Endpoint secrets (tokens, client secrets, refresh tokens) live in the OS
//! keyring, never in the database, a file or a log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::sensitive::Sensitive;

/// Which secret of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// API / private-app token, or an OAuth access token source.
    Token,
    ClientSecret,
    RefreshToken,
    /// A cached OAuth access token with its expiry (Zoho: JSON `{token,
    /// expires_at, api_domain}`), shared by the app and the CLI so a
    /// process reuses the token another minted. Never entered by a person.
    AccessToken,
}

impl SecretKind {
    fn as_str(self) -> &'static str {
        match self {
            SecretKind::Token => "token",
            SecretKind::ClientSecret => "client-secret",
            SecretKind::RefreshToken => "refresh-token",
            SecretKind::AccessToken => "access-token",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available ({0}); on Linux a Secret Service such as GNOME Keyring must be running and unlocked")]
    Unavailable(String),
    /// The keyring exists but is locked (or its unlock prompt was dismissed).
    #[error("{}", LOCKED_HELP)]
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

/// What a person does about a locked keyring, in the platform's words.
#[cfg(target_os = "macos")]
const LOCKED_HELP: &str =
    "keyring locked: unlock the login keychain (Keychain Access, or log in again) and try again";
#[cfg(target_os = "windows")]
const LOCKED_HELP: &str =
    "keyring locked: sign in to Windows again so Credential Manager opens, and try again";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const LOCKED_HELP: &str = "keyring locked: unlock it (open \"Passwords and Keys\" and unlock the \
     Login keyring, or log out and in again) and try again";

fn map_keyring_error(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoStorageAccess(inner) if is_locked(inner.as_ref()) => SecretError::Locked,
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            SecretError::Unavailable(inner.to_string())
        }
        other => SecretError::Other(other.to_string()),
    }
}

/// On Linux the Secret Service says exactly why access failed.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn is_locked(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    use dbus_secret_service::Error;
    matches!(
        inner.downcast_ref::<Error>(),
        Some(Error::Locked | Error::Prompt)
    )
}

/// Elsewhere "no storage access" is a keychain the user has not opened.
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn is_locked(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    true
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

type Values = HashMap<(String, SecretKind), String>;

/// In-memory secrets for unit tests of code that is not about the keyring;
/// [`MemorySecrets::lock`] makes every call fail as a locked keyring does.
#[derive(Debug, Clone, Default)]
pub struct MemorySecrets {
    values: Arc<Mutex<Values>>,
    locked: Arc<AtomicBool>,
}

impl MemorySecrets {
    pub fn lock(&self, locked: bool) {
        self.locked.store(locked, Ordering::SeqCst);
    }

    fn open(&self) -> Result<std::sync::MutexGuard<'_, Values>, SecretError> {
        if self.locked.load(Ordering::SeqCst) {
            return Err(SecretError::Locked);
        }
        Ok(self.values.lock().expect("secrets lock"))
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get(
        &self,
        endpoint: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        Ok(self
            .open()?
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
        self.open()?
            .insert((endpoint.to_owned(), kind), value.expose().clone());
        Ok(())
    }

    async fn delete(&self, endpoint: &str, kind: SecretKind) -> Result<(), SecretError> {
        self.open()?.remove(&(endpoint.to_owned(), kind));
        Ok(())
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "freebsd")))]
mod tests {
    use super::*;
    use dbus_secret_service::Error as Dbus;

    #[test]
    fn a_locked_secret_service_is_locked_not_unavailable() {
        let locked = map_keyring_error(keyring::Error::NoStorageAccess(Box::new(Dbus::Locked)));
        assert_eq!(locked, SecretError::Locked);
        assert!(locked.to_string().starts_with("keyring locked: unlock it"));
        let dismissed = map_keyring_error(keyring::Error::NoStorageAccess(Box::new(Dbus::Prompt)));
        assert_eq!(dismissed, SecretError::Locked);
        assert!(matches!(
            map_keyring_error(keyring::Error::PlatformFailure(Box::new(Dbus::Unavailable))),
            SecretError::Unavailable(_)
        ));
        assert!(matches!(
            map_keyring_error(keyring::Error::NoStorageAccess(Box::new(Dbus::NoResult))),
            SecretError::Unavailable(_)
        ));
    }
}
