//! The facade's rules, as both edges meet them: the online-only refusal in
//! the window (running engine) and in the CLI (one-shot), the one secret
//! rule, the settings gate, endpoint import, and a locked keyring reported
//! as such wherever it is met. Against the CRM emulator over loopback, with
//! in-memory secrets.

mod common;

use std::sync::Arc;

use common::{wait_until, DEADLINE};
use crm_emulator::{Config, Emulator};
use outpost_core::admin::AdminError;
use outpost_core::app::{AppError, NewEndpointSecrets, Reach};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secret_input::{SecretsInput, MAX_CHARS};
use outpost_core::endpoint::secrets::{MemorySecrets, SecretError, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::{ConnectionState, Error, NewCustomer, Outpost, Sensitive, Store};
use tempfile::TempDir;

struct Till {
    _dir: TempDir,
    store: Store,
    secrets: MemorySecrets,
}

impl Till {
    async fn new() -> Till {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path().join("till.db")).await.unwrap();
        Till {
            _dir: dir,
            store,
            secrets: MemorySecrets::default(),
        }
    }

    fn one_shot(&self) -> Outpost {
        Outpost::one_shot(self.store.clone(), Arc::new(self.secrets.clone()))
    }

    async fn window(&self) -> Outpost {
        Outpost::start(self.store.clone(), Arc::new(self.secrets.clone()))
            .await
            .unwrap()
    }

    /// An endpoint stored directly (its token too), as an earlier run left it.
    async fn endpoint(&self, url: &str, connectivity: Connectivity, token: &str) {
        self.secrets
            .set("till", SecretKind::Token, &Sensitive::new(token.to_owned()))
            .await
            .unwrap();
        self.store
            .save_endpoint(&config("till", url, connectivity))
            .await
            .unwrap();
    }
}

fn config(name: &str, url: &str, connectivity: Connectivity) -> EndpointConfig {
    EndpointConfig {
        name: name.into(),
        kind: EndpointKind::GenericRest,
        base_url: url.into(),
        connectivity,
        priority: 1,
        settings: EndpointSettings::default(),
    }
}

fn customer(last: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            last_name: Some(last.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
}

fn is_refused(e: &AppError) -> bool {
    matches!(e, AppError::Core(Error::Refused(m)) if m.contains("work online only"))
}

fn token(v: &str) -> SecretsInput {
    SecretsInput::one(SecretKind::Token, v.to_owned())
}

#[tokio::test]
async fn online_only_refuses_while_the_crm_is_away_in_the_window_and_the_cli() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let till = Till::new().await;
    till.endpoint(&emu.crm_url(), Connectivity::OnlineOnly, emu.token())
        .await;

    // The CLI probes first: up, the customer is stored and queued.
    let cli = till.one_shot();
    cli.create_customer(&customer("Up")).await.unwrap();
    emu.down().await;
    let e = cli.create_customer(&customer("Down")).await.unwrap_err();
    assert!(is_refused(&e), "{e}");

    // The window asks its monitor: offline, refused in the same words.
    let window = till.window().await;
    let e = window.create_customer(&customer("Down")).await.unwrap_err();
    assert!(is_refused(&e), "{e}");
    emu.up().await.unwrap();
    window.sync_now().await.unwrap();
    wait_until("the monitor sees the CRM", DEADLINE, || async {
        window.status().await.unwrap().connection == ConnectionState::Online
    })
    .await;
    window.create_customer(&customer("Back")).await.unwrap();
    window.stop(std::time::Duration::from_secs(3)).await;

    let names: Vec<_> = till
        .store
        .search("", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.fields.last_name.unwrap())
        .collect();
    assert_eq!(names, ["Back", "Up"], "nothing refused was stored");
}

#[tokio::test]
async fn online_and_offline_queues_without_asking_the_crm() {
    let till = Till::new().await;
    till.endpoint(&closed_url(), Connectivity::OnlineOffline, "t")
        .await;
    let cli = till.one_shot();
    cli.create_customer(&customer("Queued")).await.unwrap();
    assert_eq!(cli.status().await.unwrap().pending, 1);
    assert_eq!(
        cli.status().await.unwrap().connection,
        ConnectionState::Offline
    );
}

