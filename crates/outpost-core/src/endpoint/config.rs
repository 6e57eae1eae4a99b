//! A configured CRM endpoint: where it is, what kind, how creations behave
//! when it is unreachable. Validated before it is stored.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use std::collections::BTreeMap;

use crate::customer::Field;
use crate::error::{FieldError, ValidationErrors};
use crate::template::Range;

/// The ranges of the whole-number settings (exported to the UI's model, so
/// the settings form says what the core says).
pub mod limits {
    use crate::template::Range;

    pub const PRIORITY: Range = Range {
        min: 0,
        max: 1000,
        message: "Use a priority from {min} to {max}.",
    };
    pub const BATCH_SIZE: Range = Range {
        min: 1,
        max: 1000,
        message: "Use a batch size from {min} to {max}.",
    };
    pub const RATE_LIMIT: Range = Range {
        min: 1,
        max: 100_000,
        message: "Use a rate limit from {min} to {max} requests.",
    };
    pub const RATE_WINDOW_SECS: Range = Range {
        min: 1,
        max: 3600,
        message: "Use a window from {min} to {max} seconds.",
    };
    pub const PULL_MODIFIED_WITHIN_DAYS: Range = Range {
        min: 1,
        max: 3650,
        message: "Use {min} to {max} days, or leave empty to keep every customer.",
    };
    /// Salesforce: a device's share of the org's daily API requests.
    /// Zoho: requests in flight at once (the edition's concurrency limit).
    pub const CONCURRENCY: Range = Range {
        min: 1,
        max: 100,
        message: "Use a concurrency from {min} to {max} requests in flight.",
    };
    pub const DAILY_REQUEST_CAP: Range = Range {
        min: 1,
        max: 10_000_000,
        message: "Use a daily request cap from {min} to {max} requests.",
    };
    /// The shop number in generic REST keys (`crate::keys::ShopKeys::MAX_SHOP`).
    pub const KEY_SHOP: Range = Range {
        min: 1,
        max: crate::keys::ShopKeys::MAX_SHOP as i64,
        message: "Use a shop number from {min} to {max}.",
    };
}

/// A new endpoint's priority when none is given (the CLI's default, the
/// settings form's for the first endpoint).
pub const DEFAULT_PRIORITY: i64 = 100;

/// How the URL rule of [`check_url`] reads beside the field.
pub const URL_RULE: &str = "Use https://. Plain http:// is only allowed to this computer (localhost, 127.0.0.1 or ::1), for example the bundled CRM emulator.";
/// The example URL the messages and the form use.
pub const EXAMPLE_URL: &str = "https://crm.example.com";
pub const CLIENT_ID_REQUIRED: &str = "OAuth needs the app's client id.";
pub const ZOHO_TOKEN_URL_REQUIRED: &str = "Zoho signs in at the accounts server of your data centre: enter e.g. https://accounts.zoho.com/oauth/v2/token (.eu, .in, .com.au, .jp, .com.cn, accounts.zohocloud.ca, accounts.zoho.sa).";
pub const DYNAMICS_TOKEN_URL_REQUIRED: &str = "Dynamics signs in at your tenant's Entra ID: enter https://login.microsoftonline.com/TENANT/oauth2/v2.0/token (TENANT: the directory (tenant) id).";

/// Fields an admin may add to the creation form: each one's value is an
/// attribute, and a customer carries a bounded number of them.
/// The longest OAuth scope an admin can set (Entra's `{resource}/.default`
/// or a few space-separated names fit many times over).
pub const MAX_SCOPE_CHARS: usize = 1024;
pub const MAX_FORM_EXTRAS: usize = crate::customer::validation::limits::ATTRIBUTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum EndpointKind {
    GenericRest,
    Hubspot,
    Bottlecrm,
    Salesforce,
    /// Dynamics 365 / Dataverse Web API.
    Dynamics,
    /// Zoho CRM (REST API v8).
    Zoho,
}

