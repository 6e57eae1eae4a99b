//! Bearer tokens: the static private-app token plus OAuth access tokens, with
//! the expiry, revocation and scope controls tests use.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Unknown or revoked token.
    Invalid,
    Expired {
        seconds_ago: i64,
    },
    MissingScope {
        required: String,
    },
}

#[derive(Debug, Clone)]
struct TokenState {
    /// `None` never expires (private-app token).
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    /// `None` grants every scope.
    scopes: Option<BTreeSet<String>>,
    oauth: bool,
}

#[derive(Debug)]
pub struct Tokens {
    static_token: String,
    tokens: HashMap<String, TokenState>,
    refresh_tokens: HashSet<String>,
    lifetime: Duration,
}

impl Tokens {
    pub fn new(static_token: &str, refresh_token: &str, lifetime: Duration) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            static_token.to_string(),
            TokenState {
                expires_at: None,
                revoked: false,
                scopes: None,
                oauth: false,
            },
        );
        Tokens {
            static_token: static_token.to_string(),
            tokens,
            refresh_tokens: HashSet::from([refresh_token.to_string()]),
            lifetime,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    pub fn is_static(&self, token: &str) -> bool {
        token == self.static_token
    }

    /// Checks a token and, if given, one scope it must grant.
    pub fn check(
        &self,
        token: Option<&str>,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let token = token.ok_or(AuthError::Missing)?;
        let state = self.tokens.get(token).ok_or(AuthError::Invalid)?;
        if state.revoked {
            return Err(AuthError::Invalid);
        }
        if let Some(at) = state.expires_at {
            if at <= now {
                let seconds_ago = (now - at).num_seconds().max(1);
                return Err(AuthError::Expired { seconds_ago });
            }
        }
        if let (Some(scope), Some(granted)) = (scope, &state.scopes) {
            if !granted.contains(scope) {
                return Err(AuthError::MissingScope {
                    required: scope.to_string(),
                });
            }
        }
        Ok(())
    }

    pub fn knows_refresh_token(&self, refresh: &str) -> bool {
        self.refresh_tokens.contains(refresh)
    }

    /// Rotation: `old` stops working, `new` works.
    pub fn replace_refresh_token(&mut self, old: &str, new: &str) {
        self.refresh_tokens.remove(old);
        self.refresh_tokens.insert(new.to_string());
    }

    /// Issues a fresh OAuth access token.
    pub fn issue(&mut self, now: DateTime<Utc>) -> String {
        let token = format!("oauth-{}", uuid::Uuid::new_v4().simple());
        let expires_at = now + chrono::Duration::from_std(self.lifetime).unwrap_or_default();
        self.tokens.insert(
            token.clone(),
            TokenState {
                expires_at: Some(expires_at),
                revoked: false,
                scopes: None,
                oauth: true,
            },
        );
        token
    }

    /// Issues an OAuth access token with its own lifetime (Zoho's 3600 s).
    pub fn issue_for(&mut self, now: DateTime<Utc>, lifetime: Duration) -> String {
        let token = format!("1000.{}", uuid::Uuid::new_v4().simple());
        let expires_at = now + chrono::Duration::from_std(lifetime).unwrap_or_default();
        self.tokens.insert(
            token.clone(),
            TokenState {
                expires_at: Some(expires_at),
                revoked: false,
                scopes: None,
                oauth: true,
            },
        );
        token
    }

    fn matching<'a>(
        &'a mut self,
        token: Option<&'a str>,
    ) -> impl Iterator<Item = &'a mut TokenState> + 'a {
        self.tokens
            .iter_mut()
            .filter(move |(t, _)| token.is_none_or(|want| want == t.as_str()))
            .map(|(_, s)| s)
    }

    /// Makes the token (or every token) expired as of one second ago.
    pub fn expire(&mut self, token: Option<&str>, now: DateTime<Utc>) -> usize {
        let at = now - chrono::Duration::seconds(1);
        self.matching(token)
            .map(|s| s.expires_at = Some(at))
            .count()
    }

    /// Revokes the token (or every token) and, when revoking all, the refresh tokens.
    pub fn revoke(&mut self, token: Option<&str>) -> usize {
        if token.is_none() {
            self.refresh_tokens.clear();
        }
        self.matching(token).map(|s| s.revoked = true).count()
    }

    /// Undoes expiry and revocation: the static token never expires again, OAuth
    /// tokens get a full lifetime, and the configured refresh token works again.
    pub fn restore(&mut self, refresh_token: &str, now: DateTime<Utc>) {
        let fresh = now + chrono::Duration::from_std(self.lifetime).unwrap_or_default();
        for s in self.tokens.values_mut() {
            s.revoked = false;
            s.expires_at = s.oauth.then_some(fresh);
            s.scopes = None;
        }
        self.refresh_tokens.insert(refresh_token.to_string());
    }

    /// Limits a token (or every token) to `scopes`; `None` grants all again.
    pub fn set_scopes(&mut self, token: Option<&str>, scopes: Option<Vec<String>>) -> usize {
        let scopes: Option<BTreeSet<String>> = scopes.map(|v| v.into_iter().collect());
        self.matching(token)
            .map(|s| s.scopes = scopes.clone())
            .count()
    }

    pub fn set_lifetime(&mut self, lifetime: Duration) {
        self.lifetime = lifetime;
    }
}

/// Extracts the token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let now = Utc::now();
        let mut t = Tokens::new("static", "refresh", Duration::from_secs(60));
        assert_eq!(t.check(None, None, now), Err(AuthError::Missing));
        assert_eq!(t.check(Some("nope"), None, now), Err(AuthError::Invalid));
        let oauth = t.issue(now);
        assert!(t.check(Some(&oauth), None, now).is_ok());
        assert!(matches!(
            t.check(Some(&oauth), None, now + chrono::Duration::seconds(70)),
            Err(AuthError::Expired { seconds_ago: 10 })
        ));
        t.set_scopes(Some("static"), Some(vec!["a".into()]));
        assert!(t.check(Some("static"), Some("a"), now).is_ok());
        assert!(matches!(
            t.check(Some("static"), Some("b"), now),
            Err(AuthError::MissingScope { .. })
        ));
        t.revoke(None);
        assert_eq!(t.check(Some("static"), None, now), Err(AuthError::Invalid));
        assert!(!t.knows_refresh_token("refresh"));
        t.restore("refresh", now);
        assert!(t.check(Some("static"), Some("b"), now).is_ok());
        assert!(t.knows_refresh_token("refresh"));
    }
}
