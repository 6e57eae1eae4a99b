//! Shared by the emulator-backed suites: a world of one store, one emulator
//! and in-memory secrets, and a polling wait with a deadline.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::{NewCustomer, Sensitive, Store};
use tempfile::TempDir;

pub const DEADLINE: Duration = Duration::from_secs(60);

pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + deadline;
    while !check().await {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// This device's side: a store in a private directory and in-memory secrets.
pub struct Local {
    pub dir: TempDir,
    pub db: std::path::PathBuf,
    pub store: Store,
    pub secrets: Arc<dyn SecretStore>,
}

impl Local {
    pub async fn new() -> Local {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("outpost.db");
        let store = Store::open(&db).await.unwrap();
        Local {
            dir,
            db,
            store,
            secrets: Arc::new(MemorySecrets::default()),
        }
    }

    /// Saves the endpoint "crm" (the primary) with these settings.
    pub async fn save_endpoint(
        &self,
        kind: EndpointKind,
        base_url: String,
        settings: EndpointSettings,
    ) {
        let config = EndpointConfig {
            name: "crm".into(),
            kind,
            base_url,
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings,
        };
        self.store.save_endpoint(&config).await.unwrap();
    }

    pub async fn add(&self, n: usize, tag: &str) -> Vec<outpost_core::CustomerId> {
        let inputs = inputs(n, tag);
        let mut ids = Vec::new();
        for chunk in inputs.chunks(500) {
            ids.extend(self.store.create_customers(chunk).await.unwrap());
        }
        ids
    }

    pub async fn pending(&self) -> u64 {
        self.store.status().await.unwrap().pending
    }
}

/// `n` customers named `{tag}{i} Field` with `{tag}.{i}@example.com`.
pub fn inputs(n: usize, tag: &str) -> Vec<NewCustomer> {
    (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("{tag}{i}")),
                last_name: Some("Field".into()),
                email: Some(format!("{tag}.{i}@example.com").to_lowercase()),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect()
}

/// A store and an emulator.
pub struct World {
    pub local: Local,
    pub emu: Emulator,
}

impl std::ops::Deref for World {
    type Target = Local;

    fn deref(&self) -> &Local {
        &self.local
    }
}

impl World {
    pub async fn new(config: Config) -> World {
        World {
            local: Local::new().await,
            emu: Emulator::start(config).await.unwrap(),
        }
    }

    pub async fn endpoint(&self, kind: EndpointKind, settings: EndpointSettings) {
        if settings_need_token(&settings) {
            self.secrets
                .set(
                    "crm",
                    SecretKind::Token,
                    &Sensitive::new(self.emu.token().to_owned()),
                )
                .await
                .unwrap();
        }
        self.save_endpoint(kind, self.emu.crm_url(), settings).await;
    }

    /// Records in the CRM per Outpost key.
    pub fn records_per_key(&self) -> HashMap<String, usize> {
        self.emu.records_per_key()
    }

    pub fn assert_exactly_once(&self, keys: &[outpost_core::CustomerId]) {
        let per = self.records_per_key();
        for k in keys {
            assert_eq!(
                per.get(&k.to_string()),
                Some(&1),
                "customer {k} must be in the CRM exactly once"
            );
        }
        assert_eq!(per.len(), keys.len(), "no other records");
    }
}

pub fn settings_need_token(s: &EndpointSettings) -> bool {
    s.auth == AuthMethod::Token
}