impl EndpointKind {
    pub const ALL: [EndpointKind; 6] = [
        EndpointKind::GenericRest,
        EndpointKind::Hubspot,
        EndpointKind::Bottlecrm,
        EndpointKind::Salesforce,
        EndpointKind::Dynamics,
        EndpointKind::Zoho,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::GenericRest => "generic-rest",
            EndpointKind::Hubspot => "hubspot",
            EndpointKind::Bottlecrm => "bottlecrm",
            EndpointKind::Salesforce => "salesforce",
            EndpointKind::Dynamics => "dynamics",
            EndpointKind::Zoho => "zoho",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What a person reads in the settings.
    pub fn label(self) -> &'static str {
        match self {
            EndpointKind::GenericRest => "Generic REST",
            EndpointKind::Hubspot => "HubSpot",
            EndpointKind::Bottlecrm => "BottleCRM",
            EndpointKind::Salesforce => "Salesforce",
            EndpointKind::Dynamics => "Dynamics 365",
            EndpointKind::Zoho => "Zoho CRM",
        }
    }

    /// What this kind calls its static token.
    pub fn token_label(self) -> &'static str {
        match self {
            EndpointKind::Hubspot => "Private app token",
            _ => "API token",
        }
    }

    /// Whether the working set can be limited to one CRM owner (`pull_owner`).
    /// Whether its keys can carry a shop number (`key_shop`): only the
    /// generic REST API lets a CRM ask for a key format.
    pub fn takes_shop_number(self) -> bool {
        self == EndpointKind::GenericRest
    }

    pub fn filters_by_owner(self) -> bool {
        matches!(self, EndpointKind::Hubspot | EndpointKind::Salesforce)
    }

    /// The CRM field holding Outpost's key by default, for kinds that
    /// keep it in a field an admin creates (`key_property`).
    pub fn default_key_property(self) -> Option<&'static str> {
        match self {
            EndpointKind::Hubspot => Some(crate::crm::hubspot::DEFAULT_KEY_PROPERTY),
            EndpointKind::Salesforce => Some(crate::crm::salesforce::DEFAULT_KEY_FIELD),
            EndpointKind::Dynamics => Some(crate::crm::dynamics::DEFAULT_KEY_PROPERTY),
            EndpointKind::Zoho => Some(crate::crm::zoho::DEFAULT_KEY_FIELD),
            EndpointKind::GenericRest | EndpointKind::Bottlecrm => None,
        }
    }

    /// How this kind of CRM can authenticate Outpost.
    pub fn auth_methods(self) -> &'static [AuthMethod] {
        match self {
            EndpointKind::GenericRest => &[AuthMethod::Token, AuthMethod::OauthClientCredentials],
            EndpointKind::Hubspot => &[AuthMethod::Token, AuthMethod::OauthRefresh],
            EndpointKind::Bottlecrm => &[AuthMethod::Token],
            EndpointKind::Salesforce => {
                &[AuthMethod::OauthRefresh, AuthMethod::OauthClientCredentials]
            }
            // An application user signs in through Entra ID.
            EndpointKind::Dynamics => &[AuthMethod::OauthClientCredentials],
            // A self client's or server-based client's refresh token.
            EndpointKind::Zoho => &[AuthMethod::OauthRefresh],
        }
    }
}

/// Openbravo's "connectivity type": may creations queue while the CRM is away?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Connectivity {
    /// Creations are stored and queued whatever the CRM's state.
    #[default]
    OnlineOffline,
    /// A creation is refused while the CRM is unreachable; nothing is queued.
    OnlineOnly,
}

impl Connectivity {
    pub fn as_str(self) -> &'static str {
        match self {
            Connectivity::OnlineOffline => "online-offline",
            Connectivity::OnlineOnly => "online-only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Connectivity::OnlineOffline, Connectivity::OnlineOnly]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// How the endpoint authenticates. The secrets themselves are in the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum AuthMethod {
    /// A static API / private-app token.
    #[default]
    Token,
    /// OAuth2 refresh-token flow (client id here; secret and refresh token in the keyring).
    OauthRefresh,
    /// OAuth2 client credentials, RFC 6749 §4.4 (client id here; secret in the keyring).
    OauthClientCredentials,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [
        AuthMethod::Token,
        AuthMethod::OauthRefresh,
        AuthMethod::OauthClientCredentials,
    ];

    /// What a person reads in the settings.
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Token => "API token",
            AuthMethod::OauthRefresh => "OAuth refresh token",
            AuthMethod::OauthClientCredentials => "OAuth client credentials",
        }
    }

    /// OAuth needs the app's client id (in the settings, not the keyring).
    pub fn needs_client_id(self) -> bool {
        self != AuthMethod::Token
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Token => "token",
            AuthMethod::OauthRefresh => "oauth-refresh",
            AuthMethod::OauthClientCredentials => "oauth-client-credentials",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Non-secret settings; every field has a connector default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export, optional_fields)]
