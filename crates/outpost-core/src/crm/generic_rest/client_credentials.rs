//! OAuth 2.0 client credentials (RFC 6749 §4.4) for the generic REST
//! contract: a client id and secret buy a short-lived bearer token at the
//! CRM's `POST /oauth/token`, or at an identity provider's token endpoint
//! (Keycloak, Entra ID) with the scope it asks for. The token is cached and bought again shortly
//! before it expires, and once more when the API answers 401 anyway (a token
//! can be revoked early). Only one purchase runs at a time: the requests in
//! flight wait for it instead of each buying their own.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::crm::error::{classify_status, ConnectorError, QueueProblem};
use crate::crm::http::Http;
use crate::sensitive::Sensitive;

/// Buy a new token this long before the old one expires (less for short
/// lifetimes: a quarter of the lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

pub struct ClientCredentials {
    endpoint: String,
    token_url: Url,
    scope: Option<String>,
    client_id: String,
    client_secret: Sensitive<String>,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    token: Sensitive<String>,
    /// When to buy the next one; `None` when the server gave no lifetime.
    renew_at: Option<Instant>,
}

impl Cached {
    fn fresh_at(&self, now: Instant) -> bool {
        self.renew_at.is_none_or(|at| now < at)
    }
}

/// When a token obtained at `obtained` and valid for `expires_in` seconds
/// should be replaced.
fn renew_at(obtained: Instant, expires_in: Option<u64>) -> Option<Instant> {
    let lifetime = Duration::from_secs(expires_in?);
    Some(obtained + lifetime - REFRESH_MARGIN.min(lifetime / 4))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
}

/// RFC 6749 §5.2.
#[derive(Deserialize)]
struct TokenError {
    error: String,
    error_description: Option<String>,
}

/// `application/x-www-form-urlencoded`, as §2.3.1 wants the id and secret
/// encoded before they go into HTTP Basic.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl ClientCredentials {
    /// `token_url` is the CRM's `{base}/oauth/token` unless an admin set
    /// another; `scope` is sent when set.
    pub fn new(
        endpoint: &str,
        token_url: Url,
        scope: Option<String>,
        client_id: String,
        client_secret: Sensitive<String>,
    ) -> Self {
        ClientCredentials {
            endpoint: endpoint.to_owned(),
            token_url,
            scope,
            client_id,
            client_secret,
            cached: Mutex::new(None),
        }
    }

    /// The token to send now: the cached one while it is fresh, else a new one.
    pub async fn bearer(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.fresh_at(Instant::now())) {
            return Ok(c.token.clone());
        }
        let fresh = self.buy(http).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// After a 401 for `rejected`: a new token, unless another request has
    /// already replaced that one.
    pub async fn renew(
        &self,
        http: &Http,
        rejected: &Sensitive<String>,
    ) -> Result<Sensitive<String>, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.token.expose() != rejected.expose() && c.fresh_at(Instant::now()) {
                return Ok(c.token.clone());
            }
        }
        *cached = None;
        let fresh = self.buy(http).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// The request body; the id and secret go in HTTP Basic, which RFC 6749
    /// prefers and Entra ID and Keycloak accept.
    fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.as_str()));
        }
        form
    }

    async fn buy(&self, http: &Http) -> Result<Cached, ConnectorError> {
        let request = http
            .client()
            .post(self.token_url.clone())
            .basic_auth(
                form_encode(&self.client_id),
                Some(form_encode(self.client_secret.expose())),
            )
            .form(&self.form());
        let obtained = Instant::now();
        let timed = http.send(request).await?;
        let status = timed.response.status().as_u16();
        if !timed.response.status().is_success() {
            let error = timed.response.json::<TokenError>().await.ok();
            return Err(token_error(status, error, &self.token_url));
        }
        let body: TokenResponse = timed
            .response
            .json()
            .await
            .map_err(|e| ConnectorError::Protocol(format!("unreadable token response: {e}")))?;
        if !body.token_type.eq_ignore_ascii_case("bearer") {
            return Err(ConnectorError::Queue(QueueProblem::Misconfigured(format!(
                "the token endpoint issues {:?} tokens; Outpost needs Bearer tokens",
                body.token_type
            ))));
        }
        tracing::info!(endpoint = %self.endpoint, expires_in = ?body.expires_in, "OAuth client-credentials token obtained");
        Ok(Cached {
            token: Sensitive::new(body.access_token),
            renew_at: renew_at(obtained, body.expires_in),
        })
    }
}

/// What a refusal at the token endpoint means for the admin.
fn token_error(status: u16, error: Option<TokenError>, token_url: &Url) -> ConnectorError {
    let Some(TokenError {
        error,
        error_description,
    }) = error
    else {
        if status == 404 || status == 405 {
            return ConnectorError::Queue(QueueProblem::Misconfigured(format!(
                "there is no OAuth token endpoint at POST {token_url}: does the CRM offer client credentials, or is the token URL wrong?"
            )));
        }
        return classify_status(
            status,
            format!("token endpoint answered HTTP {status}"),
            None,
        );
    };
    // Entra ID's description carries trace lines after the first: keep
    // the reason, and say what an admin fixes for its common codes.
    let first_line = error_description
        .as_deref()
        .and_then(|d| d.lines().next())
        .map(str::trim);
    let why = match first_line {
        Some(d) => format!("{error}: {d}"),
        None => error.clone(),
    };
    if let Some(words) = first_line.and_then(entra_words) {
        return words(why);
    }
    match error.as_str() {
        "invalid_client" | "invalid_grant" => ConnectorError::Queue(QueueProblem::Unauthorized(
            format!("the token endpoint rejected the client id or secret ({why})"),
        )),
        "unauthorized_client" | "invalid_scope" | "access_denied" => ConnectorError::Queue(
            QueueProblem::Forbidden(format!("the client may not use client credentials ({why})")),
        ),
        "unsupported_grant_type" | "invalid_request" => {
            ConnectorError::Queue(QueueProblem::Misconfigured(format!(
                "the CRM's token endpoint does not accept Outpost's client-credentials request ({why})"
            )))
        }
        _ => classify_status(status, format!("token endpoint: {why}"), None),
    }
}

