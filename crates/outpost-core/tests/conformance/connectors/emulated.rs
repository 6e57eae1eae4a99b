//! What the connectors on the CRM emulator share: [`EmulatedCrm`], the
//! fresh emulator each scenario gets, with the sign-ins, records and CRM
//! user's edits that work the same for every emulated API, and
//! [`emulated_crm!`], the [`Crm`](crate::Crm) methods they answer alike
//! (outages, faults, the limit, what the CRM holds). Each connector passes
//! in what differs ([`Parts`]) and writes the rest of `Crm` itself.

use std::collections::BTreeMap;

use crm_emulator::crm_user::Target;
use crm_emulator::{Api, Config, Emulator};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{SecretKind, SecretStore};
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer, Sensitive};
use serde_json::Value;

/// What one emulated connector does differently in the shared methods.
pub struct Parts {
    pub kind: EndpointKind,
    /// The emulated API (its rate limit, its records, its CRM user).
    pub api: Api,
    /// The status of the API's answer to a spent budget.
    pub limit_status: &'static str,
}

/// The emulator of one scenario and the connector's [`Parts`].
pub struct EmulatedCrm {
    pub emu: Emulator,
    pub parts: Parts,
}

impl EmulatedCrm {
    pub async fn start(parts: Parts) -> EmulatedCrm {
        EmulatedCrm {
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
            parts,
        }
    }

    /// `path` on the emulator (a token URL).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.crm_url())
    }

    /// Stores the emulator's token for the endpoint "crm" (a plain sign-in).
    pub async fn token_sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings {
        self.store(secrets, SecretKind::Token, self.emu.token())
            .await;
        EndpointSettings::default()
    }

    /// Stores the emulator's client secret for the endpoint "crm", and its
    /// refresh token for [`AuthMethod::OauthRefresh`]; the settings of that
    /// flow with the emulator's client id (`token_url` `None`: the kind's
    /// default).
    pub async fn oauth_sign_in(
        &self,
        secrets: &dyn SecretStore,
        auth: AuthMethod,
        token_url: Option<String>,
    ) -> EndpointSettings {
        let config = self.emu.config();
        self.store(
            secrets,
            SecretKind::ClientSecret,
            &config.oauth_client_secret,
        )
        .await;
        if auth == AuthMethod::OauthRefresh {
            self.store(
                secrets,
                SecretKind::RefreshToken,
                &config.oauth_refresh_token,
            )
            .await;
        }
        EndpointSettings {
            auth,
            client_id: Some(config.oauth_client_id.clone()),
            token_url,
            ..Default::default()
        }
    }

    async fn store(&self, secrets: &dyn SecretStore, kind: SecretKind, value: &str) {
        secrets
            .set("crm", kind, &Sensitive::new(value.to_owned()))
            .await
            .unwrap();
    }

    /// The record of this API carrying `key`, as the API renders it.
    pub fn record_of(&self, key: CustomerId) -> Option<Value> {
        // `Api` serializes as the records name their API (`rest`, `zoho`, ...).
        let api = serde_json::to_value(self.parts.api).unwrap();
        self.emu
            .records()
            .into_iter()
            .find(|r| api == r.api.as_str() && r.key.as_deref() == Some(&key.to_string()))
            .map(|r| r.record)
    }

    /// A person sets `field` of the record carrying `key` in the CRM itself.
    pub fn edit_as_crm_user(&self, key: CustomerId, field: String, value: Value) {
        let target = Target {
            api: self.parts.api,
            ..Target::rest(key.to_string())
        };
        let fields = serde_json::Map::from_iter([(field, value)]);
        assert!(
            self.emu.edit_as_crm_user(&target, &fields).unwrap(),
            "in the CRM"
        );
    }
}

/// A string field of `record` whose name matches `name` but for case.
pub fn field_ignoring_case(record: &Value, name: &str) -> Option<String> {
    let (_, value) = record
        .as_object()?
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))?;
    value.as_str().map(str::to_owned)
}

/// The customer a CRM refuses because someone entered `email` by hand.
pub fn taken(email: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            first_name: Some("Taken42".into()),
            last_name: Some("Field".into()),
            email: Some(email.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A CRM's names for a contact's first name, last name and email, for
/// seeding the emulator.
pub struct ContactNames {
    pub first: &'static str,
    pub last: &'static str,
    pub email: &'static str,
}

impl ContactNames {
    fn contact(&self, first: String, last: &str, email: String) -> BTreeMap<String, String> {
        BTreeMap::from([
            (self.first.to_owned(), first),
            (self.last.to_owned(), last.to_owned()),
            (self.email.to_owned(), email),
        ])
    }

    /// `Contact{i} Field`, `contact{i}@{domain}`.
    pub fn numbered(&self, i: usize, domain: &str) -> BTreeMap<String, String> {
        self.contact(
            format!("Contact{i}"),
            "Field",
            format!("contact{i}@{domain}"),
        )
    }

    /// `Mapped Inbound` at `email`, with `value` in the mapped `field`.
    pub fn mapped(&self, email: &str, field: &str, value: &str) -> BTreeMap<String, String> {
        let mut contact = self.contact("Mapped".to_owned(), "Inbound", email.to_owned());
        contact.insert(field.to_owned(), value.to_owned());
        contact
    }
}

/// The [`Crm`](crate::Crm) methods every emulated connector answers alike,
/// for a connector struct whose field `base` is its [`EmulatedCrm`];
/// `$parts` is its [`Parts`]. Used inside `impl Crm for ...`.
macro_rules! emulated_crm {
    ($parts:expr) => {
        async fn start() -> Option<Self> {
            let base = $crate::connectors::emulated::EmulatedCrm::start($parts).await;
            Some(Self { base })
        }

        fn kind(&self) -> ::outpost_core::endpoint::EndpointKind {
            self.base.parts.kind
        }

        fn base_url(&self) -> String {
            self.base.emu.crm_url()
        }

        fn expire_tokens(&self) {
            self.base.emu.expire_tokens(None);
        }

        async fn down(&self) {
            self.base.emu.down().await;
        }

        async fn up(&self) {
            self.base.emu.up().await.unwrap();
        }

        async fn records_per_key(&self) -> ::std::collections::HashMap<String, usize> {
            self.base.emu.records_per_key()
        }

        async fn total_records(&self) -> usize {
            self.base.emu.records().len()
        }

        fn offline_count(&self) -> usize {
            1000
        }

        fn set_faults(&self, faults: ::crm_emulator::Faults) {
            self.base.emu.set_faults(faults);
        }

        fn faults_seen(&self, outcome: &str) -> u64 {
            self.base.emu.stats().count_anywhere(outcome)
        }

        fn limit(&self, max: u32, per: ::std::time::Duration) -> Result<(), $crate::Skip> {
            let limit = ::crm_emulator::RateLimit { max, window: per };
            self.base
                .emu
                .set_rate_limit(self.base.parts.api, Some(limit));
            Ok(())
        }

        fn limit_answers(&self) -> u64 {
            self.base
                .emu
                .stats()
                .count_anywhere(self.base.parts.limit_status)
        }
    };
}
pub(crate) use emulated_crm;