pub struct EndpointSettings {
    pub auth: AuthMethod,
    pub client_id: Option<String>,
    /// Records per request; the connector's maximum when absent.
    pub batch_size: Option<u32>,
    /// Requests allowed per `rate_window_secs`; the connector's default when absent.
    pub rate_limit: Option<u32>,
    pub rate_window_secs: Option<u32>,
    /// The CRM property holding Outpost's key (HubSpot: a unique custom property).
    pub key_property: Option<String>,
    /// Generic REST: this shop's number (1 to 999999), carried in the key of
    /// every customer created here (`ShopKeys`); UUIDv7 keys when absent.
    pub key_shop: Option<u32>,
    /// Keep a working set of the CRM's customers on this device (default on).
    pub pull_enabled: Option<bool>,
    /// Only customers changed in the last N days (all when absent).
    pub pull_modified_within_days: Option<u32>,
    /// Only customers in this country (region), as the CRM stores it.
    pub pull_country: Option<String>,
    /// Only customers owned by this CRM user (HubSpot owner id).
    pub pull_owner: Option<String>,
    /// An admin's field mapping: Outpost field → CRM field, over the
    /// connector's defaults (`--map notes=description`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<Field, String>>")]
    pub field_map: BTreeMap<Field, String>,
    /// CRM fields an admin added to the creation form (`--map +store_id`);
    /// their values travel as the customer's attributes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<String>>")]
    pub form_extra: Vec<String>,
    /// Salesforce: which object the customers are (Contact by default);
    /// Zoho: which module (`--module Contacts|Leads`; Contacts by default).
    pub crm_object: Option<CrmObject>,
    /// The OAuth token endpoint. Salesforce: production login by default
    /// (`https://test.salesforce.com/services/oauth2/token` for a sandbox,
    /// or the org's My Domain). Generic REST with client credentials:
    /// `{base URL}/oauth/token` by default, or an identity provider on
    /// another host (Keycloak, Microsoft Entra ID).
    pub token_url: Option<String>,
    /// Generic REST with client credentials: the scope to ask the token
    /// endpoint for (none by default; Entra ID wants `{resource}/.default`).
    pub scope: Option<String>,
    /// Salesforce: at most this many API requests per rolling 24 hours from
    /// this device, so a fleet leaves the org's budget to others.
    pub daily_request_cap: Option<u32>,
    /// Salesforce: save a record a duplicate rule matched
    /// (`Sforce-Duplicate-Rule-Header: allowSave=true`); off by default.
    pub allow_duplicates: Option<bool>,
    /// Dynamics: the Web API version, `9.N` ("9.2" by default); Zoho: the
    /// REST API version, `2` or `5` to `8` ("8" by default).
    pub api_version: Option<String>,
    /// Dynamics: ask Dataverse to run its duplicate detection rules
    /// (`MSCRM.SuppressDuplicateDetection: false`); off by default.
    pub duplicate_detection: Option<bool>,
    /// Zoho: at most this many requests in flight at once (the edition's
    /// concurrency limit; 10 by default, Standard's).
    pub concurrency: Option<u32>,
}

/// The Salesforce object customers become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum CrmObject {
    #[default]
    Contact,
    Lead,
}

impl CrmObject {
    pub fn as_str(self) -> &'static str {
        match self {
            CrmObject::Contact => "contact",
            CrmObject::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [CrmObject::Contact, CrmObject::Lead]
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s))
    }
}

