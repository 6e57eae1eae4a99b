//! The admin passphrase that protects the settings from the till. Only its
//! argon2 hash is stored. Wrong guesses are counted in the database (so
//! separate CLI processes share the count) and, after a few, each further
//! attempt must wait longer.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::sensitive::Sensitive;
use crate::store::Store;

const HASH_KEY: &str = "admin.passphrase_hash";
const FAILURES_KEY: &str = "admin.failed_attempts";
const LAST_FAILURE_KEY: &str = "admin.last_failure_at";
pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 256;
/// Free attempts before the delay starts.
const FREE_ATTEMPTS: u32 = 3;
/// The settings lock again after this long without admin activity (the
/// window's session and the settings screen's own timer).
pub const IDLE_LOCK_SECS: u64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("no admin passphrase is set yet")]
    NotSet,
    #[error("an admin passphrase is already set")]
    AlreadySet,
    #[error("the admin passphrase is wrong")]
    Wrong,
    #[error("too many wrong admin passphrases: try again in {0} s")]
    TooManyAttempts(u64),
    #[error("the admin passphrase must be {MIN_LENGTH} to {MAX_LENGTH} characters long")]
    Weak,
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// The passphrase could not be stored: no room on the disk.
    #[error("{}", crate::error::Error::DiskFull)]
    DiskFull,
}

/// A storage failure while checking the passphrase (kept apart so
/// `AdminError` stays `Clone`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreFailure(String);

impl From<crate::error::Error> for AdminError {
    fn from(e: crate::error::Error) -> Self {
        if let crate::error::Error::DiskFull = e {
            return AdminError::DiskFull;
        }
        AdminError::Store(StoreFailure(e.to_string()))
    }
}

pub async fn is_set(store: &Store) -> Result<bool> {
    Ok(store.setting(HASH_KEY).await?.is_some())
}

/// Sets the first passphrase, or replaces it when `current` is right.
pub async fn set_passphrase(
    store: &Store,
    current: Option<&Sensitive<String>>,
    new: &Sensitive<String>,
) -> Result<(), AdminError> {
    let len = new.expose().chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&len) {
        return Err(AdminError::Weak);
    }
    if is_set(store).await? {
        let current = current.ok_or(AdminError::AlreadySet)?;
        verify(store, current).await?;
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(new.expose().as_bytes(), &salt)
        .map_err(|e| AdminError::Store(StoreFailure(e.to_string())))?
        .to_string();
    store.set_setting(HASH_KEY, &hash).await?;
    Ok(())
}

/// Checks a passphrase, enforcing the delay after repeated wrong guesses.
pub async fn verify(store: &Store, passphrase: &Sensitive<String>) -> Result<(), AdminError> {
    let hash = store.setting(HASH_KEY).await?.ok_or(AdminError::NotSet)?;
    let failures: u32 = store
        .setting(FAILURES_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if let Some(wait) = remaining_delay(store, failures).await? {
        return Err(AdminError::TooManyAttempts(wait));
    }
    PasswordHash::new(&hash)
        .map_err(|e| AdminError::Store(StoreFailure(format!("stored hash: {e}"))))?;
    // Argon2 is deliberately slow: keep it off the async workers.
    let candidate = passphrase.expose().clone();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|p| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &p)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if ok {
        store.set_setting(FAILURES_KEY, "0").await?;
        Ok(())
    } else {
        store
            .set_setting(FAILURES_KEY, &(failures + 1).to_string())
            .await?;
        store
            .set_setting(LAST_FAILURE_KEY, &Utc::now().to_rfc3339())
            .await?;
        tracing::warn!(failures = failures + 1, "wrong admin passphrase");
        Err(AdminError::Wrong)
    }
}

/// 2 s after the 4th wrong guess, doubling each time, capped at 5 minutes.
async fn remaining_delay(store: &Store, failures: u32) -> Result<Option<u64>, AdminError> {
    if failures < FREE_ATTEMPTS {
        return Ok(None);
    }
    let Some(last) = store.setting(LAST_FAILURE_KEY).await? else {
        return Ok(None);
    };
    let last: DateTime<Utc> = last.parse().unwrap_or_else(|_| Utc::now());
    let delay = 2u64.saturating_pow(failures - FREE_ATTEMPTS + 1).min(300);
    let elapsed = (Utc::now() - last).num_seconds().max(0) as u64;
    Ok((elapsed < delay).then(|| delay - elapsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_hash_is_stored_and_guessing_is_slowed_down() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path().join("a.db")).await.unwrap();
        let pass = Sensitive::new("correct horse battery".to_owned());
        assert!(!is_set(&store).await.unwrap());
        assert_eq!(verify(&store, &pass).await, Err(AdminError::NotSet));
        assert_eq!(
            set_passphrase(&store, None, &Sensitive::new("short".into())).await,
            Err(AdminError::Weak)
        );
        set_passphrase(&store, None, &pass).await.unwrap();
        let stored = store.setting(HASH_KEY).await.unwrap().unwrap();
        assert!(stored.starts_with("$argon2") && !stored.contains("horse"));
        assert_eq!(
            set_passphrase(&store, None, &pass).await,
            Err(AdminError::AlreadySet)
        );

        verify(&store, &pass).await.unwrap();
        let wrong = Sensitive::new("wrong guess!".to_owned());
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(verify(&store, &wrong).await, Err(AdminError::Wrong));
        }
        // Now even the right passphrase must wait.
        assert!(matches!(
            verify(&store, &pass).await,
            Err(AdminError::TooManyAttempts(_))
        ));
    }
}
