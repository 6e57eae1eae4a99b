//! Salesforce's REST API, against the CRM emulator (Contacts by
//! `Outpost_Key__c`).

use std::collections::BTreeMap;

use crm_emulator::Api;
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::CustomerId;

use super::emulated::{emulated_crm, field_ignoring_case, taken, ContactNames, EmulatedCrm, Parts};
use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Salesforce {
    base: EmulatedCrm,
}

const NAMES: ContactNames = ContactNames {
    first: "FirstName",
    last: "LastName",
    email: "Email",
};

impl Salesforce {
    fn token_url(&self) -> Option<String> {
        Some(self.base.url("/services/oauth2/token"))
    }
}

impl Crm for Salesforce {
    const NAME: &'static str = "salesforce";

    emulated_crm!(Parts {
        kind: EndpointKind::Salesforce,
        api: Api::Salesforce,
        // Salesforce's budget answer: 403 `REQUEST_LIMIT_EXCEEDED`, no Retry-After.
        limit_status: "403",
    });

    /// An integration user through the client credentials flow.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let auth = AuthMethod::OauthClientCredentials;
        self.base
            .oauth_sign_in(secrets, auth, self.token_url())
            .await
    }

    /// A connected app with a refresh token: sessions end and are renewed.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        let auth = AuthMethod::OauthRefresh;
        Ok(self
            .base
            .oauth_sign_in(secrets, auth, self.token_url())
            .await)
    }

    fn renewals(&self) -> u64 {
        self.base.emu.count("POST /services/oauth2/token", 200)
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        assert!(
            crm_id.len() == 18 && crm_id.starts_with("003"),
            "a Contact id: {crm_id}"
        );
    }

    /// The org's duplicate rule matches a contact entered by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.base.emu.seed_salesforce(
            "Contact",
            vec![BTreeMap::from([
                ("LastName".to_owned(), "Hand".to_owned()),
                ("Email".to_owned(), email.to_owned()),
            ])],
        );
        self.base.emu.set_salesforce_duplicate_rule(true);
        Ok(Refusal {
            customer: taken(email),
            reason: "may already exist in Salesforce",
        })
    }

    async fn seed(&self, n: usize) {
        let contacts = (0..n).map(|i| NAMES.numbered(i, "sf.example")).collect();
        self.base.emu.seed_salesforce("Contact", contacts);
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
        self.base
            .emu
            .define_salesforce_field("Contact", "VAT_Number__c", "string", 32)
            .unwrap();
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "VAT_Number__c",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        let contact = NAMES.mapped(email, case.crm_field, value);
        self.base.emu.seed_salesforce("Contact", vec![contact]);
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        // Salesforce's field names are case-insensitive (`leadsource` is
        // the attribute of `LeadSource`).
        field_ignoring_case(&self.base.record_of(key)?, crm_field)
    }

    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        self.base
            .edit_as_crm_user(key, crm_field.to_owned(), value.into());
    }
}
