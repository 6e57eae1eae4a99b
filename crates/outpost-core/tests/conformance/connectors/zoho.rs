//! Zoho CRM v8, against the CRM emulator (Contacts by the unique
//! `Outpost_Key` field, a refresh token at the emulator's accounts server).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crm_emulator::{Api, Config, Emulator, Faults, RateLimit};
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Zoho {
    emu: Emulator,
}

fn contact(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("First_Name".to_string(), format!("Contact{i}")),
        ("Last_Name".to_string(), "Field".to_string()),
        ("Email".to_string(), format!("contact{i}@zoho.example")),
    ])
}

/// An attribute's name (`lead_source`) as Zoho spells it (`Lead_Source`).
fn api_name(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("_")
}

impl Zoho {
    fn record_of(&self, key: CustomerId) -> Option<serde_json::Value> {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.api == "zoho" && r.key.as_deref() == Some(&key.to_string()))
            .map(|r| r.record)
    }
}

impl Crm for Zoho {
    const NAME: &'static str = "zoho";

    async fn start() -> Option<Self> {
        Some(Zoho {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::Zoho
    }

    fn base_url(&self) -> String {
        self.emu.crm_url()
    }

    /// A self client's refresh token at the emulator's accounts server.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let config = self.emu.config();
        for (kind, value) in [
            (SecretKind::ClientSecret, &config.oauth_client_secret),
            (SecretKind::RefreshToken, &config.oauth_refresh_token),
        ] {
            secrets
                .set("crm", kind, &Sensitive::new(value.clone()))
                .await
                .unwrap();
        }
        EndpointSettings {
            auth: AuthMethod::OauthRefresh,
            client_id: Some(config.oauth_client_id.clone()),
            token_url: Some(format!("{}/oauth/v2/token", self.emu.crm_url())),
            ..Default::default()
        }
    }

    /// The refresh token mints a new access token whenever one ends.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self.sign_in(secrets).await)
    }

    fn expire_tokens(&self) {
        self.emu.expire_tokens(None);
    }

    fn renewals(&self) -> u64 {
        self.emu.zoho_settings()["tokens_minted"]
            .as_u64()
            .unwrap_or(0)
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
            crm_id.len() >= 15 && crm_id.chars().all(|c| c.is_ascii_digit()),
            "a Zoho record id is a long number: {crm_id}"
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

    /// 429 `TOO_MANY_REQUESTS` without Retry-After (Zoho sends none).
    fn limit(&self, max: u32, per: Duration) -> Result<(), Skip> {
        self.emu
            .set_rate_limit(Api::Zoho, Some(RateLimit { max, window: per }));
        Ok(())
    }

    fn limit_answers(&self) -> u64 {
        self.emu.stats().count_anywhere("429")
    }

    /// Email made unique ("Do not allow duplicate values") and held by a
    /// contact entered by hand: Zoho answers DUPLICATE_DATA.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.emu
            .set_zoho_field_flags("Contacts", "Email", Some(true), None)
            .unwrap();
        self.emu
            .seed_zoho(
                "Contacts",
                vec![BTreeMap::from([
                    ("Last_Name".to_owned(), "Hand".to_owned()),
                    ("Email".to_owned(), email.to_owned()),
                ])],
            )
            .unwrap();
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
            reason: "may already exist in Zoho CRM",
        })
    }

    async fn seed(&self, n: usize) {
        self.emu
            .seed_zoho("Contacts", (0..n).map(contact).collect())
            .unwrap();
    }

    fn pull_page(&self) -> usize {
        outpost_core::crm::zoho::PULL_PAGE
    }

    fn pull_size(&self) -> usize {
        3 * self.pull_page() + 50
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Ok(FormCase {
            attribute: "lead_source",
            good: "Cold Call",
            bad: "Alien",
            constrained: None,
        })
    }

    /// A custom field, as an admin adds one in Setup → Modules and Fields.
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        self.emu
            .define_zoho_field("Contacts", "VAT_Number", "text", 32, false)
            .unwrap();
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "VAT_Number",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.emu
            .seed_zoho(
                "Contacts",
                vec![BTreeMap::from([
                    ("First_Name".to_owned(), "Mapped".to_owned()),
                    ("Last_Name".to_owned(), "Inbound".to_owned()),
                    ("Email".to_owned(), email.to_owned()),
                    (case.crm_field.to_owned(), value.to_owned()),
                ])],
            )
            .unwrap();
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        // Attributes are lower case (`lead_source` is `Lead_Source`).
        let record = self.record_of(key)?;
        let (_, value) = record
            .as_object()?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(crm_field))?;
        value.as_str().map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let target = crm_emulator::crm_user::Target::zoho(key.to_string());
        let name = if crm_field.chars().any(|c| c.is_ascii_uppercase()) {
            crm_field.to_owned()
        } else {
            api_name(crm_field)
        };
        let fields = serde_json::Map::from_iter([(name, value.into())]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}
