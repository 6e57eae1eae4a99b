//! Outpost's generic REST contract, against the CRM emulator.

use crm_emulator::{Api, CustomerFields as RestFields, RestCustomField};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer};

use super::emulated::{emulated_crm, EmulatedCrm, Parts};
use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct GenericRest {
    base: EmulatedCrm,
}

impl Crm for GenericRest {
    const NAME: &'static str = "generic-rest";

    emulated_crm!(Parts {
        kind: EndpointKind::GenericRest,
        api: Api::Rest,
        limit_status: "429",
    });

    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        self.base.token_sign_in(secrets).await
    }

    /// OAuth client credentials: the connector buys tokens and buys again on a 401.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self
            .base
            .oauth_sign_in(secrets, AuthMethod::OauthClientCredentials, None)
            .await)
    }

    fn renewals(&self) -> u64 {
        self.base.emu.count("POST /oauth/token", 200)
    }

    fn assert_created(&self, created: usize, crm_id: &str) {
        assert_eq!(
            self.base.emu.count("PUT /customers/{key}", 201),
            created as u64
        );
        assert!(crm_id.starts_with("cus_"), "{crm_id}");
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
        self.base.emu.seed_rest(
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
        self.base
            .emu
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
        self.base.emu.seed_rest(vec![(
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
        self.base
            .record_of(key)?
            .get(crm_field)?
            .as_str()
            .map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        self.base
            .edit_as_crm_user(key, crm_field.to_owned(), value.into());
    }
}
