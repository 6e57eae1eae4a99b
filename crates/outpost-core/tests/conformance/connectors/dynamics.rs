//! Dynamics 365 (Dataverse Web API), against the CRM emulator (contacts by
//! the `outpost_key` alternate key, Entra-style client credentials).

use std::collections::BTreeMap;

use crm_emulator::Api;
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::CustomerId;

use super::emulated::{emulated_crm, taken, ContactNames, EmulatedCrm, Parts};
use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Dynamics {
    base: EmulatedCrm,
}

const NAMES: ContactNames = ContactNames {
    first: "firstname",
    last: "lastname",
    email: "emailaddress1",
};

impl Crm for Dynamics {
    const NAME: &'static str = "dynamics";

    emulated_crm!(Parts {
        kind: EndpointKind::Dynamics,
        api: Api::Dynamics,
        // Service protection: 429 `0x80072322` with Retry-After.
        limit_status: "429",
    });

    /// An application user through Entra's client credentials; duplicate
    /// detection asked for (the org's switch decides whether it runs).
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let token_url = self.base.url("/contoso.onmicrosoft.com/oauth2/v2.0/token");
        let auth = AuthMethod::OauthClientCredentials;
        EndpointSettings {
            duplicate_detection: Some(true),
            ..self
                .base
                .oauth_sign_in(secrets, auth, Some(token_url))
                .await
        }
    }

    /// Client credentials buy a new token whenever one ends.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self.sign_in(secrets).await)
    }

    fn renewals(&self) -> u64 {
        self.base.emu.count("POST /{tenant}/oauth2/v2.0/token", 200)
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        let parsed = uuid::Uuid::parse_str(crm_id).expect("a contact id is a GUID");
        assert_eq!(parsed.hyphenated().to_string(), crm_id);
    }

    /// The org's duplicate detection matches a contact entered by hand.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.base.emu.seed_dynamics(vec![BTreeMap::from([
            ("lastname".to_owned(), "Hand".to_owned()),
            ("emailaddress1".to_owned(), email.to_owned()),
        ])]);
        self.base.emu.set_dynamics_duplicate_detection(true, None);
        Ok(Refusal {
            customer: taken(email),
            reason: "may already exist in Dynamics",
        })
    }

    async fn seed(&self, n: usize) {
        let contacts = (0..n).map(|i| NAMES.numbered(i, "dv.example")).collect();
        self.base.emu.seed_dynamics(contacts);
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
        let contact = NAMES.mapped(email, case.crm_field, value);
        self.base.emu.seed_dynamics(vec![contact]);
    }

    /// Option sets are numbers: shown as their digits.
    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        match self.base.record_of(key)?.get(crm_field)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// An option set (`...code`) is set as its number.
    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let value = match value.parse::<i64>() {
            Ok(n) if crm_field.ends_with("code") => serde_json::json!(n),
            _ => serde_json::json!(value),
        };
        self.base.edit_as_crm_user(key, crm_field.to_owned(), value);
    }
}
