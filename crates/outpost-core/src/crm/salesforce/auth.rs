//! Signing in to Salesforce: OAuth 2.0 with a refresh token (a connected
//! app an admin approved once) or client credentials (an integration
//! user). Salesforce says nothing about when an access token expires, so
//! a session is used until the API answers `INVALID_SESSION_ID`; then it
//! is renewed once. The token answer's `instance_url` is where the org's
//! API lives now (Salesforce moves orgs between instances); a rotated
//! refresh token is written back to the keyring.

use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem};
use crate::crm::http::{body_or_empty, Http};
use crate::endpoint::check_url;
use crate::endpoint::secrets::{SecretKind, SecretStore};
use crate::sensitive::Sensitive;

/// Salesforce's production login host; sandboxes use `test.salesforce.com`.
pub const LOGIN_TOKEN_URL: &str = "https://login.salesforce.com/services/oauth2/token";

pub enum Grant {
    RefreshToken(Mutex<Sensitive<String>>),
    ClientCredentials,
}

pub struct OAuth {
    pub endpoint: String,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Sensitive<String>,
    pub grant: Grant,
    pub secrets: Arc<dyn SecretStore>,
    session: Mutex<Option<Session>>,
}

/// An access token and the API base it is for.
#[derive(Clone)]
pub struct Session {
    pub token: Sensitive<String>,
    pub instance_url: Url,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

impl OAuth {
    pub fn new(
        endpoint: String,
        token_url: Url,
        client_id: String,
        client_secret: Sensitive<String>,
        grant: Grant,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        OAuth {
            endpoint,
            token_url,
            client_id,
            client_secret,
            grant,
            secrets,
            session: Mutex::new(None),
        }
    }

    /// The session to use now, signing in first when there is none.
    pub async fn session(&self, http: &Http) -> Result<Session, ConnectorError> {
        if let Some(s) = self.session.lock().await.as_ref() {
            return Ok(s.clone());
        }
        self.sign_in(http, None).await
    }

    /// After `INVALID_SESSION_ID` for `rejected`: a new session (or the
    /// one another request got meanwhile).
    pub async fn renew(&self, http: &Http, rejected: &Session) -> Result<Session, ConnectorError> {
        self.sign_in(http, Some(rejected)).await
    }

    async fn sign_in(
        &self,
        http: &Http,
        rejected: Option<&Session>,
    ) -> Result<Session, ConnectorError> {
        let mut session = self.session.lock().await;
        if let Some(current) = session.as_ref() {
            let same = rejected.is_some_and(|r| r.token.expose() == current.token.expose());
            if !same {
                return Ok(current.clone());
            }
        }
        *session = None;
        let refresh = match &self.grant {
            Grant::RefreshToken(t) => Some(t.lock().await),
            Grant::ClientCredentials => None,
        };
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("client_secret", self.client_secret.expose().clone()),
        ];
        match &refresh {
            Some(t) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", t.expose().clone()));
            }
            None => form.push(("grant_type", "client_credentials".into())),
        }
        // Salesforce does not count sign-ins against the org's budget.
        let timed = http
            .send_uncounted(http.client().post(self.token_url.clone()).form(&form))
            .await?;
        let status = timed.response.status().as_u16();
        if !timed.response.status().is_success() {
            let body: TokenError =
                serde_json::from_slice(&body_or_empty(timed.response).await).unwrap_or_default();
            return Err(token_refused(status, &body, refresh.is_some()));
        }
        let body: TokenResponse = timed.json("Salesforce token response").await?;
        let instance_url = check_url(&body.instance_url).map_err(|why| {
            ConnectorError::Protocol(format!("the token answer's instance_url: {why}"))
        })?;
        if let (Some(mut current), Some(new)) = (refresh, body.refresh_token) {
            if &new != current.expose() {
                let new = Sensitive::new(new);
                if let Err(e) = self
                    .secrets
                    .set(&self.endpoint, SecretKind::RefreshToken, &new)
                    .await
                {
                    tracing::error!(endpoint = %self.endpoint, error = %e, "could not store the rotated refresh token");
                }
                *current = new;
            }
        }
        let fresh = Session {
            token: Sensitive::new(body.access_token),
            instance_url,
        };
        *session = Some(fresh.clone());
        tracing::info!(endpoint = %self.endpoint, "Salesforce session started");
        Ok(fresh)
    }
}

/// Plain words for a refused sign-in. The description is Salesforce's,
/// never a secret.
fn token_refused(status: u16, body: &TokenError, refresh: bool) -> ConnectorError {
    let why = match body.error.as_str() {
        "invalid_grant" if refresh => "Salesforce refused the refresh token (revoked, expired, or the app's refresh token policy ended it); an admin must connect the app again".to_owned(),
        "invalid_grant" => format!(
            "Salesforce refused the client credentials flow ({}): in the connected app, enable the client credentials flow and set its run-as user",
            body.error_description
        ),
        "invalid_client_id" | "invalid_client" => {
            "Salesforce does not know this client id or secret: copy the consumer key and secret of the connected app again".to_owned()
        }
        "" => format!("the token endpoint answered HTTP {status}"),
        other => format!("Salesforce refused the sign-in: {other} ({})", body.error_description),
    };
    match status {
        400 | 401 | 403 => ConnectorError::Queue(QueueProblem::Unauthorized(why)),
        _ => classify_status(status, why, None),
    }
}
