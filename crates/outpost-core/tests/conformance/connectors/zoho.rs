//! Zoho CRM v8, against the CRM emulator (Contacts by the unique
//! `Outpost_Key` field, a refresh token at the emulator's accounts server).

use std::collections::BTreeMap;

use crm_emulator::Api;
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::CustomerId;

use super::emulated::{emulated_crm, field_ignoring_case, taken, ContactNames, EmulatedCrm, Parts};
use crate::crm::{Crm, FormCase, MappingCase, Refusal, Skip};

pub struct Zoho {
    base: EmulatedCrm,
}

const NAMES: ContactNames = ContactNames {
    first: "First_Name",
    last: "Last_Name",
    email: "Email",
};

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

impl Crm for Zoho {
    const NAME: &'static str = "zoho";

    emulated_crm!(Parts {
        kind: EndpointKind::Zoho,
        api: Api::Zoho,
        // 429 `TOO_MANY_REQUESTS` without Retry-After (Zoho sends none).
        limit_status: "429",
    });

    /// A self client's refresh token at the emulator's accounts server.
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        let token_url = self.base.url("/oauth/v2/token");
        let auth = AuthMethod::OauthRefresh;
        self.base
            .oauth_sign_in(secrets, auth, Some(token_url))
            .await
    }

    /// The refresh token mints a new access token whenever one ends.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip> {
        Ok(self.sign_in(secrets).await)
    }

    fn renewals(&self) -> u64 {
        self.base.emu.zoho_settings()["tokens_minted"]
            .as_u64()
            .unwrap_or(0)
    }

    fn assert_created(&self, _: usize, crm_id: &str) {
        assert!(
            crm_id.len() >= 15 && crm_id.chars().all(|c| c.is_ascii_digit()),
            "a Zoho record id is a long number: {crm_id}"
        );
    }

    /// Email made unique ("Do not allow duplicate values") and held by a
    /// contact entered by hand: Zoho answers DUPLICATE_DATA.
    async fn refusal(&self) -> Result<Refusal, Skip> {
        let email = "taken.42@example.com";
        self.base
            .emu
            .set_zoho_field_flags("Contacts", "Email", Some(true), None)
            .unwrap();
        self.base
            .emu
            .seed_zoho(
                "Contacts",
                vec![BTreeMap::from([
                    ("Last_Name".to_owned(), "Hand".to_owned()),
                    ("Email".to_owned(), email.to_owned()),
                ])],
            )
            .unwrap();
        Ok(Refusal {
            customer: taken(email),
            reason: "may already exist in Zoho CRM",
        })
    }

    async fn seed(&self, n: usize) {
        let contacts = (0..n).map(|i| NAMES.numbered(i, "zoho.example")).collect();
        self.base.emu.seed_zoho("Contacts", contacts).unwrap();
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
        self.base
            .emu
            .define_zoho_field("Contacts", "VAT_Number", "text", 32, false)
            .unwrap();
        Ok(MappingCase {
            field: Field::TaxId,
            crm_field: "VAT_Number",
        })
    }

    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str) {
        let contact = NAMES.mapped(email, case.crm_field, value);
        self.base.emu.seed_zoho("Contacts", vec![contact]).unwrap();
    }

    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String> {
        // Attributes are lower case (`lead_source` is `Lead_Source`).
        field_ignoring_case(&self.base.record_of(key)?, crm_field)
    }

    /// A lower-case attribute is set under Zoho's spelling of it.
    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str) {
        let name = if crm_field.chars().any(|c| c.is_ascii_uppercase()) {
            crm_field.to_owned()
        } else {
            api_name(crm_field)
        };
        self.base.edit_as_crm_user(key, name, value.into());
    }
}
