//! Builds the connector an endpoint's settings describe.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::field_map::{FieldMap, MapEntry};
use super::generic_rest::client_credentials;
use super::{bottlecrm, dynamics, generic_rest, http, hubspot, salesforce, zoho};
use crate::crm::connector::Outgoing;
use crate::crm::connector::{
    Capabilities, CrmConnector, Delivery, Page, PullFilter, RateLimit, RemoteCustomer,
    DEFAULT_RATE_WINDOW_SECS,
};
use crate::crm::error::{ConnectorError, QueueProblem};
use crate::crm::throttle::Throttle;
use crate::customer::CustomerId;
use crate::endpoint::secrets::{SecretKind, SecretStore};
use crate::endpoint::{AuthMethod, CrmObject, EndpointConfig, EndpointKind};
use crate::keys::KeyGenerator;

/// Builds the connector an endpoint's settings describe, with its secrets
/// from the keyring and its throttle.
pub async fn build(
    config: &EndpointConfig,
    secrets: Arc<dyn SecretStore>,
) -> Result<Arc<dyn CrmConnector>, ConnectorError> {
    let secrets_for_oauth = secrets.clone();
    let secrets = secrets.as_ref();
    let secret = |kind| async move {
        secrets
            .get(&config.name, kind)
            .await
            .map_err(|e| ConnectorError::Queue(QueueProblem::Keyring(e)))?
            .ok_or(ConnectorError::Queue(QueueProblem::CredentialsMissing))
    };
    let rate = |default: Option<RateLimit>| match config.settings.rate_limit {
        Some(requests) => Some(RateLimit {
            requests,
            per: std::time::Duration::from_secs(
                config
                    .settings
                    .rate_window_secs
                    .unwrap_or(DEFAULT_RATE_WINDOW_SECS)
                    .max(1) as u64,
            ),
        }),
        None => default,
    };
    match (config.kind, config.settings.auth) {
        (EndpointKind::GenericRest, AuthMethod::Token) => {
            let http = http::Http::new(Arc::new(Throttle::new(rate(
                generic_rest::GenericRest::default_rate_limit(),
            ))));
            Ok(Arc::new(
                generic_rest::GenericRest::new(
                    config.url(),
                    generic_rest::Auth::Token(secret(SecretKind::Token).await?),
                    field_map(config),
                    http,
                )
                .with_keys(key_generator(config)),
            ))
        }
        (EndpointKind::GenericRest, AuthMethod::OauthClientCredentials) => {
            let http = http::Http::new(Arc::new(Throttle::new(rate(
                generic_rest::GenericRest::default_rate_limit(),
            ))));
            let url = config.url();
            let credentials = client_credentials::ClientCredentials::new(
                &config.name,
                config.token_url(),
                config.settings.scope.clone(),
                config.settings.client_id.clone().unwrap_or_default(),
                secret(SecretKind::ClientSecret).await?,
            );
            Ok(Arc::new(
                generic_rest::GenericRest::new(
                    url,
                    generic_rest::Auth::ClientCredentials(Box::new(credentials)),
                    field_map(config),
                    http,
                )
                .with_keys(key_generator(config)),
            ))
        }
        (EndpointKind::Bottlecrm, AuthMethod::Token) => {
            let http = http::Http::new(Arc::new(Throttle::new(rate(
                bottlecrm::BottleCrm::default_rate_limit(),
            ))));
            Ok(Arc::new(bottlecrm::BottleCrm::new(
                config.url(),
                secret(SecretKind::Token).await?,
                field_map(config),
                http,
            )))
        }
        (EndpointKind::Hubspot, method @ (AuthMethod::Token | AuthMethod::OauthRefresh)) => {
            let http = http::Http::new(Arc::new(Throttle::new(rate(Some(
                hubspot::DEFAULT_RATE_LIMIT,
            )))));
            let auth = match method {
                AuthMethod::Token => hubspot::Auth::PrivateApp(secret(SecretKind::Token).await?),
                // OauthRefresh: the arm's pattern admits nothing else.
                _ => {
                    let mut token_url = config.url();
                    token_url.set_path("/oauth/v1/token");
                    hubspot::Auth::OAuth(Box::new(hubspot::OAuth {
                        endpoint: config.name.clone(),
                        token_url,
                        client_id: config.settings.client_id.clone().unwrap_or_default(),
                        client_secret: secret(SecretKind::ClientSecret).await?,
                        refresh_token: tokio::sync::Mutex::new(
                            secret(SecretKind::RefreshToken).await?,
                        ),
                        secrets: secrets_for_oauth,
                        access: tokio::sync::Mutex::new(None),
                    }))
                }
            };
            Ok(Arc::new(hubspot::HubSpot::new(
                config.url(),
                auth,
                config.settings.key_property.clone(),
                field_map(config),
                http,
            )))
        }
        (
            EndpointKind::Salesforce,
            method @ (AuthMethod::OauthRefresh | AuthMethod::OauthClientCredentials),
        ) => {
            let http = http::Http::new(Arc::new(Throttle::new(rate(None))));
            let grant = if method == AuthMethod::OauthRefresh {
                salesforce::Grant::RefreshToken(tokio::sync::Mutex::new(
                    secret(SecretKind::RefreshToken).await?,
                ))
            } else {
                salesforce::Grant::ClientCredentials
            };
            let auth = salesforce::OAuth::new(
                config.name.clone(),
                config.token_url(),
                config.settings.client_id.clone().unwrap_or_default(),
                secret(SecretKind::ClientSecret).await?,
                grant,
                secrets_for_oauth,
            );
            let s = &config.settings;
            let options = salesforce::Options {
                object: sobject(config),
                key_field: s.key_property.clone(),
                allow_duplicates: s.allow_duplicates.unwrap_or(false),
                daily_request_cap: s.daily_request_cap,
            };
            Ok(Arc::new(salesforce::Salesforce::new(
                auth,
                options,
                field_map(config),
                http,
            )))
        }
        (EndpointKind::Dynamics, AuthMethod::OauthClientCredentials) => {
            // Only pauses (Retry-After, a spent window): the connector's
            // budget paces the requests, as a $batch weighs more than one.
            let http = http::Http::new(Arc::new(Throttle::unlimited()));
            let credentials = client_credentials::ClientCredentials::new(
                &config.name,
                config.token_url(),
                config.scope(),
                config.settings.client_id.clone().unwrap_or_default(),
                secret(SecretKind::ClientSecret).await?,
            );
            let s = &config.settings;
            let options = dynamics::Options {
                key_property: s.key_property.clone(),
                api_version: s.api_version.clone(),
                duplicate_detection: s.duplicate_detection.unwrap_or(false),
                batch_size: s.batch_size,
                rate_limit: rate(None),
            };
            Ok(Arc::new(dynamics::Dynamics::new(
                config.url(),
                credentials,
                options,
                field_map(config),
                http,
            )))
        }
        (EndpointKind::Zoho, AuthMethod::OauthRefresh) => {
            // Zoho counts credits and concurrency, not a window: the
            // connector keeps both; an admin's rate limit still applies.
            let http = http::Http::new(Arc::new(Throttle::new(rate(None))));
            let token_url = config.token_url();
            let auth = zoho::OAuth::new(
                config.name.clone(),
                token_url.clone(),
                config.settings.client_id.clone().unwrap_or_default(),
                secret(SecretKind::ClientSecret).await?,
                secret(SecretKind::RefreshToken).await?,
                secrets_for_oauth,
            );
            let s = &config.settings;
            // The URL overrides the token answer's api_domain only when it
            // is not the data centre's own.
            let url = config.url();
            let own = zoho::default_api_domain(&token_url);
            let api_domain =
                (own.as_deref() != Some(url.as_str().trim_end_matches('/'))).then_some(url);
            let options = zoho::Options {
                module: zoho_module(config),
                key_field: s.key_property.clone(),
                api_version: s.api_version.clone(),
                concurrency: s.concurrency,
                batch_size: s.batch_size,
                api_domain,
            };
            Ok(Arc::new(zoho::Zoho::new(
                auth,
                options,
                field_map(config),
                http,
            )))
        }
        // Validation refuses these; a hand-edited database could still hold one.
        (kind, other) => Err(ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "{} does not sign in with {}",
            kind.as_str(),
            other.as_str()
        )))),
    }
}

