//! Outpost's generic REST contract, against the CRM emulator.

use std::collections::HashMap;
use std::time::Duration;

use crm_emulator::{
    Api, Config, CustomerFields as RestFields, Emulator, Faults, RateLimit, RestCustomField,
};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};

use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct GenericRest {
    emu: Emulator,
}

impl Crm for GenericRest {
    const NAME: &'static str = "generic-rest";

    async fn start() -> Option<Self> {
        Some(GenericRest {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
        })
    }

    fn kind(&self) -> EndpointKind {
        EndpointKind::GenericRest
    }

    fn base_url(&self) -> String {
        self.emu.crm_url()
    }

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

    /// OAuth client credentials: the connector buys tokens and buys again on a 401.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        let config = self.emu.config();
        secrets
            .set(
                "crm",
                SecretKind::ClientSecret,
                &Sensitive::new(config.oauth_client_secret.clone()),
            )
            .await
            .unwrap();
        Ok(EndpointSettings {
            auth: AuthMethod::OauthClientCredentials,
            client_id: Some(config.oauth_client_id.clone()),
            ..Default::default()
        })
    }

    fn expire_tokens(&self) {
        self.emu.expire_tokens(None);
    }

    fn renewals(&self) -> u64 {
        self.emu.count("POST /oauth/token", 200)
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

    fn assert_created(&self, created: usize, crm_id: &str) {
        assert_eq!(self.emu.count("PUT /customers/{key}", 201), created as u64);
        assert!(crm_id.starts_with("cus_"), "{crm_id}");
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
            .set_rate_limit(Api::Rest, Some(RateLimit { max, window: per }));
        Ok(())
    }

    fn limit_answers(&self) -> u64 {
        self.emu.stats().count_anywhere("429")
    }

    /// An imported customer (imports skip the cached form) with a lead
    /// source the CRM's picklist does not have.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        Ok(Refusal {
            customer: NewCustomer {
                fields: CustomerFields {
                    first_name: Some("Imported".into()),
                    last_name: Some("Billboard".into()),
                    ..Default::default()
                },
                attributes: Some([("lead_source".to_string(), "billboard".to_string())].into()),
            },
            reason: "invalid_option",
        })
    }

    async fn seed(&self, n: usize) {
        self.emu.seed_rest(
            (0..n)
                .map(|i| {
                    (
                        format!("ext-{i}"),
                        RestFields {
                            first_name: Some(format!("Remote{i}")),
                            last_name: Some("Person".into()),
                            email: Some(format!("remote{i}@crm.example")),
                            ..RestFields::default()
                        },
                    )
                })
                .collect(),
        );
    }

    fn pull_page(&self) -> usize {
        200
    }

    fn pull_size(&self) -> usize {
        1000
    }

    fn form_case(&self) -> Result<FormCase, Skip> {
        Ok(FormCase {
            attribute: "lead_source",
            good: "web",
            bad: "billboard",
            constrained: Some((outpost_core::customer::Field::Country, "JP", 5)),
        })
    }

    /// A custom field the CRM's admin defined (the contract lists it in
    /// `GET /metadata` and takes it beside the standard fields).
    async fn mapping_case(&self) -> Result<MappingCase, Skip> {
        self.emu
            .define_rest_field(RestCustomField {
                name: "vat_number".into(),
                kind: "string".into(),
                label: Some("VAT number".into()),
                writable: true,
                options: Vec::new(),
            })
            .unwrap();
        Ok(MappingCase {
            field: outpost_core::customer::Field::TaxId,
            crm_field: "vat_number",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        self.emu.seed_rest(vec![(
            "ext-mapped".to_owned(),
            RestFields {
                first_name: Some("Mapped".into()),
                last_name: Some("Inbound".into()),
                email: Some(email.to_owned()),
                custom: [(case.crm_field.to_owned(), value.to_owned())].into(),
                ..RestFields::default()
            },
        )]);
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.key.as_deref() == Some(&key.to_string()))?
            .record
            .get(crm_field)?
            .as_str()
            .map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let target = crm_emulator::crm_user::Target::rest(key.to_string());
        let fields = serde_json::Map::from_iter([(crm_field.to_owned(), value.into())]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}
