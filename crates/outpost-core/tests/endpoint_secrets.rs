//! Saving, renaming and removing endpoints with their secrets in the real OS
//! keyring (run under `scripts/with-keyring`), delivering to the CRM emulator
//! over loopback: a renamed endpoint keeps working without its token being
//! typed again, and no secret outlives the name it was stored under.

use std::sync::Arc;

use crm_emulator::{Config, Emulator};
use outpost_core::crm::form::CrmForm;
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::save::{self as endpoints, EndpointError, Entered, SECRET_KINDS};
use outpost_core::endpoint::secrets::{KeyringSecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::once::flush_once;
use outpost_core::{Error, NewCustomer, Sensitive, Store};
use tempfile::TempDir;

struct World {
    _dir: TempDir,
    store: Store,
    secrets: Arc<dyn SecretStore>,
    emu: Emulator,
}

impl World {
    async fn new() -> World {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path().join("outpost.db")).await.unwrap();
        // A keyring service of this test only: parallel tests never share entries.
        let service = format!("app.outpost.test-{}", uuid::Uuid::new_v4());
        World {
            _dir: dir,
            store,
            secrets: Arc::new(KeyringSecrets::new(service)),
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        }
    }

    fn config(&self, name: &str) -> EndpointConfig {
        EndpointConfig {
            name: name.into(),
            kind: EndpointKind::GenericRest,
            base_url: self.emu.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings::default(),
        }
    }

    async fn secret(&self, name: &str, kind: SecretKind) -> Option<String> {
        self.secrets
            .get(name, kind)
            .await
            .unwrap()
            .map(|s| s.expose().clone())
    }

    /// Every secret kind stored under `name`.
    async fn stored_under(&self, name: &str) -> Vec<SecretKind> {
        let mut kinds = Vec::new();
        for kind in SECRET_KINDS {
            if self.secret(name, kind).await.is_some() {
                kinds.push(kind);
            }
        }
        kinds
    }

    async fn save(
        &self,
        config: &EndpointConfig,
        entered: &[(SecretKind, &str)],
        previous: Option<&str>,
    ) -> Result<(), EndpointError> {
        let entered: Entered = entered
            .iter()
            .map(|(k, v)| (*k, Sensitive::new((*v).to_owned())))
            .collect();
        endpoints::save(
            &self.store,
            self.secrets.as_ref(),
            config,
            &entered,
            previous,
        )
        .await
    }

    async fn names(&self) -> Vec<String> {
        let list = self.store.endpoints().await.unwrap();
        list.into_iter().map(|e| e.name).collect()
    }
}

