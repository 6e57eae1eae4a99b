//! Secrets as typed into a settings form, over the stored ones: lets "Test
//! connection" try new credentials before anything is saved.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::secrets::{SecretError, SecretKind, SecretStore};
use crate::sensitive::Sensitive;

pub struct OverlaySecrets {
    base: Arc<dyn SecretStore>,
    endpoint: String,
    entered: HashMap<SecretKind, Sensitive<String>>,
}

impl OverlaySecrets {
    pub fn new(
        base: Arc<dyn SecretStore>,
        endpoint: &str,
        entered: HashMap<SecretKind, Sensitive<String>>,
    ) -> Self {
        OverlaySecrets {
            base,
            endpoint: endpoint.to_owned(),
            entered,
        }
    }
}

#[async_trait]
impl SecretStore for OverlaySecrets {
    async fn get(
        &self,
        endpoint: &str,
        kind: SecretKind,
    ) -> Result<Option<Sensitive<String>>, SecretError> {
        if endpoint == self.endpoint {
            if let Some(v) = self.entered.get(&kind) {
                return Ok(Some(v.clone()));
            }
        }
        self.base.get(endpoint, kind).await
    }

    /// A rotated refresh token during a test: one rotated from a secret
    /// typed into the form is dropped (a test must not save what was typed),
    /// but one rotated from the stored secret is stored, since the CRM has
    /// just revoked the stored one (Salesforce with rotation on).
    async fn set(
        &self,
        endpoint: &str,
        kind: SecretKind,
        value: &Sensitive<String>,
    ) -> Result<(), SecretError> {
        if endpoint == self.endpoint && self.entered.contains_key(&kind) {
            return Ok(());
        }
        self.base.set(endpoint, kind, value).await
    }

    async fn delete(&self, _: &str, _: SecretKind) -> Result<(), SecretError> {
        Ok(())
    }
}
