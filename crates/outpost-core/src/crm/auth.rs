//! Bearer tokens, whatever their source, and the one rule every connector
//! follows with them: send with the current token; on a 401 renew it once
//! and send again; a token that cannot be renewed lets the 401 stand.

use async_trait::async_trait;
use reqwest::RequestBuilder;

use super::error::ConnectorError;
use super::http::{Http, Timed};
use crate::sensitive::Sensitive;

/// Where a connector's bearer tokens come from.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// The token to send now (refreshed first when it is about to expire).
    async fn bearer(&self, http: &Http) -> Result<Sensitive<String>, ConnectorError>;

    /// After a 401 for `rejected`: a new token, or `None` when this kind of
    /// token cannot be renewed (an API key, a private-app token).
    async fn renew(
        &self,
        http: &Http,
        rejected: &Sensitive<String>,
    ) -> Option<Result<Sensitive<String>, ConnectorError>>;
}

/// A token an admin pasted: sent as is, never renewed.
pub struct StaticToken(pub Sensitive<String>);

#[async_trait]
impl TokenSource for StaticToken {
    async fn bearer(&self, _: &Http) -> Result<Sensitive<String>, ConnectorError> {
        Ok(self.0.clone())
    }

    async fn renew(
        &self,
        _: &Http,
        _: &Sensitive<String>,
    ) -> Option<Result<Sensitive<String>, ConnectorError>> {
        None
    }
}

impl Http {
    /// Sends `build()` with a bearer token from `auth`; on a 401 renews the
    /// token once and sends a fresh `build()` again.
    pub async fn send_authorized(
        &self,
        auth: &dyn TokenSource,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Timed, ConnectorError> {
        let token = auth.bearer(self).await?;
        let timed = self.send(build().bearer_auth(token.expose())).await?;
        if timed.response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(timed);
        }
        match auth.renew(self, &token).await {
            None => Ok(timed),
            Some(renewed) => self.send(build().bearer_auth(renewed?.expose())).await,
        }
    }
}
