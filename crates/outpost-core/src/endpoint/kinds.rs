//! What each kind of endpoint offers the settings form: its connector's
//! defaults (the form shows them as placeholders), its sign-in methods with
//! the secrets each keeps in the keyring, and the settings that apply to it.
//! `ui_model` exports these; the values themselves live with the connectors
//! and the endpoint's validation.

use serde::Serialize;
use ts_rs::TS;

use super::save::{field_name, missing_message, secrets_used, SECRET_KINDS};
use super::{secret_input, AuthMethod, EndpointKind, EXAMPLE_URL};
use crate::crm::connector::DEFAULT_RATE_WINDOW_SECS;
use crate::crm::{bottlecrm, dynamics, generic_rest, hubspot, salesforce, zoho};

/// One kind of endpoint, as the settings form describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct KindSpec {
    pub kind: EndpointKind,
    pub label: &'static str,
    pub url_placeholder: &'static str,
    /// What this kind calls its static token.
    pub token_label: &'static str,
    /// Records per request when `batch_size` is not set (the connector's maximum).
    pub batch_size: u32,
    /// Requests per window when `rate_limit` is not set; null: no limit.
    pub rate_limit: Option<u32>,
    pub rate_window_secs: u32,
    /// The CRM property holding Outpost's key by default; null: the kind
    /// has no `key_property` setting.
    pub key_property: Option<&'static str>,
    /// Whether `pull_owner` applies.
    pub filters_by_owner: bool,
    /// Whether `key_shop` applies (keys that carry the shop's number).
    pub takes_shop_number: bool,
    /// The sign-in methods it accepts, the default first.
    pub auth_methods: Vec<AuthMethod>,
    /// The CRM API version used when `api_version` is not set; null: the
    /// kind has no `api_version` setting.
    pub api_version: Option<&'static str>,
}

/// One sign-in method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AuthSpec {
    pub method: AuthMethod,
    pub label: &'static str,
    /// The secrets it keeps in the keyring, by their form field names.
    pub secrets: Vec<&'static str>,
    /// Whether the settings need the app's `client_id`.
    pub needs_client_id: bool,
}

/// One secret an endpoint may keep in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SecretSpec {
    /// The form field and `SecretsInput` key.
    pub name: &'static str,
    /// What the form says when a new endpoint lacks it.
    pub missing: &'static str,
}

/// What every secret must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SecretRule {
    pub max_chars: usize,
    /// No newlines or other control characters.
    pub one_line: bool,
    /// The rule in words (`{max}`: `max_chars`).
    pub message: &'static str,
}

pub fn kind(kind: EndpointKind) -> KindSpec {
    let (url_placeholder, batch_size, rate_limit, key_property) = match kind {
        EndpointKind::GenericRest => (
            EXAMPLE_URL,
            generic_rest::MAX_BATCH,
            generic_rest::GenericRest::default_rate_limit(),
            None,
        ),
        EndpointKind::Bottlecrm => (
            EXAMPLE_URL,
            bottlecrm::MAX_BATCH,
            bottlecrm::BottleCrm::default_rate_limit(),
            None,
        ),
        EndpointKind::Hubspot => (
            hubspot::API_URL,
            hubspot::MAX_BATCH,
            Some(hubspot::DEFAULT_RATE_LIMIT),
            Some(hubspot::DEFAULT_KEY_PROPERTY),
        ),
        // The daily budget is kept by the connector, not a window's limit.
        EndpointKind::Salesforce => (
            salesforce::API_URL,
            salesforce::MAX_BATCH,
            None,
            Some(salesforce::DEFAULT_KEY_FIELD),
        ),
        // The 5-minute service protection window, as the connector paces it.
        EndpointKind::Dynamics => (
            dynamics::API_URL,
            dynamics::DEFAULT_BATCH,
            Some(dynamics::limits::DEFAULT_LIMIT),
            Some(dynamics::DEFAULT_KEY_PROPERTY),
        ),
        // Credits and concurrency, not a window: the connector keeps them.
        EndpointKind::Zoho => (
            zoho::API_DOMAIN,
            zoho::MAX_BATCH,
            None,
            Some(zoho::DEFAULT_KEY_FIELD),
        ),
    };
    KindSpec {
        kind,
        label: kind.label(),
        url_placeholder,
        token_label: kind.token_label(),
        batch_size: u32::try_from(batch_size).expect("a batch fits in u32"),
        rate_limit: rate_limit.map(|r| r.requests),
        rate_window_secs: rate_limit.map_or(DEFAULT_RATE_WINDOW_SECS, |r| {
            u32::try_from(r.per.as_secs()).expect("a window fits in u32")
        }),
        key_property,
        filters_by_owner: kind.filters_by_owner(),
        takes_shop_number: kind.takes_shop_number(),
        auth_methods: kind.auth_methods().to_vec(),
        api_version: match kind {
            EndpointKind::Dynamics => Some(dynamics::DEFAULT_API_VERSION),
            EndpointKind::Zoho => Some(zoho::DEFAULT_API_VERSION),
            _ => None,
        },
    }
}

pub fn kinds() -> Vec<KindSpec> {
    EndpointKind::ALL.into_iter().map(kind).collect()
}

pub fn auth_methods() -> Vec<AuthSpec> {
    AuthMethod::ALL
        .into_iter()
        .map(|method| AuthSpec {
            method,
            label: method.label(),
            secrets: secrets_used(method)
                .iter()
                .map(|&k| field_name(k))
                .collect(),
            needs_client_id: method.needs_client_id(),
        })
        .collect()
}

pub fn secret_specs() -> Vec<SecretSpec> {
    SECRET_KINDS
        .into_iter()
        .map(|k| SecretSpec {
            name: field_name(k),
            missing: missing_message(k),
        })
        .collect()
}

pub fn secret_rule() -> SecretRule {
    SecretRule {
        max_chars: secret_input::MAX_CHARS,
        one_line: true,
        message: secret_input::RULE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_offers_its_default_sign_in_first() {
        for spec in kinds() {
            let first = match spec.kind {
                EndpointKind::Salesforce | EndpointKind::Zoho => AuthMethod::OauthRefresh,
                EndpointKind::Dynamics => AuthMethod::OauthClientCredentials,
                _ => AuthMethod::Token,
            };
            assert_eq!(spec.auth_methods.first(), Some(&first));
            assert!(spec.batch_size >= 1);
        }
        assert_eq!(
            kind(EndpointKind::Salesforce).key_property,
            Some("Outpost_Key__c")
        );
        let dynamics = kind(EndpointKind::Dynamics);
        assert_eq!(dynamics.key_property, Some("outpost_key"));
        assert_eq!(
            (dynamics.rate_limit, dynamics.rate_window_secs),
            (Some(5880), 300)
        );
        let hubspot = kind(EndpointKind::Hubspot);
        assert_eq!(hubspot.rate_limit, Some(100));
        assert_eq!(hubspot.key_property, Some("outpost_key"));
        let zoho = kind(EndpointKind::Zoho);
        assert_eq!(
            (
                zoho.key_property,
                zoho.api_version,
                zoho.batch_size,
                zoho.rate_limit
            ),
            (Some("Outpost_Key"), Some("8"), 100, None)
        );
        assert_eq!(zoho.auth_methods, [AuthMethod::OauthRefresh]);
        assert_eq!(kind(EndpointKind::GenericRest).key_property, None);
        assert_eq!(
            secret_input::check(&"x".repeat(secret_input::MAX_CHARS + 1)),
            Err("One line of at most 4096 characters.".into())
        );
        assert!(secret_input::check("a\nb").is_err() && secret_input::check("tok").is_ok());
    }
}