/// Microsoft Entra ID's `AADSTS` codes an admin can act on, in plain words.
fn entra_words(description: &str) -> Option<fn(String) -> ConnectorError> {
    let code = description.strip_prefix("AADSTS")?;
    let code = &code[..code.find(|c: char| !c.is_ascii_digit())?];
    Some(match code {
        "7000215" | "7000222" => |why| {
            ConnectorError::Queue(QueueProblem::Unauthorized(format!(
            "Entra ID refused the client secret: enter the secret's Value (not its Secret ID), or create a new one if it expired ({why})"
        )))
        },
        "700016" => |why| {
            ConnectorError::Queue(QueueProblem::Unauthorized(format!(
            "Entra ID knows no app with this client id in this tenant: check the Application (client) ID and the tenant in the token URL ({why})"
        )))
        },
        "90002" | "900023" => |why| {
            ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Entra ID has no such tenant: check the directory (tenant) id in the token URL ({why})"
        )))
        },
        // Forbidden, as every identity provider's invalid_scope is here.
        "70011" | "1002012" => |why| {
            ConnectorError::Queue(QueueProblem::Forbidden(format!(
            "Entra ID refused the scope: client credentials ask for the resource followed by /.default (for Dynamics the organization URL, e.g. https://ORG.crm.dynamics.com/.default) ({why})"
        )))
        },
        "500011" => |why| {
            ConnectorError::Queue(QueueProblem::Misconfigured(format!(
            "Entra ID does not know the resource in the scope: check the organization URL ({why})"
        )))
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_shortly_before_it_expires() {
        let t0 = Instant::now();
        let hour = renew_at(t0, Some(3600)).unwrap();
        assert_eq!(hour - t0, Duration::from_secs(3540));
        // Short lifetimes keep three quarters of their life.
        let short = renew_at(t0, Some(8)).unwrap();
        assert_eq!(short - t0, Duration::from_secs(6));
        let cached = Cached {
            token: Sensitive::new("t".into()),
            renew_at: Some(short),
        };
        assert!(cached.fresh_at(t0 + Duration::from_secs(5)));
        assert!(!cached.fresh_at(t0 + Duration::from_secs(6)));
        // Without expires_in the token is used until the API refuses it.
        assert!(renew_at(t0, None).is_none());
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let url = Url::parse("https://idp.example.com/realms/shop/token").unwrap();
        let err = |status, error: &str| {
            token_error(
                status,
                Some(TokenError {
                    error: error.into(),
                    error_description: None,
                }),
                &url,
            )
        };
        assert!(matches!(
            err(400, "invalid_client"),
            ConnectorError::Queue(QueueProblem::Unauthorized(_))
        ));
        assert!(matches!(
            err(401, "invalid_client"),
            ConnectorError::Queue(QueueProblem::Unauthorized(_))
        ));
        assert!(matches!(
            err(400, "unauthorized_client"),
            ConnectorError::Queue(QueueProblem::Forbidden(_))
        ));
        assert!(matches!(
            err(400, "unsupported_grant_type"),
            ConnectorError::Queue(QueueProblem::Misconfigured(_))
        ));
        let missing = token_error(404, None, &url);
        assert!(matches!(
            &missing,
            ConnectorError::Queue(QueueProblem::Misconfigured(_))
        ));
        assert!(
            missing
                .to_string()
                .contains("idp.example.com/realms/shop/token"),
            "{missing}"
        );
        assert!(matches!(
            token_error(503, None, &url),
            ConnectorError::Transient { .. }
        ));
    }

    #[test]
    fn entra_codes_say_what_to_fix() {
        let url = Url::parse("https://login.microsoftonline.com/t/oauth2/v2.0/token").unwrap();
        let err = |status, error: &str, d: &str| {
            token_error(
                status,
                Some(TokenError {
                    error: error.into(),
                    error_description: Some(d.into()),
                }),
                &url,
            )
            .to_string()
        };
        let secret = err(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2",
        );
        assert!(secret.contains("Value (not its Secret ID)"), "{secret}");
        assert!(!secret.contains("Trace ID"), "{secret}");
        assert!(err(
            400,
            "invalid_scope",
            "AADSTS70011: The provided value for scope x is not valid."
        )
        .contains("/.default"));
        assert!(
            err(400, "invalid_request", "AADSTS90002: Tenant 'x' not found.")
                .contains("no such tenant")
        );
        assert!(err(
            400,
            "unauthorized_client",
            "AADSTS700016: Application with identifier 'x' was not found"
        )
        .contains("client id"));
        // Other servers keep the generic words.
        assert!(err(400, "invalid_client", "bad").contains("rejected the client id or secret"));
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
        assert_eq!(form_encode("outpost-client-id"), "outpost-client-id");
    }
}
