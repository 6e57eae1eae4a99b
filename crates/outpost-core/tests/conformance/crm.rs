//! What the suite needs from a connector's CRM: where it is, how to sign in,
//! how to take it away and perturb it, and how to read what it holds. A
//! connector answers [`Skip`] for what its CRM cannot do.

use std::collections::HashMap;
use std::time::Duration;

use crm_emulator::Faults;
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretStore;
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::{CustomerId, NewCustomer};

use crate::common::Local;

/// Why a connector does not run a scenario.
#[derive(Debug)]
pub enum Skip {
    /// The connector or its CRM cannot do it, for this reason.
    Cannot(&'static str),
}

/// A customer this CRM refuses although Outpost accepts it.
pub struct Refusal {
    pub customer: NewCustomer,
    /// Part of the reason Outpost shows for it.
    pub reason: &'static str,
}

/// A CRM-specific picklist field of the form, with a value it lists and
/// one it does not.
pub struct FormCase {
    pub attribute: &'static str,
    pub good: &'static str,
    pub bad: &'static str,
    /// A customer field the CRM's lists constrain, a value outside them,
    /// and how many options the list has at least.
    pub constrained: Option<(Field, &'static str, usize)>,
}

/// An admin's mapping of an Outpost field to a CRM field the connector
/// does not use by default.
pub struct MappingCase {
    pub field: Field,
    pub crm_field: &'static str,
}

pub(crate) trait Crm: Sized + Send + Sync + 'static {
    const NAME: &'static str;

    /// The CRM for one scenario (a fresh emulator, or a turn on the shared
    /// server); `None` when this machine cannot run it (said loudly).
    async fn start() -> Option<Self>;

    fn kind(&self) -> EndpointKind;
    fn base_url(&self) -> String;

    /// Stores a plain sign-in's secrets for the endpoint "crm".
    async fn sign_in(&self, secrets: &dyn SecretStore) -> EndpointSettings;
    /// A sign-in whose tokens expire and are renewed by the connector.
    async fn renewable_sign_in(&self, secrets: &dyn SecretStore) -> Result<EndpointSettings, Skip>;
    /// Ends every issued token early.
    fn expire_tokens(&self);
    /// Tokens issued so far by renewal.
    fn renewals(&self) -> u64;

    /// Refuses connections / serves again with the same data.
    async fn down(&self);
    async fn up(&self);

    /// Records carrying an Outpost key, counted per key.
    async fn records_per_key(&self) -> HashMap<String, usize>;
    /// Every record, with a key or not.
    async fn total_records(&self) -> usize;
    /// Connector-specific checks of `created` customers created offline
    /// and one of their CRM ids.
    fn assert_created(&self, created: usize, crm_id: &str);
    /// How many customers the offline scenario creates.
    fn offline_count(&self) -> usize;

    /// The emulator's fault plan (an emulated CRM, or a proxy in front).
    fn set_faults(&self, faults: Faults);
    /// Requests that ended with this outcome ("dropped_after_commit", ...).
    fn faults_seen(&self, outcome: &str) -> u64;

    /// Makes the CRM answer 429 with Retry-After above this budget.
    fn limit(&self, max: u32, per: Duration) -> Result<(), Skip>;
    /// 429 answers so far.
    fn limit_answers(&self) -> u64;

    async fn refusal(&self) -> Result<Refusal, Skip>;

    /// Creates `n` records in the CRM without Outpost.
    async fn seed(&self, n: usize);
    /// Records per page of the incremental listing.
    fn pull_page(&self) -> usize;
    /// Records the pull scenario seeds (more than three pages).
    fn pull_size(&self) -> usize;

    fn form_case(&self) -> Result<FormCase, Skip>;

    /// Prepares the CRM for the mapping (e.g. creates the property).
    async fn mapping_case(&self) -> Result<MappingCase, Skip>;
    /// A record made in the CRM with this value in the mapped field.
    async fn seed_mapped(&self, case: &MappingCase, value: &str, email: &str);
    /// A CRM field of the record carrying this key.
    async fn value_in_crm(&self, key: CustomerId, crm_field: &str) -> Option<String>;
    /// A person changes a field of the record carrying this key in the
    /// CRM itself (its UI, another integration).
    async fn edit_in_crm(&self, key: CustomerId, crm_field: &str, value: &str);
}

/// Makes the CRM the device's primary endpoint.
pub async fn connect<C: Crm>(crm: &C, local: &Local, settings: EndpointSettings) {
    local
        .save_endpoint(crm.kind(), crm.base_url(), settings)
        .await;
}

/// Each of `keys` is in the CRM exactly once, and nothing else was added
/// since `before`.
pub async fn assert_exactly_once<C: Crm>(
    crm: &C,
    before: &HashMap<String, usize>,
    keys: &[CustomerId],
) {
    let after = crm.records_per_key().await;
    for k in keys {
        assert_eq!(
            after.get(&k.to_string()),
            Some(&1),
            "customer {k} must be in {} exactly once",
            C::NAME
        );
    }
    let added = after.values().sum::<usize>() - before.values().sum::<usize>();
    assert_eq!(added, keys.len(), "no other records");
}
