//! BottleCRM (django-crm), the real server `scripts/bottlecrm-up` starts,
//! in an organisation of its own for this test run (`scripts/bottlecrm/org
//! new`), reached through the emulator's fault proxy so outages and lost or
//! cut answers can be made without touching the server. Its scenarios take
//! turns: they share the organisation. When this machine cannot run
//! BottleCRM (the script's exit 3) they are skipped with a loud message.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crm_emulator::{FaultProxy, Faults};
use futures_util::future::join_all;
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};
use serde_json::{json, Value};

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

/// The server and this run's organisation on it.
struct Server {
    url: String,
    token: String,
    /// Makes this run's seeded emails unique.
    run: String,
}

fn script(path: &str, args: &[&str]) -> std::process::Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(root.join(path))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {path}: {e}"))
}

/// Starts (or finds running) the private BottleCRM and makes this run's
/// organisation, once per test binary.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let up = script("scripts/bottlecrm-up", &[]);
            match up.status.code() {
                Some(0) => {}
                Some(3) => {
                    eprintln!(
                        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                         SKIPPING the BottleCRM conformance scenarios: this machine cannot run BottleCRM.\n{}\n\
                         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
                        String::from_utf8_lossy(&up.stderr)
                    );
                    return None;
                }
                _ => panic!(
                    "scripts/bottlecrm-up failed:\n{}",
                    String::from_utf8_lossy(&up.stderr)
                ),
            }
            let started: Value =
                serde_json::from_slice(&up.stdout).expect("bottlecrm-up prints one JSON line");
            let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
            let org = script(
                "scripts/bottlecrm/org",
                &["new", "--name", &format!("Outpost conformance {run}")],
            );
            assert!(
                org.status.success(),
                "scripts/bottlecrm/org new: {}",
                String::from_utf8_lossy(&org.stderr)
            );
            let org: Value = serde_json::from_slice(&org.stdout).expect("one JSON line");
            Some(Server {
                url: started["url"].as_str().unwrap().to_owned(),
                token: org["token"].as_str().unwrap().to_owned(),
                run,
            })
        })
        .as_ref()
}

