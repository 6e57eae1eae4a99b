//! HubSpot CRM v3, against the CRM emulator.

use std::collections::BTreeMap;

use crm_emulator::Api;
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::CustomerId;
use serde_json::json;

use super::emulated::{emulated_crm, taken, ContactNames, EmulatedCrm, Parts};
use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct HubSpot {
    base: EmulatedCrm,
}

const NAMES: ContactNames = ContactNames {
    first: "firstname",
    last: "lastname",
    email: "email",
};

impl Crm for HubSpot {
    const NAME: &'static str = "hubspot";

    emulated_crm!(Parts {
        kind: EndpointKind::Hubspot,
        api: Api::Hubspot,
        limit_status: "429",
    });

    /// A private-app token.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        self.base.token_sign_in(secrets).await
    }

    /// OAuth with a refresh token: access tokens expire and are refreshed.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self
            .base
            .oauth_sign_in(secrets, AuthMethod::OauthRefresh, None)
            .await)
    }

    fn renewals(&self) -> u64 {
        self.base.emu.count("POST /oauth/v1/token", 200)
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        assert!(
            crm_id.parse::<u64>().is_ok(),
            "HubSpot ids are numbers: {crm_id}"
        );
    }

    /// Someone already entered this email in HubSpot by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.base.emu.seed_hubspot(
            "contacts",
            vec![BTreeMap::from([("email".to_owned(), email.to_owned())])],
        );
        Ok(Refusal {
            customer: taken(email),
            reason: "already has a contact with this email",
        })
    }

    async fn seed(&self, n: usize) {
        let contacts = (0..n).map(|i| NAMES.numbered(i, "hs.example")).collect();
        self.base.emu.seed_hubspot("contacts", contacts);
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
            .post(self.base.url("/crm/v3/properties/contacts"))
            .bearer_auth(self.base.emu.token())
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
        let contact = NAMES.mapped(email, case.crm_field, value);
        self.base.emu.seed_hubspot("contacts", vec![contact]);
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        self.base
            .record_of(key)?
            .get("properties")?
            .get(crm_field)?
            .as_str()
            .map(str::to_owned)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        self.base
            .edit_as_crm_user(key, crm_field.to_owned(), value.into());
    }
}
