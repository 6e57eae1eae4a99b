//! Signing in to Zoho: OAuth 2.0 with a refresh token (a self client or a
//! server-based client an admin made in Zoho's API console) at the
//! accounts server of the account's data centre. An access token lasts an
//! hour, and Zoho lets a refresh token mint only 10 per 10 minutes (30
//! alive), so the token is minted rarely and shared: it is cached in the
//! keyring with its expiry and API domain ([`SecretKind::AccessToken`], JSON
//! [`Cached`]), where the app and every CLI process find it. A process
//! reads the cache first and mints only when there is none, or it is within
//! [`RENEW_BEFORE`] of its end, or the API refused it (`INVALID_TOKEN`,
//! once). Token errors come as HTTP 200 with `{"error": ...}`; each says in
//! words what to do. No secret is ever part of a message or a log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem};
use crate::crm::http::{body_or_empty, Http};
use crate::endpoint::check_url;
use crate::endpoint::secrets::{SecretKind, SecretStore};
use crate::sensitive::Sensitive;

/// A cached token this close to its end is not used: a new one is minted.
pub const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
/// The first wait after the accounts server refused to mint (too many
/// tokens in 10 minutes); it doubles up to [`MINT_MAX_WAIT`].
const MINT_FIRST_WAIT: Duration = Duration::from_secs(60);
const MINT_MAX_WAIT: Duration = Duration::from_secs(10 * 60);

/// The keyring's cached access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub api_domain: String,
    /// Which client and accounts server minted it: a cache of other
    /// settings is not used.
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub token_url: String,
}

/// An access token and the API domain it is for.
#[derive(Clone)]
pub struct Session {
    pub token: Sensitive<String>,
    pub api_domain: Url,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - chrono::Duration::from_std(RENEW_BEFORE).expect("minutes") > now
    }
}

pub struct OAuth {
    endpoint: String,
    token_url: Url,
    client_id: String,
    client_secret: Sensitive<String>,
    refresh_token: Sensitive<String>,
    secrets: Arc<dyn SecretStore>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    session: Option<Session>,
    /// The accounts server refused to mint: not asked again before this.
    mint_blocked: Option<(tokio::time::Instant, Duration)>,
    /// Tokens minted by this process (tests and logs).
    minted: u64,
}

impl OAuth {
    pub fn new(
        endpoint: String,
        token_url: Url,
        client_id: String,
        client_secret: Sensitive<String>,
        refresh_token: Sensitive<String>,
        secrets: Arc<dyn SecretStore>,
    ) -> Self {
        OAuth {
            endpoint,
            token_url,
            client_id,
            client_secret,
            refresh_token,
            secrets,
            state: Mutex::new(State::default()),
        }
    }

    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// How many tokens this process minted.
    pub async fn minted(&self) -> u64 {
        self.state.lock().await.minted
    }

    /// The session to use now: this process's, else the keyring's, else
    /// a new one.
    pub async fn session(&self, http: &Http) -> Result<Session, ConnectorError> {
        self.get(http, None).await
    }

    /// After `INVALID_TOKEN` for `rejected`: the token another request or
    /// process got meanwhile, or a new one.
    pub async fn renew(&self, http: &Http, rejected: &Session) -> Result<Session, ConnectorError> {
        self.get(http, Some(rejected)).await
    }

    async fn get(
        &self,
        http: &Http,
        rejected: Option<&Session>,
    ) -> Result<Session, ConnectorError> {
        let mut state = self.state.lock().await;
        let now = Utc::now();
        let usable = |s: &Session| {
            s.fresh(now) && rejected.is_none_or(|r| r.token.expose() != s.token.expose())
        };
        if let Some(s) = state.session.as_ref().filter(|s| usable(s)) {
            return Ok(s.clone());
        }
        if let Some(s) = self.cached().await.filter(|s| usable(s)) {
            state.session = Some(s.clone());
            return Ok(s);
        }
        if let Some((until, wait)) = state.mint_blocked {
            if tokio::time::Instant::now() < until {
                return Err(mint_limited(until - tokio::time::Instant::now(), wait));
            }
        }
        let s = match self.mint(http).await {
            Ok(s) => s,
            Err(Minting::Limited) => {
                let wait = state
                    .mint_blocked
                    .map_or(MINT_FIRST_WAIT, |(_, w)| (w * 2).min(MINT_MAX_WAIT));
                state.mint_blocked = Some((tokio::time::Instant::now() + wait, wait));
                tracing::warn!(endpoint = %self.endpoint, wait_secs = wait.as_secs(), "Zoho refuses to mint access tokens for now (too many requests)");
                return Err(mint_limited(wait, wait));
            }
            Err(Minting::Failed(e)) => return Err(e),
        };
        state.mint_blocked = None;
        state.minted += 1;
        state.session = Some(s.clone());
        self.store(&s).await;
        Ok(s)
    }

    /// The keyring's token, when it was minted for these settings.
    async fn cached(&self) -> Option<Session> {
        let raw = match self
            .secrets
            .get(&self.endpoint, SecretKind::AccessToken)
            .await
        {
            Ok(v) => v?,
            Err(e) => {
                tracing::warn!(endpoint = %self.endpoint, error = %e, "could not read the cached Zoho access token");
                return None;
            }
        };
        let c: Cached = serde_json::from_str(raw.expose()).ok()?;
        if c.client_id != self.client_id || c.token_url != self.token_url.as_str() {
            return None;
        }
        Some(Session {
            token: Sensitive::new(c.token),
            api_domain: check_url(&c.api_domain).ok()?,
            expires_at: c.expires_at,
        })
    }