/// The key generator the endpoint's connector supplies, from its settings
/// alone: no secrets, no network. The connector [`build`] makes returns the
/// same from `CrmConnector::key_generator`; this is for paths that create
/// customers without building one (the CLI, an endpoint whose connector
/// cannot start because its keyring is locked), so keys never depend on
/// whether the CRM or the keyring answers.
pub fn key_generator(config: &EndpointConfig) -> Option<Arc<dyn KeyGenerator>> {
    match config.kind {
        EndpointKind::GenericRest => generic_rest::key_generator(&config.settings),
        EndpointKind::Hubspot
        | EndpointKind::Bottlecrm
        | EndpointKind::Salesforce
        | EndpointKind::Dynamics
        | EndpointKind::Zoho => None,
    }
}

/// A kind of CRM's own field map, before an admin's overrides (Salesforce:
/// a Contact's; [`endpoint_default_map`] knows the endpoint's object).
pub fn default_map(kind: EndpointKind) -> &'static [MapEntry] {
    match kind {
        EndpointKind::GenericRest => generic_rest::DEFAULT_MAP,
        EndpointKind::Hubspot => hubspot::DEFAULT_MAP,
        EndpointKind::Bottlecrm => bottlecrm::DEFAULT_MAP,
        EndpointKind::Salesforce => salesforce::SObject::Contact.default_map(),
        EndpointKind::Dynamics => dynamics::DEFAULT_MAP,
        EndpointKind::Zoho => zoho::CONTACTS_MAP,
    }
}

