//! Salesforce's REST API, against the CRM emulator (Contacts by
//! `Outpost_Key__c`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crm_emulator::{Api, Config, Emulator, Faults, RateLimit};
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Salesforce {
    emu: Emulator,
}

fn contact(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("FirstName".to_string(), format!("Contact{i}")),
        ("LastName".to_string(), "Field".to_string()),
        ("Email".to_string(), format!("contact{i}@sf.example")),
    ])
}

impl Salesforce {
    fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.emu.crm_url())
    }

    async fn store(&self, secrets: &dyn SecretStore, kind: SecretKind, value: &str) {
        secrets
            .set("crm", kind, &Sensitive::new(value.to_owned()))
            .await
            .unwrap();
    }

    fn record_of(&self, key: CustomerId) -> Option<serde_json::Value> {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.api == "salesforce" && r.key.as_deref() == Some(&key.to_string()))
            .map(|r| r.record)
    }
}

impl Crm for Salesforce {
    const NAME: &'static str = "salesforce";

    async fn start() -> Option<Self> {
        Some(Salesforce {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::Salesforce
    }

    fn base_url(&self) -> String {
        self.emu.crm_url()
    }

    /// An integration user through the client credentials flow.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let config = self.emu.config();
        self.store(
            secrets,
            SecretKind::ClientSecret,
            &config.oauth_client_secret,
        )
        .await;
        EndpointSettings {
            auth: AuthMethod::OauthClientCredentials,
            client_id: Some(config.oauth_client_id.clone()),
            token_url: Some(self.token_url()),
            ..Default::default()
        }
    }

    /// A connected app with a refresh token: sessions end and are renewed.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        let config = self.emu.config();
        self.store(
            secrets,
            SecretKind::ClientSecret,
            &config.oauth_client_secret,
        )
        .await;
        self.store(
            secrets,
            SecretKind::RefreshToken,
            &config.oauth_refresh_token,
        )
        .await;
        Ok(EndpointSettings {
            auth: AuthMethod::OauthRefresh,
            client_id: Some(config.oauth_client_id.clone()),
            token_url: Some(self.token_url()),
            ..Default::default()
        })
    }

    fn expire_tokens(&self) {
        self.emu.expire_tokens(None);
    }

    fn renewals(&self) -> u64 {
        self.emu.count("POST /services/oauth2/token", 200)
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
        assert!(
            crm_id.len() == 18 && crm_id.starts_with("003"),
            "a Contact id: {crm_id}"
        );
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

    /// Salesforce's budget answer: 403 `REQUEST_LIMIT_EXCEEDED`, no Retry-After.
    fn limit(&self, max: u32, per: Duration) -> Result<(), Skip> {
        self.emu
            .set_rate_limit(Api::Salesforce, Some(RateLimit { max, window: per }));
        Ok(())
    }

    fn limit_answers(&self) -> u64 {
        self.emu.stats().count_anywhere("403")
    }

    /// The org's duplicate rule matches a contact entered by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.emu.seed_salesforce(
            "Contact",
            vec![BTreeMap::from([
                ("LastName".to_owned(), "Hand".to_owned()),
                ("Email".to_owned(), email.to_owned()),
            ])],
        );
        self.emu.set_salesforce_duplicate_rule(true);
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
            reason: "may already exist in Salesforce",
        })
    }

    async fn seed(&self, n: usize) {
        self.emu
            .seed_salesforce("Contact", (0..n).map(contact).collect());
    }

    fn pull_page(&self) -> usize {
        outpost_core::crm::salesforce::PULL_BATCH
    }

    fn pull_size(&self) -> usize {
        3 * self.pull_page() + 500
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Ok(FormCase {
            attribute: "leadsource",
            good: "Web",
            bad: "Alien",
            constrained: None,
        })
    }

    /// A custom field, as an admin adds one in Setup → Object Manager.
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        self.emu
            .define_salesforce_field("Contact", "VAT_Number__c", "string", 32)
            .unwrap();
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "VAT_Number__c",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.emu.seed_salesforce(
            "Contact",
            vec![BTreeMap::from([
                ("FirstName".to_owned(), "Mapped".to_owned()),
                ("LastName".to_owned(), "Inbound".to_owned()),
                ("Email".to_owned(), email.to_owned()),
                (case.crm_field.to_owned(), value.to_owned()),
            ])],
        );
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        // Salesforce's field names are case-insensitive (`leadsource` is
        // the attribute of `LeadSource`).
        let record = self.record_of(key)?;
        let (_, value) = record
            .as_object()?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(crm_field))?;
        value.as_str().map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let target = crm_emulator::crm_user::Target::salesforce(key.to_string());
        let fields = serde_json::Map::from_iter([(crm_field.to_owned(), value.into())]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}