pub struct BottleCrm {
    server: &'static Server,
    proxy: FaultProxy,
    http: reqwest::Client,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl BottleCrm {
    fn api(&self, path: &str) -> String {
        format!("{}/api/{path}", self.server.url)
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(self.api(path))
            .bearer_auth(&self.server.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn create(&self, contact: Value) {
        let r = self
            .http
            .post(self.api("contacts/"))
            .bearer_auth(&self.server.token)
            .json(&contact)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "create {contact}");
    }

    /// Every contact of this run's organisation, page by page.
    async fn contacts(&self) -> Vec<Value> {
        let mut all = Vec::new();
        // Bounded: far more pages than any scenario makes.
        for page in 0..1000 {
            let v = self
                .get(&format!("contacts/?limit=100&offset={}", page * 100))
                .await;
            let results = v["results"].as_array().cloned().unwrap_or_default();
            let last = results.len() < 100;
            all.extend(results);
            if last {
                return all;
            }
        }
        panic!("more than 100,000 contacts in a test organisation")
    }
}

impl Crm for BottleCrm {
    const NAME: &'static str = "bottlecrm";

    async fn start() -> Option<Self> {
        static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let turn = TURN.lock().await;
        let server = server()?;
        Some(BottleCrm {
            proxy: FaultProxy::start(&server.url).await.unwrap(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            server,
            _turn: turn,
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::Bottlecrm
    }

    fn base_url(&self) -> String {
        self.proxy.url()
    }

    /// A personal access token.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        secrets
            .set(
                "crm",
                SecretKind::Token,
                &Sensitive::new(self.server.token.clone()),
            )
            .await
            .unwrap();
        EndpointSettings::default()
    }

    async fn renewable_sign_in(&self, _: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Err(Skip::Cannot(
            "BottleCRM signs in with a personal access token, which does not expire: there is nothing to renew",
        ))
    }

    fn expire_tokens(&self) {
        unreachable!("no renewable tokens")
    }

    fn renewals(&self) -> u64 {
        0
    }

    async fn down(&self) {
        self.proxy.down().await;
    }

    async fn up(&self) {
        self.proxy.up().await.unwrap();
    }

    async fn records_per_key(&self) -> HashMap<String, usize> {
        let mut per = HashMap::new();
        for c in self.contacts().await {
            if let Some(k) = c["custom_fields"]["client_uuid"].as_str() {
                *per.entry(k.to_owned()).or_default() += 1;
            }
        }
        per
    }

    async fn total_records(&self) -> usize {
        self.get("contacts/?limit=1").await["count"]
            .as_u64()
            .expect("a count") as usize
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        assert!(uuid::Uuid::parse_str(crm_id).is_ok(), "{crm_id}");
    }

    /// About 34 creates a second: a scenario's worth, not the emulator's 1000.
    fn offline_count(&self) -> usize {
        20
    }

    fn set_faults(&self, faults: Faults) {
        self.proxy.set_faults(faults);
    }

    fn faults_seen(&self, outcome: &str) -> u64 {
        self.proxy.stats().count_anywhere(outcome)
    }

    fn limit(&self, _: u32, _: Duration) -> Result<(), Skip> {
        Err(Skip::Cannot(
            "BottleCRM has no rate limit: it never answers 429, so there is no limit answer to provoke",
        ))
    }

    fn limit_answers(&self) -> u64 {
        0
    }

    /// Someone in the shop already entered this email in BottleCRM (unique
    /// per organisation).
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = format!("taken.{}@example.com", self.server.run);
        self.create(json!({"first_name": "Other", "last_name": "Person", "email": email}))
            .await;
        Ok(Refusal {
            customer: NewCustomer {
                fields: CustomerFields {
                    first_name: Some("Same".into()),
                    last_name: Some("Email".into()),
                    email: Some(email),
                    ..Default::default()
                },
                ..Default::default()
            },
            reason: "already has a contact with this email",
        })
    }

    async fn seed(&self, n: usize) {
        let run = &self.server.run;
        for chunk in (0..n).collect::<Vec<_>>().chunks(4) {
            join_all(chunk.iter().map(|i| {
                self.create(json!({
                    "first_name": format!("Remote{i}"),
                    "last_name": "Person",
                    "email": format!("remote{i}.{run}@crm.example"),
                }))
            }))
            .await;
        }
    }

    fn pull_page(&self) -> usize {
        100
    }

    /// Four pages, the last one short.
    fn pull_size(&self) -> usize {
        350
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Err(Skip::Cannot(
            "BottleCRM's API publishes no form metadata (required fields, picklists) for Outpost to cache; creations use the built-in form",
        ))
    }

    /// BottleCRM has no tax id; a shop keeps it in the contact's department.
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "department",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.create(json!({
            "first_name": "Mapped",
            "last_name": "Inbound",
            "email": email,
            (case.crm_field): value,
        }))
        .await;
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        let found = self
            .get(&format!("contacts/?cf_client_uuid={key}&limit=2"))
            .await;
        found["results"]
            .as_array()?
            .iter()
            .find(|c| c["custom_fields"]["client_uuid"].as_str() == Some(&key.to_string()))?
            .get(crm_field)?
            .as_str()
            .map(str::to_owned)
    }

    /// A person edits the contact in BottleCRM (its own PATCH).
    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let found = self
            .get(&format!("contacts/?cf_client_uuid={key}&limit=2"))
            .await;
        let id = found["results"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|c| c["custom_fields"]["client_uuid"].as_str() == Some(&key.to_string()))
            })
            .and_then(|c| c["id"].as_str())
            .expect("in BottleCRM")
            .to_owned();
        let r = self
            .http
            .patch(self.api(&format!("contacts/{id}/")))
            .bearer_auth(&self.server.token)
            .json(&json!({ crm_field: value }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "PATCH contact: {}", r.status());
    }
}
