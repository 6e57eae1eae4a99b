//! HubSpot authentication: a private app's static token, or OAuth with a
//! refresh token. OAuth access tokens are refreshed shortly before they expire
//! (HubSpot says a 401 "is not a valid indicator" of expiry) and once more on a
//! 401; a rotated refresh token is written back to the keyring.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::crm::auth::TokenSource;
use crate::crm::error::{classify_status, ConnectorError, QueueProblem};
use crate::crm::http::Http;
use crate::endpoint::secrets::{SecretKind, SecretStore};
use crate::sensitive::Sensitive;

/// Refresh this long before the token's stated expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(120);

pub enum Auth {
    PrivateApp(Sensitive<String>),
    OAuth(Box<OAuth>),
}

pub struct OAuth {
    pub endpoint: String,
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Sensitive<String>,
    pub refresh_token: Mutex<Sensitive<String>>,
    pub secrets: Arc<dyn SecretStore>,
    pub access: Mutex<Option<(Sensitive<String>, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

#[async_trait::async_trait]
impl TokenSource for Auth {
    /// The bearer token to use now, refreshing first if it is about to expire.
    async fn bearer(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError> {
        match self {
            Auth::PrivateApp(t) => Ok(t.clone()),
            Auth::OAuth(o) => {
                {
                    let access = o.access.lock().await;
                    if let Some((token, expires)) = access.as_ref() {
                        if Instant::now() + REFRESH_MARGIN < *expires {
                            return Ok(token.clone());
                        }
                    }
                }
                o.refresh(http).await
            }
        }
    }

    /// After a 401: forget the access token and get a new one. A private-app
    /// token cannot be renewed, so the 401 stands.
    async fn renew(
        &self,
        http: &Http,
        _rejected: &Sensitive<String>,
    ) -> Option<Result<Sensitive<String>, ConnectorError>> {
        match self {
            Auth::PrivateApp(_) => None,
            Auth::OAuth(o) => {
                *o.access.lock().await = None;
                Some(o.refresh(http).await)
            }
        }
    }
}

impl OAuth {
    async fn refresh(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError> {
        let mut refresh_token = self.refresh_token.lock().await;
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose().as_str()),
            ("refresh_token", refresh_token.expose().as_str()),
        ];
        let timed = http
            .send(http.client().post(self.token_url.clone()).form(&form))
            .await?;
        let status = timed.response.status().as_u16();
        if status == 400 || status == 401 {
            // invalid_grant: the refresh token was revoked or has expired.
            return Err(ConnectorError::Queue(QueueProblem::Unauthorized(
                "HubSpot refused the OAuth refresh token; an admin must connect the app again"
                    .into(),
            )));
        }
        if !timed.response.status().is_success() {
            return Err(classify_status(
                status,
                format!("token endpoint answered HTTP {status}"),
                None,
            ));
        }
        let body: TokenResponse = timed
            .response
            .json()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable token response: {e}")))?;
        if let Some(new) = body.refresh_token.filter(|t| t != refresh_token.expose()) {
            let new = Sensitive::new(new);
            if let Err(e) = self
                .secrets
                .set(&self.endpoint, SecretKind::RefreshToken, &new)
                .await
            {
                tracing::error!(endpoint = %self.endpoint, error = %e, "could not store the rotated refresh token");
            }
            *refresh_token = new;
        }
        let token = Sensitive::new(body.access_token);
        *self.access.lock().await = Some((
            token.clone(),
            Instant::now() + Duration::from_secs(body.expires_in),
        ));
        tracing::info!(endpoint = %self.endpoint, expires_in = body.expires_in, "HubSpot access token refreshed");
        Ok(token)
    }
}