#[tokio::test]
async fn one_secret_rule_for_every_way_in() {
    let till = Till::new().await;
    let app = till.one_shot();
    app.unlock(None).await.unwrap();
    let url = closed_url();

    let too_long = "x".repeat(MAX_CHARS + 1);
    let e = app
        .save_endpoint(
            config("a", &url, Connectivity::OnlineOffline),
            token(&too_long),
            None,
            NewEndpointSecrets::Later,
        )
        .await
        .unwrap_err();
    let AppError::Core(Error::Validation(v)) = e else {
        panic!("not a validation error: {e}")
    };
    assert_eq!(
        v.for_field("token"),
        Some("One line of at most 4096 characters.")
    );
    assert!(app.endpoints().await.unwrap().is_empty(), "nothing saved");

    // 4,096 characters of two bytes each are within the rule.
    let at_limit = "é".repeat(MAX_CHARS);
    app.save_endpoint(
        config("a", &url, Connectivity::OnlineOffline),
        token(&format!(" {at_limit}\n")),
        None,
        NewEndpointSecrets::Later,
    )
    .await
    .unwrap();
    let stored = till.secrets.get("a", SecretKind::Token).await.unwrap();
    assert_eq!(stored.unwrap().expose(), &at_limit, "trimmed, stored whole");

    // The window's form needs every secret of a new endpoint; the CLI may
    // add them later.
    let e = app
        .save_endpoint(
            config("b", &url, Connectivity::OnlineOffline),
            SecretsInput::default(),
            None,
            NewEndpointSecrets::Required,
        )
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "invalid input: token: Enter the API token.");
    app.save_endpoint(
        config("b", &url, Connectivity::OnlineOffline),
        SecretsInput::default(),
        None,
        NewEndpointSecrets::Later,
    )
    .await
    .unwrap();

    // The same rule in an import.
    let export = serde_json::to_string(&app.export_endpoints().await.unwrap()).unwrap();
    let secrets = serde_json::json!({"b": {"token": too_long}}).to_string();
    let e = app
        .import_endpoints(&export, Some(&secrets))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("token: b: One line of at most 4096"),
        "{e}"
    );
}

#[tokio::test]
async fn endpoint_calls_need_the_settings_unlocked() {
    let till = Till::new().await;
    let app = till.window().await;
    assert!(matches!(
        app.list_endpoints().await,
        Err(AppError::SettingsLocked)
    ));
    let pass = Sensitive::new("till-admin-2026".to_owned());
    app.set_passphrase(None, &pass).await.unwrap();
    assert!(app.list_endpoints().await.unwrap().is_empty());
    app.lock().await.unwrap();
    assert!(matches!(
        app.remove_endpoint("x").await,
        Err(AppError::SettingsLocked)
    ));
    // Without a passphrase only while none is set (the CLI's first runs).
    assert!(matches!(
        app.unlock(None).await,
        Err(AppError::SettingsLocked)
    ));
    let wrong = Sensitive::new("wrong guess!".to_owned());
    assert!(matches!(
        app.unlock(Some(&wrong)).await,
        Err(AppError::Admin(AdminError::Wrong))
    ));
    let long = Sensitive::new("x".repeat(300));
    assert!(matches!(
        app.unlock(Some(&long)).await,
        Err(AppError::InvalidInput(f)) if f.field == "passphrase"
    ));
    assert!(app.unlock(Some(&pass)).await.unwrap().unlocked);
    assert!(matches!(
        app.remove_endpoint("x").await,
        Err(AppError::EndpointNotFound(n)) if n == "x"
    ));
    app.stop(std::time::Duration::from_secs(3)).await;
}

