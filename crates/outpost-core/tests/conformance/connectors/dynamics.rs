//! Dynamics 365 (Dataverse Web API), against the CRM emulator (contacts by
//! the `outpost_key` alternate key, Entra-style client credentials).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crm_emulator::{Api, Config, Emulator, Faults, RateLimit};
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Dynamics {
    emu: Emulator,
}

fn contact(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("firstname".to_string(), format!("Contact{i}")),
        ("lastname".to_string(), "Field".to_string()),
        (
            "emailaddress1".to_string(),
            format!("contact{i}@dv.example"),
        ),
    ])
}

impl Dynamics {
    fn record_of(&self, key: CustomerId) -> Option<serde_json::Value> {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.api == "dynamics" && r.key.as_deref() == Some(&key.to_string()))
            .map(|r| r.record)
    }
}

impl Crm for Dynamics {
    const NAME: &'static str = "dynamics";

    async fn start() -> Option<Self> {
        Some(Dynamics {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::Dynamics
    }

    fn base_url(&self) -> String {
        self.emu.crm_url()
    }

    /// An application user through Entra's client credentials; duplicate
    /// detection asked for (the org's switch decides whether it runs).
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let config = self.emu.config();
        secrets
            .set(
                "crm",
                SecretKind::ClientSecret,
                &Sensitive::new(config.oauth_client_secret.clone()),
            )
            .await
            .unwrap();
        EndpointSettings {
            auth: AuthMethod::OauthClientCredentials,
            client_id: Some(config.oauth_client_id.clone()),
            token_url: Some(format!(
                "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
                self.emu.crm_url()
            )),
            duplicate_detection: Some(true),
            ..Default::default()
        }
    }

    /// Client credentials buy a new token whenever one ends.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self.sign_in(secrets).await)
    }

    fn expire_tokens(&self) {
        self.emu.expire_tokens(None);
    }

    fn renewals(&self) -> u64 {
        self.emu.count("POST /{tenant}/oauth2/v2.0/token", 200)
    }

    async fn down(&self) {
        self.emu.down().await;
    }

    async fn up(&self) {
        self.emu.up().await.unwrap();
    }

    async fn records_per_key(&self) -> HashMap<String, usize> {
        self.emu.records_per_key()
    }

    async fn total_records(&self) -> usize {
        self.emu.records().len()
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        let parsed = uuid::Uuid::parse_str(crm_id).expect("a contact id is a GUID");
        assert_eq!(parsed.hyphenated().to_string(), crm_id);
    }

    fn offline_count(&self) -> usize {
        1000
    }

    fn set_faults(&self, faults: Faults) {
        self.emu.set_faults(faults);
    }

    fn faults_seen(&self, outcome: &str) -> u64 {
        self.emu.stats().count_anywhere(outcome)
    }

    /// Service protection: 429 `0x80072322` with Retry-After.
    fn limit(&self, max: u32, per: Duration) -> Result<(), Skip> {
        self.emu
            .set_rate_limit(Api::Dynamics, Some(RateLimit { max, window: per }));
        Ok(())
    }

    fn limit_answers(&self) -> u64 {
        self.emu.stats().count_anywhere("429")
    }

    /// The org's duplicate detection matches a contact entered by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.emu.seed_dynamics(vec![BTreeMap::from([
            ("lastname".to_owned(), "Hand".to_owned()),
            ("emailaddress1".to_owned(), email.to_owned()),
        ])]);
        self.emu.set_dynamics_duplicate_detection(true, None);
        Ok(Refusal {
            customer: NewCustomer {
                fields: CustomerFields {
                    first_name: Some("Taken42".into()),
                    last_name: Some("Field".into()),
                    email: Some(email.into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            reason: "may already exist in Dynamics",
        })
    }

    async fn seed(&self, n: usize) {
        self.emu.seed_dynamics((0..n).map(contact).collect());
    }

    fn pull_page(&self) -> usize {
        outpost_core::crm::dynamics::PULL_PAGE
    }

    fn pull_size(&self) -> usize {
        3 * self.pull_page() + 500
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Ok(FormCase {
            attribute: "preferredcontactmethodcode",
            good: "2",
            bad: "9",
            constrained: None,
        })
    }

    /// A column the default map leaves out.
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "mobilephone",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.emu.seed_dynamics(vec![BTreeMap::from([
            ("firstname".to_owned(), "Mapped".to_owned()),
            ("lastname".to_owned(), "Inbound".to_owned()),
            ("emailaddress1".to_owned(), email.to_owned()),
            (case.crm_field.to_owned(), value.to_owned()),
        ])]);
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        let record = self.record_of(key)?;
        match record.get(crm_field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let target = crm_emulator::crm_user::Target::dynamics(key.to_string());
        let value = match value.parse::<i64>() {
            Ok(n) if crm_field.ends_with("code") => serde_json::json!(n),
            _ => serde_json::json!(value),
        };
        let fields = serde_json::Map::from_iter([(crm_field.to_owned(), value)]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}
