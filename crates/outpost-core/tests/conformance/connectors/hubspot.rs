//! HubSpot CRM v3, against the CRM emulator.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crm_emulator::{Api, Config, Emulator, Faults, RateLimit};
use outpost_core::customer::{CustomerFields, Field};
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};
use serde_json::json;

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct HubSpot {
    emu: Emulator,
}

fn contact(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("firstname".to_string(), format!("Contact{i}")),
        ("lastname".to_string(), "Field".to_string()),
        ("email".to_string(), format!("contact{i}@hs.example")),
    ])
}

impl Crm for HubSpot {
    const NAME: &'static str = "hubspot";

    async fn start() -> Option<Self> {
        Some(HubSpot {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::Hubspot
    }

    fn base_url(&self) -> String {
        self.emu.crm_url()
    }

    /// A private-app token.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        secrets
            .set(
                "crm",
                SecretKind::Token,
                &Sensitive::new(self.emu.token().into()),
            )
            .await
            .unwrap();
        EndpointSettings::default()
    }

    /// OAuth with a refresh token: access tokens expire and are refreshed.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
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
        Ok(EndpointSettings {
            auth: AuthMethod::OauthRefresh,
            client_id: Some(config.oauth_client_id.clone()),
            ..Default::default()
        })
    }

    fn expire_tokens(&self) {
        self.emu.expire_tokens(None);
    }

    fn renewals(&self) -> u64 {
        self.emu.count("POST /oauth/v1/token", 200)
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
            crm_id.parse::<u64>().is_ok(),
            "HubSpot ids are numbers: {crm_id}"
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

    fn limit(&self, max: u32, per: Duration) -> Result<(), Skip> {
        self.emu
            .set_rate_limit(Api::Hubspot, Some(RateLimit { max, window: per }));
        Ok(())
    }

    fn limit_answers(&self) -> u64 {
        self.emu.stats().count_anywhere("429")
    }

    /// Someone already entered this email in HubSpot by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.emu.seed_hubspot(
            "contacts",
            vec![BTreeMap::from([("email".to_owned(), email.to_owned())])],
        );
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
            reason: "already has a contact with this email",
        })
    }

    async fn seed(&self, n: usize) {
        self.emu
            .seed_hubspot("contacts", (0..n).map(contact).collect());
    }

    fn pull_page(&self) -> usize {
        200
    }

    fn pull_size(&self) -> usize {
        1000
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Ok(FormCase {
            attribute: "lifecyclestage",
            good: "customer",
            bad: "alien",
            constrained: None,
        })
    }

    /// A custom contact property, created the way a HubSpot admin would.
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        let status = reqwest::Client::new()
            .post(format!("{}/crm/v3/properties/contacts", self.emu.crm_url()))
            .bearer_auth(self.emu.token())
            .json(&json!({
                "name": "vat_number",
                "label": "VAT number",
                "type": "string",
                "fieldType": "text",
                "groupName": "contactinformation",
            }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201, "the property was created");
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "vat_number",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.emu.seed_hubspot(
            "contacts",
            vec![BTreeMap::from([
                ("firstname".to_owned(), "Mapped".to_owned()),
                ("lastname".to_owned(), "Inbound".to_owned()),
                ("email".to_owned(), email.to_owned()),
                (case.crm_field.to_owned(), value.to_owned()),
            ])],
        );
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.key.as_deref() == Some(&key.to_string()))?
            .record
            .get("properties")?
            .get(crm_field)?
            .as_str()
            .map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let target = crm_emulator::crm_user::Target::hubspot(key.to_string());
        let fields = serde_json::Map::from_iter([(crm_field.to_owned(), value.into())]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}