impl EndpointSettings {
    pub fn pulls(&self) -> bool {
        self.pull_enabled.unwrap_or(true)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EndpointConfig {
    pub name: String,
    pub kind: EndpointKind,
    pub base_url: String,
    pub connectivity: Connectivity,
    /// Lower is preferred; the lowest is the primary endpoint. A JSON number
    /// on the wire (0 to 1000 once validated), not a TypeScript bigint.
    #[ts(type = "number")]
    pub priority: i64,
    pub settings: EndpointSettings,
}

impl EndpointConfig {
    /// Checks every field, reporting each problem against its field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            errors.push(FieldError::new(
                "name",
                "Use 1 to 64 letters, digits, '-', '_' or '.'.",
            ));
        }
        if let Err(msg) = check_url(&self.base_url) {
            errors.push(FieldError::new("base_url", msg));
        }
        let range = |field: &str, rule: Range, value: Option<i64>| {
            let words = value.and_then(|v| rule.check(v).err());
            words.map(|w| FieldError::new(field, w))
        };
        let s = &self.settings;
        errors.extend(range("priority", limits::PRIORITY, Some(self.priority)));
        errors.extend(range(
            "batch_size",
            limits::BATCH_SIZE,
            s.batch_size.map(i64::from),
        ));
        errors.extend(range(
            "rate_limit",
            limits::RATE_LIMIT,
            s.rate_limit.map(i64::from),
        ));
        errors.extend(range(
            "rate_window_secs",
            limits::RATE_WINDOW_SECS,
            s.rate_window_secs.map(i64::from),
        ));
        if let Some(p) = &self.settings.key_property {
            if p.is_empty()
                || p.len() > 100
                || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                errors.push(FieldError::new(
                    "key_property",
                    "A property name uses letters, digits and '_' (at most 100).",
                ));
            }
        }
        errors.extend(range(
            "pull_modified_within_days",
            limits::PULL_MODIFIED_WITHIN_DAYS,
            s.pull_modified_within_days.map(i64::from),
        ));
        if s.key_shop.is_some() && !self.kind.takes_shop_number() {
            errors.push(FieldError::new(
                "key_shop",
                "Only the generic REST connector puts a shop number in its keys.",
            ));
        } else {
            errors.extend(range(
                "key_shop",
                limits::KEY_SHOP,
                s.key_shop.map(i64::from),
            ));
        }
        let short_value = |v: &Option<String>| {
            v.as_deref()
                .is_none_or(|v| !v.trim().is_empty() && v.chars().count() <= 100)
        };
        if !short_value(&self.settings.pull_country) {
            errors.push(FieldError::new(
                "pull_country",
                "Enter the country as the CRM stores it (e.g. DE), at most 100 characters.",
            ));
        }
        if !short_value(&self.settings.pull_owner) {
            errors.push(FieldError::new(
                "pull_owner",
                "Enter the CRM owner id, at most 100 characters.",
            ));
        } else if self.settings.pull_owner.is_some() && !self.kind.filters_by_owner() {
            errors.push(FieldError::new(
                "pull_owner",
                "Only HubSpot and Salesforce can limit the working set to one owner.",
            ));
        }
        let crm_name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 100
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        for (field, crm) in &self.settings.field_map {
            if !crm_name_ok(crm) {
                errors.push(FieldError::new(
                    "map",
                    format!("{field}: a CRM field name uses letters, digits, '_', '.' or '-' (at most 100)."),
                ));
            }
        }
        // An extra's value is stored as an attribute, so it is named like one.
        let attribute_name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        for crm in &self.settings.form_extra {
            if !attribute_name_ok(crm) {
                errors.push(FieldError::new(
                    "map",
                    format!("+{crm}: a form extra is named with lower-case letters, digits and '_' (at most 64)."),
                ));
            }
        }
        if self.settings.form_extra.len() > MAX_FORM_EXTRAS {
            errors.push(FieldError::new(
                "map",
                format!("At most {MAX_FORM_EXTRAS} fields can be added to the form."),
            ));
        }
        errors.extend(self.map_conflicts());
        errors.extend(self.oauth_settings());
        errors.extend(self.salesforce_settings());
        errors.extend(self.dynamics_settings());
        errors.extend(self.zoho_settings());
        let auth = self.settings.auth;
        if !self.kind.auth_methods().contains(&auth) {
            let methods: Vec<&str> = self
                .kind
                .auth_methods()
                .iter()
                .map(|a| a.as_str())
                .collect();
            errors.push(FieldError::new(
                "auth",
                format!(
                    "{} signs in with {}, not {}.",
                    self.kind.as_str(),
                    methods.join(" or "),
                    auth.as_str()
                ),
            ));
        }
        let client_id = self.settings.client_id.as_deref().unwrap_or("");
        if auth.needs_client_id() && client_id.trim().is_empty() {
            errors.push(FieldError::new("client_id", CLIENT_ID_REQUIRED));
        } else if client_id.len() > 512 || client_id.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "client_id",
                "A client id is one line of at most 512 characters.",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }

    /// Two Outpost fields sent to one CRM field, a form extra that is also a
    /// mapped field, or a mapping onto the CRM field holding Outpost's key:
    /// each would overwrite another value on its way to the CRM.
    fn map_conflicts(&self) -> Vec<FieldError> {
        let map = crate::crm::field_map(self);
        let mut errors = Vec::new();
        let sent: Vec<_> = map
            .mappings()
            .iter()
            .filter(|m| m.direction.sends())
            .collect();
        for (i, a) in sent.iter().enumerate() {
            if let Some(b) = sent[..i].iter().find(|b| b.crm == a.crm) {
                errors.push(FieldError::new(
                    "map",
                    format!(
                        "{} and {} would both be sent to {}: map one of them elsewhere.",
                        b.field, a.field, a.crm
                    ),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for extra in &self.settings.form_extra {
            if let Some(field) = Field::from_name(extra) {
                errors.push(FieldError::new(
                    "map",
                    format!("+{extra} is an Outpost field: map it with {field}={extra} instead."),
                ));
            } else if !seen.insert(extra) {
                errors.push(FieldError::new(
                    "map",
                    format!("+{extra} is added to the form twice."),
                ));
            } else if let Some(m) = sent.iter().find(|m| &m.crm == extra) {
                errors.push(FieldError::new(
                    "map",
                    format!(
                        "+{extra}: {} is already mapped to {extra}, so it cannot also be a form extra.",
                        m.field
                    ),
                ));
            }
        }
        let key = self
            .settings
            .key_property
            .as_deref()
            .or(self.kind.default_key_property())
            .filter(|_| self.kind.default_key_property().is_some());
        if let Some(key) = key {
            for m in sent.iter().filter(|m| m.crm == key) {
                errors.push(FieldError::new(
                    "map",
                    format!(
                        "{}: {key} holds Outpost's key and cannot hold a customer field.",
                        m.field
                    ),
                ));
            }
            if self.settings.form_extra.iter().any(|e| e == key) {
                errors.push(FieldError::new(
                    "map",
                    format!("+{key} holds Outpost's key and cannot be filled in the form."),
                ));
            }
        }
        errors
    }

    /// The token endpoint and scope: only OAuth sign-ins take them.
    fn oauth_settings(&self) -> Vec<FieldError> {
        let s = &self.settings;
        let mut errors = Vec::new();
        let client_credentials = matches!(
            self.kind,
            EndpointKind::GenericRest | EndpointKind::Dynamics
        ) && s.auth == AuthMethod::OauthClientCredentials;
        let own_token_url = matches!(self.kind, EndpointKind::Salesforce | EndpointKind::Zoho);
        if s.token_url.is_some() && !(client_credentials || own_token_url) {
            errors.push(FieldError::new(
                "token_url",
                "Only Salesforce, Dynamics, Zoho and OAuth client credentials (generic REST) use a token URL.",
            ));
        } else if let Some(Err(msg)) = s.token_url.as_deref().map(check_url) {
            errors.push(FieldError::new("token_url", msg));
        }
        if let Some(scope) = &s.scope {
            if !client_credentials {
                errors.push(FieldError::new(
                    "scope",
                    "Only OAuth client credentials (generic REST, Dynamics) ask for a scope; Salesforce takes its scopes from the connected app.",
                ));
            } else if scope.trim().is_empty()
                || scope.chars().count() > MAX_SCOPE_CHARS
                || scope.chars().any(char::is_control)
            {
                errors.push(FieldError::new(
                    "scope",
                    format!("Enter the scope on one line, at most {MAX_SCOPE_CHARS} characters (e.g. https://crm.example.com/.default)."),
                ));
            }
        }
        errors
    }

    /// The settings only Salesforce takes: refused elsewhere, checked there.
    fn salesforce_settings(&self) -> Vec<FieldError> {
        let s = &self.settings;
        let mut errors = Vec::new();
        if self.kind != EndpointKind::Salesforce {
            let object = s.crm_object.is_some() && self.kind != EndpointKind::Zoho;
            for (set, field) in [
                (object, "object"),
                (s.daily_request_cap.is_some(), "daily_request_cap"),
                (s.allow_duplicates.is_some(), "allow_duplicates"),
            ] {
                if set {
                    errors.push(FieldError::new(
                        field,
                        "Only the Salesforce connector takes this setting.",
                    ));
                }
            }
            return errors;
        }
        let cap = s.daily_request_cap.map(i64::from);
        if let Some(words) = cap.and_then(|v| limits::DAILY_REQUEST_CAP.check(v).err()) {
            errors.push(FieldError::new("daily_request_cap", words));
        }
        errors
    }

    /// The settings only Dynamics takes; its tenant's token URL is required.
    fn dynamics_settings(&self) -> Vec<FieldError> {
        let s = &self.settings;
        let mut errors = Vec::new();
        if self.kind != EndpointKind::Dynamics {
            let version = s.api_version.is_some() && self.kind != EndpointKind::Zoho;
            for (set, field) in [
                (version, "api_version"),
                (s.duplicate_detection.is_some(), "duplicate_detection"),
            ] {
                if set {
                    errors.push(FieldError::new(
                        field,
                        "Only the Dynamics connector takes this setting.",
                    ));
                }
            }
            return errors;
        }
        if s.token_url.is_none() {
            errors.push(FieldError::new("token_url", DYNAMICS_TOKEN_URL_REQUIRED));
        }
        if let Some(v) = &s.api_version {
            if crate::crm::dynamics::api_version_ok(v).is_none() {
                errors.push(FieldError::new(
                    "api_version",
                    "Use a Web API version from 9.0 to 9.2 (e.g. 9.2).",
                ));
            }
        }
        errors
    }

    /// The settings only Zoho takes; the data centre's accounts server is
    /// required, and only Zoho's own hosts (or this computer's, for the
    /// emulator) get the client secret and the refresh token.
    fn zoho_settings(&self) -> Vec<FieldError> {
        let s = &self.settings;
        let mut errors = Vec::new();
        if self.kind != EndpointKind::Zoho {
            if s.concurrency.is_some() {
                errors.push(FieldError::new(
                    "concurrency",
                    "Only the Zoho connector takes this setting.",
                ));
            }
            return errors;
        }
        match s.token_url.as_deref().map(check_url) {
            None => errors.push(FieldError::new("token_url", ZOHO_TOKEN_URL_REQUIRED)),
            Some(Ok(url)) if !crate::crm::zoho::accounts_host_ok(&url) => {
                errors.push(FieldError::new(
                    "token_url",
                    format!(
                        "{} is not a Zoho accounts server. {ZOHO_TOKEN_URL_REQUIRED}",
                        url.host_str().unwrap_or("")
                    ),
                ))
            }
            // Malformed: `oauth_settings` said so.
            Some(_) => {}
        }
        if let Some(v) = &s.api_version {
            if crate::crm::zoho::api_version_ok(v).is_none() {
                errors.push(FieldError::new(
                    "api_version",
                    "Use Zoho API version 8 (or 2, 5, 6, 7).",
                ));
            }
        }
        let concurrency = s.concurrency.map(i64::from);
        if let Some(words) = concurrency.and_then(|v| limits::CONCURRENCY.check(v).err()) {
            errors.push(FieldError::new("concurrency", words));
        }
        errors
    }

    /// The OAuth scope: the one set, else Dynamics' `{org URL}/.default`.
    pub fn scope(&self) -> Option<String> {
        match &self.settings.scope {
            Some(s) => Some(s.clone()),
            // Entra's resource is the organization, without any path.
            None if self.kind == EndpointKind::Dynamics => Some(format!(
                "{}/.default",
                self.url().origin().ascii_serialization()
            )),
            None => None,
        }
    }

    /// The OAuth token endpoint: the one set, else the kind's default
    /// (Salesforce's login; `{base URL}/oauth/token` for generic REST).
    pub fn token_url(&self) -> Url {
        match self.settings.token_url.as_deref() {
            Some(raw) => Url::parse(raw).expect("validated before use"),
            None if self.kind == EndpointKind::Salesforce => {
                Url::parse(crate::crm::salesforce::LOGIN_TOKEN_URL).expect("a valid constant")
            }
            None => crate::crm::http::join(&self.url(), "oauth/token"),
        }
    }

    pub fn url(&self) -> Url {
        Url::parse(&self.base_url).expect("validated before use")
    }
}

/// https everywhere; plain http only to this machine (the emulator, a local proxy).
pub fn check_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim())
        .map_err(|e| format!("Not a URL ({e}); write it like {EXAMPLE_URL}."))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(
                "Plain http is only allowed to this machine (localhost); use https so customer data and credentials are encrypted."
                    .into(),
            )
        }
        other => return Err(format!("Use an https:// URL, not {other}://.")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The URL has no host name.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Do not put credentials in the URL; enter them as the token instead.".into());
    }
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://localhost:1").is_ok());
        assert!(check_url("http://[::1]:9").is_ok());
        assert!(check_url("https://crm.example.com/api").is_ok());
        assert!(check_url("http://crm.example.com")
            .unwrap_err()
            .contains("https"));
        assert!(check_url("http://10.0.0.1").is_err());
        assert!(check_url("ftp://x.example").is_err());
        assert!(check_url("https://user:pw@x.example").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn reports_each_bad_field() {
        let c = EndpointConfig {
            name: "bad name!".into(),
            kind: EndpointKind::Hubspot,
            base_url: "http://crm.example.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: -1,
            settings: EndpointSettings {
                batch_size: Some(0),
                rate_window_secs: Some(3601),
                ..Default::default()
            },
        };
        let e = c.validate().unwrap_err();
        for f in [
            "name",
            "base_url",
            "priority",
            "batch_size",
            "rate_window_secs",
        ] {
            assert!(e.for_field(f).is_some(), "{f}");
        }
    }

    #[test]
    fn each_kind_takes_its_own_sign_in_methods() {
        let with = |kind, auth, client_id: Option<&str>| EndpointConfig {
            name: "crm".into(),
            kind,
            base_url: "https://crm.example.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                auth,
                client_id: client_id.map(str::to_owned),
                ..Default::default()
            },
        };
        let cc = AuthMethod::OauthClientCredentials;
        assert!(with(EndpointKind::GenericRest, cc, Some("id"))
            .validate()
            .is_ok());
        let e = with(EndpointKind::GenericRest, cc, None)
            .validate()
            .unwrap_err();
        assert!(e.for_field("client_id").is_some());
        let e = with(EndpointKind::Hubspot, cc, Some("id"))
            .validate()
            .unwrap_err();
        assert_eq!(
            e.for_field("auth"),
            Some("hubspot signs in with token or oauth-refresh, not oauth-client-credentials.")
        );
        let e = with(
            EndpointKind::Bottlecrm,
            AuthMethod::OauthRefresh,
            Some("id"),
        )
        .validate()
        .unwrap_err();
        assert!(e.for_field("auth").is_some());
        assert_eq!(
            AuthMethod::parse("oauth-client-credentials"),
            Some(cc),
            "the CLI's spelling is serde's"
        );
        assert_eq!(
            serde_json::to_value(cc).unwrap(),
            serde_json::json!("oauth-client-credentials")
        );
    }

    #[test]
    fn the_rate_window_is_one_second_to_an_hour() {
        let with_window = |w| EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::GenericRest,
            base_url: "https://crm.example.com".into(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings {
                rate_window_secs: Some(w),
                ..Default::default()
            },
        };
        for ok in [1, 10, 3600] {
            assert!(with_window(ok).validate().is_ok(), "{ok}");
        }
        for bad in [0, 3601, u32::MAX] {
            let e = with_window(bad).validate().unwrap_err();
            assert_eq!(
                e.for_field("rate_window_secs"),
                Some("Use a window from 1 to 3600 seconds.")
            );
        }
    }
}