#[tokio::test]
async fn import_checks_everything_before_saving_and_stores_the_secrets() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let till = Till::new().await;
    let app = till.one_shot();
    app.unlock(None).await.unwrap();
    let mut hq = config("hq", &emu.crm_url(), Connectivity::OnlineOffline);
    hq.priority = 0; // the primary
    let branch = config("branch", &closed_url(), Connectivity::OnlineOffline);
    let file = serde_json::json!({"version": 1, "endpoints": [hq, branch]}).to_string();

    let stray = serde_json::json!({"hq": {"token": "t"}, "hqq": {"token": "t"}}).to_string();
    let e = app.import_endpoints(&file, Some(&stray)).await.unwrap_err();
    assert_eq!(e.to_string(), "secrets: hqq is not an endpoint of the file");
    let e = app
        .import_endpoints(&file.replace("\"version\":1", "\"version\":2"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::InvalidInput(f) if f.field == "version"),
        "{e}"
    );
    assert!(app.endpoints().await.unwrap().is_empty(), "nothing saved");

    let secrets = serde_json::json!({"hq": {"token": emu.token()}}).to_string();
    let imported = app.import_endpoints(&file, Some(&secrets)).await.unwrap();
    assert_eq!(imported.len(), 2);
    let shown = app.endpoint("hq").await.unwrap();
    assert!(shown.token_set && !shown.client_secret_set);
    assert!(!app.endpoint("branch").await.unwrap().token_set);
    // The imported token works.
    app.create_customer(&customer("Imported")).await.unwrap();
    let report = app.sync_once().await.unwrap();
    assert_eq!((report.delivered, report.pending), (1, 0));
}

#[tokio::test]
async fn a_locked_keyring_is_reported_as_locked_wherever_it_is_met() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let till = Till::new().await;
    till.endpoint(&emu.crm_url(), Connectivity::OnlineOffline, emu.token())
        .await;
    let app = till.one_shot();
    app.unlock(None).await.unwrap();
    app.create_customer(&customer("Waiting")).await.unwrap();
    till.secrets.lock(true);

    let locked = |r: Result<_, AppError>| matches!(r, Err(AppError::Keyring(SecretError::Locked)));
    assert!(
        locked(app.sync_once().await.map(drop)),
        "building the connector"
    );
    assert!(locked(app.pull_once(None).await.map(drop)));
    assert!(
        locked(app.list_endpoints().await.map(drop)),
        "never \"not set\""
    );
    assert!(locked(app.test_saved_endpoint("till").await.map(drop)));
    assert!(locked(
        app.save_endpoint(
            config("till", &emu.crm_url(), Connectivity::OnlineOffline),
            token("new"),
            None,
            NewEndpointSecrets::Later,
        )
        .await
        .map(drop)
    ));
    // A lookup still answers from this device.
    let found = app.lookup("Waiting", None, Reach::WithCrm).await.unwrap();
    assert_eq!(found.customers.len(), 1);

    till.secrets.lock(false);
    assert_eq!(app.sync_once().await.unwrap().delivered, 1);
}

#[tokio::test]
async fn arguments_are_checked_the_same_for_both_edges() {
    let till = Till::new().await;
    for app in [till.one_shot(), till.window().await] {
        let e = app.search("ada", Some(201)).await.unwrap_err();
        assert!(matches!(&e, AppError::InvalidInput(f) if f.field == "limit"));
        let e = app.lookup("ada", Some(0), Reach::Local).await.unwrap_err();
        assert!(matches!(&e, AppError::InvalidInput(f) if f.field == "limit"));
        let e = app.customer("nope").await.unwrap_err();
        assert!(matches!(&e, AppError::InvalidInput(f) if f.field == "id"));
        let unknown = "01900000-0000-7000-8000-000000000000";
        assert!(matches!(
            app.retry(unknown).await,
            Err(AppError::Core(Error::CustomerNotFound(_)))
        ));
        let long = "a".repeat(400);
        let e = app
            .possible_duplicates(Some(&long), None)
            .await
            .unwrap_err();
        assert!(matches!(&e, AppError::InvalidInput(f) if f.field == "email"));
        app.stop(std::time::Duration::from_secs(3)).await;
    }
}