#[tokio::test]
async fn a_renamed_endpoint_keeps_its_token_and_its_queue_and_leaves_nothing_behind() {
    let w = World::new().await;
    let token = w.emu.token().to_owned();
    w.save(&w.config("till-crm"), &[(SecretKind::Token, &token)], None)
        .await
        .unwrap();

    // A customer whose delivery "till-crm" already attempted.
    let customer = w
        .store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                last_name: Some("Renamed".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let claimed = w
        .store
        .claim_due("till-crm", 10, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    w.store
        .release(
            &[claimed[0].message_id],
            chrono::Utc::now(),
            Some("offline"),
        )
        .await
        .unwrap();

    // What the device learnt from the CRM under the old name: a finished
    // working-set pull and the CRM's form.
    w.store
        .finish_pull_pass("till-crm", std::time::Duration::ZERO)
        .await
        .unwrap();
    let crm_form = CrmForm {
        required_one_of: vec!["last_name".into()],
        fields: vec![],
    };
    w.store
        .save_form_metadata("till-crm", &crm_form)
        .await
        .unwrap();

    // Renamed in the form without typing the token again.
    w.save(&w.config("hq-crm"), &[], Some("till-crm"))
        .await
        .unwrap();
    let pull = w.store.pull_state("hq-crm").await.unwrap();
    assert!(
        pull.last_complete_at.is_some(),
        "the pull resumes, not restarts"
    );
    let form = w.store.current_form().await.unwrap();
    assert_eq!(form.endpoint.as_deref(), Some("hq-crm"));
    assert_eq!(form.required_one_of, ["last_name"]);
    assert_eq!(w.names().await, ["hq-crm"]);
    assert_eq!(
        w.secret("hq-crm", SecretKind::Token).await.as_deref(),
        Some(token.as_str())
    );
    assert!(w.stored_under("till-crm").await.is_empty(), "no orphans");

    // The renamed endpoint authenticates with the moved token and delivers the queued customer.
    let summary = flush_once(&w.store, w.secrets.clone()).await.unwrap();
    assert_eq!(summary.round.delivered, 1);
    let keys: Vec<_> = w.emu.records().into_iter().filter_map(|r| r.key).collect();
    assert_eq!(keys, [customer.id.to_string()]);
    assert_eq!(w.store.status().await.unwrap().pending, 0);
}

#[tokio::test]
async fn a_rename_with_a_new_token_stores_that_one_and_a_taken_name_changes_nothing() {
    let w = World::new().await;
    w.save(&w.config("a"), &[(SecretKind::Token, "token-a")], None)
        .await
        .unwrap();
    w.save(&w.config("b"), &[(SecretKind::Token, "token-b")], None)
        .await
        .unwrap();

    let err = w.save(&w.config("b"), &[], Some("a")).await.unwrap_err();
    match err {
        EndpointError::Store(Error::Validation(v)) => {
            assert!(v.for_field("name").is_some(), "{v}")
        }
        other => panic!("expected a field error on name, got {other:?}"),
    }
    assert_eq!(w.names().await, ["a", "b"]);
    assert_eq!(
        w.secret("a", SecretKind::Token).await.as_deref(),
        Some("token-a")
    );
    assert_eq!(
        w.secret("b", SecretKind::Token).await.as_deref(),
        Some("token-b")
    );

    w.save(&w.config("c"), &[(SecretKind::Token, "token-c")], Some("a"))
        .await
        .unwrap();
    assert_eq!(w.names().await, ["b", "c"]);
    assert_eq!(
        w.secret("c", SecretKind::Token).await.as_deref(),
        Some("token-c")
    );
    assert!(w.stored_under("a").await.is_empty());

    // Renaming something that is not there is not-found, and stores nothing.
    let err = w.save(&w.config("d"), &[], Some("a")).await.unwrap_err();
    assert!(matches!(err, EndpointError::NotFound(_)), "{err:?}");
    assert!(w.stored_under("d").await.is_empty());
}

#[tokio::test]
async fn switching_the_auth_method_or_removing_deletes_the_secrets_no_longer_used() {
    let w = World::new().await;
    let mut hub = w.config("hub");
    hub.kind = EndpointKind::Hubspot;
    w.save(&hub, &[(SecretKind::Token, "pat-1")], None)
        .await
        .unwrap();

    hub.settings.auth = AuthMethod::OauthRefresh;
    hub.settings.client_id = Some("client".into());
    w.save(
        &hub,
        &[
            (SecretKind::ClientSecret, "secret"),
            (SecretKind::RefreshToken, "refresh"),
            // Not used by OAuth: ignored, not stored.
            (SecretKind::Token, "pat-2"),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        w.stored_under("hub").await,
        [SecretKind::ClientSecret, SecretKind::RefreshToken]
    );

    endpoints::remove(&w.store, w.secrets.as_ref(), "hub")
        .await
        .unwrap();
    assert!(w.names().await.is_empty());
    assert!(w.stored_under("hub").await.is_empty());
    assert!(matches!(
        endpoints::remove(&w.store, w.secrets.as_ref(), "hub").await,
        Err(EndpointError::NotFound(_))
    ));
}

#[tokio::test]
async fn removing_the_primary_hands_its_waiting_customers_to_the_next_one() {
    let w = World::new().await;
    let token = w.emu.token().to_owned();
    let mut second = w.config("backup");
    second.priority = 2;
    w.save(&w.config("main"), &[(SecretKind::Token, &token)], None)
        .await
        .unwrap();
    w.save(&second, &[(SecretKind::Token, &token)], None)
        .await
        .unwrap();
    let customer = w
        .store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                last_name: Some("Handed".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    // "main" tried once and gave up for now.
    let claimed = w
        .store
        .claim_due("main", 10, chrono::Utc::now())
        .await
        .unwrap();
    w.store
        .release(
            &[claimed[0].message_id],
            chrono::Utc::now(),
            Some("offline"),
        )
        .await
        .unwrap();

    endpoints::remove(&w.store, w.secrets.as_ref(), "main")
        .await
        .unwrap();
    let summary = flush_once(&w.store, w.secrets.clone()).await.unwrap();
    assert_eq!(summary.status.endpoint, "backup");
    assert_eq!(summary.round.delivered, 1);
    let keys: Vec<_> = w.emu.records().into_iter().filter_map(|r| r.key).collect();
    assert_eq!(keys, [customer.id.to_string()]);
}
