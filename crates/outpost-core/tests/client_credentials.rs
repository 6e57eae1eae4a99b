//! The generic REST connector with OAuth client credentials, against the CRM
//! emulator's `POST /oauth/token` over loopback: a token is bought once and
//! reused, bought again shortly before it expires and once on a 401, and
//! "Test connection" names each credential problem.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};
use outpost_core::crm;
use outpost_core::crm::connector::{Outgoing, RecordOutcome};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{
    AuthMethod, Connectivity, EndpointConfig, EndpointKind, EndpointSettings,
};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{NewCustomer, Sensitive, Store};
use tempfile::TempDir;

const TOKEN: &str = "POST /oauth/token";

async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut check: F)
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

struct World {
    _dir: TempDir,
    store: Store,
    emu: Emulator,
}

impl World {
    async fn new() -> World {
        let dir = TempDir::new().unwrap();
        let store = Store::open(dir.path().join("outpost.db")).await.unwrap();
        World {
            _dir: dir,
            store,
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        }
    }

    fn config(&self, client_id: &str) -> EndpointConfig {
        EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::GenericRest,
            base_url: self.emu.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                auth: AuthMethod::OauthClientCredentials,
                client_id: Some(client_id.into()),
                ..Default::default()
            },
        }
    }

    /// The emulator's client id, and secrets holding `secret` as the client secret.
    async fn secrets(&self, secret: Option<&str>) -> Arc<dyn SecretStore> {
        let secrets = MemorySecrets::default();
        if let Some(s) = secret {
            secrets
                .set("crm", SecretKind::ClientSecret, &Sensitive::new(s.into()))
                .await
                .unwrap();
        }
        Arc::new(secrets)
    }

    async fn right_secrets(&self) -> Arc<dyn SecretStore> {
        let secret = self.emu.config().oauth_client_secret.clone();
        self.secrets(Some(&secret)).await
    }

    fn client_id(&self) -> String {
        self.emu.config().oauth_client_id.clone()
    }

    async fn add(&self, n: usize, tag: &str) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for i in 0..n {
            let customer = self
                .store
                .create_customer(&NewCustomer {
                    fields: CustomerFields {
                        first_name: Some(format!("{tag}{i}")),
                        last_name: Some("Client".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .await
                .unwrap();
            out.push(Outgoing {
                customer,
                earlier_attempts: 0,
            });
        }
        out
    }

    fn unauthorized(&self, endpoint: &str) -> u64 {
        self.emu.count(endpoint, 401)
    }
}

#[tokio::test]
async fn customers_arrive_exactly_once_with_one_token_bought_for_all() {
    let w = World::new().await;
    let added = w.add(30, "cc").await;
    w.store
        .save_endpoint(&w.config(&w.client_id()))
        .await
        .unwrap();
    let engine = SyncEngine::start(w.store.clone(), w.right_secrets().await)
        .await
        .unwrap();
    wait_until("the queue to drain", Duration::from_secs(30), || async {
        w.store.status().await.unwrap().pending == 0
    })
    .await;
    engine.stop(Duration::from_secs(5)).await;

    let mut keys: Vec<String> = w.emu.records().into_iter().filter_map(|r| r.key).collect();
    keys.sort();
    let mut want: Vec<String> = added.iter().map(|o| o.customer.id.to_string()).collect();
    want.sort();
    assert_eq!(keys, want, "each customer exactly once");
    assert_eq!(w.emu.count(TOKEN, 200), 1, "one token for every request");
    assert_eq!(w.unauthorized("PUT /customers/{key}"), 0);
}

#[tokio::test]
async fn an_expired_token_is_replaced_once_even_with_requests_in_flight() {
    let w = World::new().await;
    let connector = crm::build(&w.config(&w.client_id()), w.right_secrets().await)
        .await
        .unwrap();
    connector.probe().await.unwrap();
    assert_eq!(w.emu.count(TOKEN, 200), 1);

    // The CRM ends the token early: the probe's 401 buys one new token.
    w.emu.expire_tokens(None);
    connector.probe().await.unwrap();
    assert_eq!(w.unauthorized("GET /customers"), 1);
    assert_eq!(w.emu.count(TOKEN, 200), 2);

    // Again, with four PUTs in flight meeting the 401 together: still one purchase.
    w.emu.expire_tokens(None);
    let batch = w.add(8, "flight").await;
    let deliveries = connector.upsert_batch(&batch).await.unwrap();
    assert!(deliveries
        .iter()
        .all(|d| matches!(d.outcome, RecordOutcome::Delivered { .. })));
    assert!(w.unauthorized("PUT /customers/{key}") >= 1);
    assert_eq!(w.emu.count(TOKEN, 200), 3);
    assert_eq!(w.emu.records().len(), 8);
}

#[tokio::test]
async fn a_token_is_bought_again_before_it_expires_so_no_request_is_refused() {
    let w = World::new().await;
    w.emu.set_access_token_lifetime(Duration::from_secs(2));
    let connector = crm::build(&w.config(&w.client_id()), w.right_secrets().await)
        .await
        .unwrap();
    // Keep using the connector until it has renewed on its own (after ~1.5 s).
    wait_until("a second token", Duration::from_secs(10), || async {
        connector.probe().await.unwrap();
        w.emu.count(TOKEN, 200) >= 2
    })
    .await;
    assert_eq!(
        w.unauthorized("GET /customers"),
        0,
        "renewed before the CRM refused the old token"
    );
}

#[tokio::test]
async fn test_connection_names_each_credential_problem() {
    let w = World::new().await;
    let right = w.config(&w.client_id());

    let ok = test_connection(&right, w.right_secrets().await).await;
    assert_eq!(ok.outcome, TestOutcome::Ok, "{}", ok.message);

    let wrong = test_connection(&right, w.secrets(Some("not-the-secret")).await).await;
    assert_eq!(
        wrong.outcome,
        TestOutcome::CredentialsRejected,
        "{}",
        wrong.message
    );
    assert!(
        wrong.message.contains("invalid_client"),
        "{}",
        wrong.message
    );
    assert!(
        !wrong.message.contains("not-the-secret"),
        "the secret is never echoed"
    );

    let unknown_client = test_connection(&w.config("someone-else"), w.right_secrets().await).await;
    assert_eq!(unknown_client.outcome, TestOutcome::CredentialsRejected);

    let missing = test_connection(&right, w.secrets(None).await).await;
    assert_eq!(missing.outcome, TestOutcome::CredentialsMissing);

    // A CRM without the token endpoint: said so, not "credentials rejected".
    let mut elsewhere = right.clone();
    elsewhere.base_url = format!("{}/no-such-prefix", w.emu.crm_url());
    let none = test_connection(&elsewhere, w.right_secrets().await).await;
    assert_eq!(none.outcome, TestOutcome::Misconfigured, "{}", none.message);
    assert!(none.message.contains("/oauth/token"), "{}", none.message);

    // HubSpot does not offer client credentials: a field error before any request.
    let mut hubspot = right.clone();
    hubspot.kind = EndpointKind::Hubspot;
    let before = w.emu.stats().total;
    let refused = test_connection(&hubspot, w.right_secrets().await).await;
    assert_eq!(refused.outcome, TestOutcome::Misconfigured);
    assert!(refused.message.contains("auth"), "{}", refused.message);
    assert_eq!(w.emu.stats().total, before);
}

/// What the stand-in identity provider saw of each token request.
#[derive(Debug, Clone, Default)]
struct IdpLog {
    requests: Vec<(Option<String>, Option<String>)>,
}

/// An identity provider on its own port (another host, as Keycloak or
/// Entra ID would be): `POST /realms/shop/token` wants HTTP Basic client
/// credentials and the scope `scope`, and issues the emulator's API token,
/// which the emulator's REST API takes. Answers `invalid_scope` (RFC 6749
/// §5.2) to a request without it.
async fn identity_provider(
    emu: &Emulator,
    scope: &'static str,
) -> (String, Arc<std::sync::Mutex<IdpLog>>) {
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::{Form, Json};
    use std::collections::HashMap;

    type Shared = (String, Arc<std::sync::Mutex<IdpLog>>);
    async fn token(
        State((api_token, log)): State<Shared>,
        headers: HeaderMap,
        Form(form): Form<HashMap<String, String>>,
    ) -> (StatusCode, Json<serde_json::Value>) {
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        log.lock()
            .unwrap()
            .requests
            .push((basic.clone(), form.get("scope").cloned()));
        if form.get("grant_type").map(String::as_str) != Some("client_credentials")
            || basic.is_none()
        {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": "invalid_request"})),
            );
        }
        if form.get("scope").map(String::as_str) != Some(SCOPE) {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({
                    "error": "invalid_scope",
                    "error_description": "AADSTS70011: The provided request must include a 'scope' input parameter."
                })),
            );
        }
        (
            StatusCode::OK,
            Json(serde_json::json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "access_token": api_token,
            })),
        )
    }
    const SCOPE: &str = "https://crm.example.com/.default";
    assert_eq!(scope, SCOPE);
    let log = Arc::new(std::sync::Mutex::new(IdpLog::default()));
    let app = axum::Router::new()
        .route("/realms/shop/token", post(token))
        .with_state((emu.token().to_owned(), log.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/realms/shop/token",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, log)
}

#[tokio::test]
async fn an_identity_provider_on_another_host_issues_the_token_for_the_scope_it_wants() {
    let w = World::new().await;
    let (idp, log) = identity_provider(&w.emu, "https://crm.example.com/.default").await;
    let mut config = w.config("outpost-till");
    config.settings.token_url = Some(idp.clone());
    let secrets = w.secrets(Some("till-secret")).await;

    // Without the scope the provider refuses, and Test connection says why.
    let refused = test_connection(&config, secrets.clone()).await;
    assert_eq!(
        refused.outcome,
        TestOutcome::MissingPermission,
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("invalid_scope"),
        "{}",
        refused.message
    );

    config.settings.scope = Some("https://crm.example.com/.default".into());
    let ok = test_connection(&config, secrets.clone()).await;
    assert_eq!(ok.outcome, TestOutcome::Ok, "{}", ok.message);

    let added = w.add(5, "idp").await;
    w.store.save_endpoint(&config).await.unwrap();
    let engine = SyncEngine::start(w.store.clone(), secrets).await.unwrap();
    wait_until("the queue to drain", Duration::from_secs(30), || async {
        w.store.status().await.unwrap().pending == 0
    })
    .await;
    engine.stop(Duration::from_secs(5)).await;
    let per = w.emu.records_per_key();
    for o in &added {
        assert_eq!(per.get(&o.customer.id.to_string()), Some(&1));
    }
    // The CRM's own token endpoint was never asked; the provider was, with
    // the client's id and secret in HTTP Basic and the scope in the body.
    assert_eq!(w.emu.count(TOKEN, 200) + w.emu.count(TOKEN, 401), 0);
    let seen = log.lock().unwrap().clone();
    let (basic, scope) = seen.requests.last().cloned().unwrap();
    assert_eq!(
        basic.as_deref(),
        Some("Basic b3V0cG9zdC10aWxsOnRpbGwtc2VjcmV0")
    );
    assert_eq!(scope.as_deref(), Some("https://crm.example.com/.default"));
}

#[test]
fn a_token_url_and_scope_belong_to_client_credentials_only() {
    let field_errors = |kind, auth, token_url: Option<&str>, scope: Option<&str>| {
        let config = EndpointConfig {
            name: "crm".into(),
            kind,
            base_url: "https://crm.example.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                auth,
                client_id: Some("id".into()),
                token_url: token_url.map(Into::into),
                scope: scope.map(Into::into),
                ..Default::default()
            },
        };
        match config.validate() {
            Ok(()) => Vec::new(),
            Err(e) => e
                .fields()
                .iter()
                .map(|f| f.field.clone())
                .collect::<Vec<_>>(),
        }
    };
    let cc = AuthMethod::OauthClientCredentials;
    let idp = Some("https://login.microsoftonline.com/contoso/oauth2/v2.0/token");
    let scope = Some("https://crm.example.com/.default");
    assert!(field_errors(EndpointKind::GenericRest, cc, idp, scope).is_empty());
    assert_eq!(
        field_errors(EndpointKind::GenericRest, AuthMethod::Token, idp, scope),
        ["token_url", "scope"]
    );
    assert_eq!(
        field_errors(EndpointKind::Salesforce, cc, idp, scope),
        ["scope"]
    );
    assert_eq!(
        field_errors(
            EndpointKind::GenericRest,
            cc,
            Some("http://idp.example.com/token"),
            None
        ),
        ["token_url"],
        "plain http only to loopback"
    );
    assert_eq!(
        field_errors(EndpointKind::GenericRest, cc, None, Some("two\nlines")),
        ["scope"]
    );
}