/// An endpoint's defaults: its kind's, for the object it writes.
pub fn endpoint_default_map(config: &EndpointConfig) -> &'static [MapEntry] {
    match config.kind {
        EndpointKind::Salesforce => sobject(config).default_map(),
        EndpointKind::Zoho => zoho_module(config).default_map(),
        kind => default_map(kind),
    }
}

fn sobject(config: &EndpointConfig) -> salesforce::SObject {
    match config.settings.crm_object.unwrap_or_default() {
        CrmObject::Contact => salesforce::SObject::Contact,
        CrmObject::Lead => salesforce::SObject::Lead,
    }
}

fn zoho_module(config: &EndpointConfig) -> zoho::Module {
    match config.settings.crm_object.unwrap_or_default() {
        CrmObject::Contact => zoho::Module::Contacts,
        CrmObject::Lead => zoho::Module::Leads,
    }
}

/// The map an endpoint's connector uses: its kind's defaults with the
/// admin's overrides.
pub fn field_map(config: &EndpointConfig) -> FieldMap {
    FieldMap::with_overrides(endpoint_default_map(config), &config.settings.field_map)
}

/// Stands in for an endpoint whose connector could not be built, so its
/// monitor still shows why.
pub(crate) struct Unusable(pub ConnectorError);

#[async_trait]
impl CrmConnector for Unusable {
    fn kind(&self) -> &'static str {
        "unusable"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            requests_at_once: 1,
            max_batch: 1,
            upsert_by_external_id: false,
            rate_limit: None,
            updates: false,
        }
    }
    async fn probe(&self) -> Result<(), ConnectorError> {
        Err(self.0.clone())
    }
    async fn upsert_batch(&self, _: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        Err(self.0.clone())
    }
    async fn get(&self, _: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        Err(self.0.clone())
    }
    async fn search(&self, _: &str, _: usize) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        Err(self.0.clone())
    }
    async fn list_modified_since(
        &self,
        _: Option<DateTime<Utc>>,
        _: Option<String>,
        _: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        Err(self.0.clone())
    }
}