    async fn store(&self, s: &Session) {
        let c = Cached {
            token: s.token.expose().clone(),
            expires_at: s.expires_at,
            api_domain: s.api_domain.as_str().trim_end_matches('/').to_owned(),
            client_id: self.client_id.clone(),
            token_url: self.token_url.as_str().to_owned(),
        };
        let json = Sensitive::new(serde_json::to_string(&c).expect("a token serializes"));
        if let Err(e) = self
            .secrets
            .set(&self.endpoint, SecretKind::AccessToken, &json)
            .await
        {
            tracing::warn!(endpoint = %self.endpoint, error = %e, "could not cache the Zoho access token; the next process mints its own");
        }
    }

    async fn mint(&self, http: &Http) -> Result<Session, Minting> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose().as_str()),
            ("refresh_token", self.refresh_token.expose().as_str()),
        ];
        // The accounts server is not the API: no credit, no concurrency slot.
        let timed = http
            .send_uncounted(http.client().post(self.token_url.clone()).form(&form))
            .await
            .map_err(Minting::Failed)?;
        let status = timed.response.status().as_u16();
        let body = body_or_empty(timed.response).await;
        let host = self.token_url.host_str().unwrap_or("the accounts server");
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        let answer = match parsed {
            Some(Value::Object(m)) => m,
            _ if !(200..300).contains(&status) => {
                return Err(Minting::Failed(classify_status(
                    status,
                    format!("{host} answered HTTP {status}"),
                    None,
                )))
            }
            _ => {
                return Err(Minting::Failed(ConnectorError::Protocol(format!(
                    "{host} answered the token request with something else than JSON"
                ))))
            }
        };
        let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or("");
        if !text("error").is_empty() || text("access_token").is_empty() {
            return Err(token_refused(
                status,
                text("error"),
                text("error_description"),
                host,
            ));
        }
        let api_domain = check_url(text("api_domain")).map_err(|why| {
            Minting::Failed(ConnectorError::Protocol(format!(
                "the token answer's api_domain: {why}"
            )))
        })?;
        let expires_in = answer
            .get("expires_in")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0)
            .unwrap_or(3600);
        tracing::info!(endpoint = %self.endpoint, api_domain = %api_domain, "Zoho access token minted");
        Ok(Session {
            token: Sensitive::new(text("access_token").to_owned()),
            api_domain,
            expires_at: Utc::now() + chrono::Duration::seconds(expires_in),
        })
    }
}

pub(super) enum Minting {
    /// The accounts server's minting limit: wait, never spin.
    Limited,
    Failed(ConnectorError),
}

fn mint_limited(left: Duration, wait: Duration) -> ConnectorError {
    ConnectorError::Transient {
        reason: format!(
            "Zoho's accounts server refuses new access tokens for now (a refresh token may mint only 10 in 10 minutes); waiting {} s before asking again",
            wait.as_secs()
        ),
        retry_after: Some(left),
    }
}

/// Plain words for a refused token request. Zoho's words are kept; a
/// secret never is.
pub(super) fn token_refused(status: u16, error: &str, description: &str, host: &str) -> Minting {
    let lower = format!("{error} {description}").to_ascii_lowercase();
    if lower.contains("too many requests") || error.eq_ignore_ascii_case("access denied") {
        return Minting::Limited;
    }
    let why = match error {
        "invalid_client" => format!(
            "the client id or secret was not accepted by {host}: copy both again from the client in Zoho's API console (api-console.zoho.com of your data centre)"
        ),
        "invalid_code" => format!(
            "the refresh token was not accepted by {host}: it may belong to another Zoho data centre (the accounts server of the data centre where the Zoho account lives: .com, .eu, .in, .com.au, .jp, .com.cn, zohocloud.ca, .sa), or it was revoked; generate a new one as docs/connectors/zoho.md says"
        ),
        "" => format!("{host} answered HTTP {status} without an access token"),
        other if description.is_empty() => format!("{host} refused the sign-in: {other}"),
        other => format!("{host} refused the sign-in: {other} ({description})"),
    };
    Minting::Failed(ConnectorError::Queue(QueueProblem::Unauthorized(why)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(m: Minting) -> String {
        match m {
            Minting::Failed(e) => e.to_string(),
            Minting::Limited => "limited".into(),
        }
    }

    #[test]
    fn token_errors_say_what_to_do() {
        let host = "accounts.zoho.eu";
        let w = words(token_refused(200, "invalid_code", "", host));
        assert!(
            w.contains("the refresh token was not accepted by accounts.zoho.eu"),
            "{w}"
        );
        assert!(w.contains("another Zoho data centre"), "{w}");
        let w = words(token_refused(200, "invalid_client", "", host));
        assert!(
            w.contains("the client id or secret was not accepted"),
            "{w}"
        );
        assert_eq!(
            words(token_refused(
                200,
                "Access Denied",
                "You have made too many requests continuously. Please try again after some time.",
                host
            )),
            "limited"
        );
        assert!(words(token_refused(200, "", "", host)).contains("HTTP 200"));
        let m = mint_limited(Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(m.retry_after(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn a_cache_keeps_its_format() {
        let c: Cached = serde_json::from_str(
            r#"{"token":"t","expires_at":"2026-12-04T10:00:00Z","api_domain":"https://www.zohoapis.eu"}"#,
        )
        .unwrap();
        assert_eq!(c.api_domain, "https://www.zohoapis.eu");
        assert!(c.client_id.is_empty());
    }
}
