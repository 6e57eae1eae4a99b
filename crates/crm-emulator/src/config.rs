//! Start-up configuration of an emulator (the CLI maps its flags onto this).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A rolling-window request budget: at most `max` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

impl RateLimit {
    /// HubSpot's documented budget for public OAuth apps: 100 requests per 10 s.
    pub const HUBSPOT_DEFAULT: RateLimit = RateLimit {
        max: 100,
        window: Duration::from_secs(10),
    };
}

impl RateLimit {
    /// Salesforce's rolling 24-hour API request budget (Enterprise base: 100,000).
    pub const SALESFORCE_DEFAULT: RateLimit = RateLimit {
        max: 100_000,
        window: Duration::from_secs(24 * 60 * 60),
    };
}

impl RateLimit {
    /// Dataverse's service protection limit: 6,000 requests per 300 s per user.
    pub const DYNAMICS_DEFAULT: RateLimit = RateLimit {
        max: 6000,
        window: Duration::from_secs(300),
    };
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}ms", self.max, self.window.as_millis())
    }
}

/// Error for a malformed `--rate-limit` value.
#[derive(Debug, thiserror::Error)]
#[error("invalid rate limit {0:?}: expected N/<duration> such as 100/10s, 5/500ms, or off")]
pub struct ParseRateLimitError(String);

/// Parses `100/10s`, `5/500ms`, `60/1m`; `off` is handled by [`parse_rate_limit`].
impl FromStr for RateLimit {
    type Err = ParseRateLimitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseRateLimitError(s.to_string());
        let (max, window) = s.trim().split_once('/').ok_or_else(err)?;
        let max: u32 = max.trim().parse().map_err(|_| err())?;
        let window = window.trim();
        let (digits, unit) = window
            .find(|c: char| !c.is_ascii_digit())
            .map(|i| window.split_at(i))
            .unwrap_or((window, "s"));
        let n: u64 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| err())?
        };
        let window = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            _ => return Err(err()),
        };
        if max == 0 || window.is_zero() {
            return Err(err());
        }
        Ok(RateLimit { max, window })
    }
}

/// Parses a rate limit where `off` (or `none`) disables limiting.
pub fn parse_rate_limit(s: &str) -> Result<Option<RateLimit>, ParseRateLimitError> {
    match s.trim() {
        "off" | "none" => Ok(None),
        other => other.parse().map(Some),
    }
}

/// Everything an emulator needs to start. `Config::default()` is what tests want:
/// loopback, ephemeral ports, memory-only state, HubSpot's default rate limit.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address both servers bind to. Loopback by default.
    pub bind: IpAddr,
    /// CRM port; 0 picks a free one (kept across down/up).
    pub port: u16,
    /// Control port; 0 picks a free one.
    pub control_port: u16,
    /// Static bearer token: the generic REST token and the HubSpot private-app token.
    pub token: String,
    /// SQLite file to keep records in across restarts; `None` keeps them in memory.
    pub state: Option<PathBuf>,
    /// Rolling-window limit of the HubSpot API; `None` disables it.
    pub hubspot_rate_limit: Option<RateLimit>,
    /// Rolling-window limit of the generic REST API; `None` disables it.
    pub rest_rate_limit: Option<RateLimit>,
    /// Rolling budget of the Salesforce API (default 100,000 per 24 h); `None` disables it.
    pub salesforce_rate_limit: Option<RateLimit>,
    /// Send `Retry-After` on 429 (HubSpot's use of it is unverified).
    pub retry_after: bool,
    /// Seed of the fault RNG, so a failing run can be replayed.
    pub seed: u64,
    /// Lifetime of OAuth access tokens (HubSpot's example says 1800 s).
    pub access_token_lifetime: Duration,
    /// OAuth client credentials and the refresh token the emulator accepts.
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    pub oauth_refresh_token: String,
    /// How long a created/updated HubSpot object stays invisible to search.
    pub search_index_lag: Duration,
    /// Name of the unique custom contact property created at start (`None`: none).
    pub unique_property: Option<String>,
    /// Largest accepted request body; larger bodies get 413.
    pub max_body_bytes: usize,
    /// How long an injected `timeout` fault holds a request before resetting it.
    pub timeout_hold: Duration,
    /// The REST API asks for keys of this shop (UUIDv8, `key_format` in
    /// `GET /metadata`) and refuses others; `None` takes any valid key.
    pub rest_key_shop: Option<u32>,
    /// Dataverse's service protection window (default 6,000 per 300 s); `None` disables it.
    pub dynamics_rate_limit: Option<RateLimit>,
    /// Dataverse's concurrent request cap (default 52); 0 disables it.
    pub dynamics_concurrency: u32,
    /// Execution time charged per Dataverse request against the 1,200,000 ms
    /// window budget (`x-ms-ratelimit-time-remaining-xrm-requests`).
    pub dynamics_request_cost: Duration,
    /// Zoho's data centre (`com`, `eu`, `in`, `com.au`, `jp`, ...): refresh
    /// tokens of another data centre are `invalid_code`.
    pub zoho_data_centre: String,
    /// Zoho API credits per rolling 24 h (default 1,000,000); 0 turns the budget off.
    pub zoho_credits: u64,
    /// Zoho's concurrent requests per org (default 20, Enterprise); 0 turns the cap off.
    pub zoho_concurrency: u32,
    /// How long each Zoho request holds its concurrency slot (default 0).
    pub zoho_request_cost: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            control_port: 0,
            token: "outpost-test-token".to_string(),
            state: None,
            hubspot_rate_limit: Some(RateLimit::HUBSPOT_DEFAULT),
            rest_rate_limit: Some(RateLimit::HUBSPOT_DEFAULT),
            salesforce_rate_limit: Some(RateLimit::SALESFORCE_DEFAULT),
            retry_after: true,
            seed: 0,
            access_token_lifetime: Duration::from_secs(1800),
            oauth_client_id: "outpost-client-id".to_string(),
            oauth_client_secret: "outpost-client-secret".to_string(),
            oauth_refresh_token: "outpost-refresh-token".to_string(),
            search_index_lag: Duration::ZERO,
            unique_property: Some("outpost_key".to_string()),
            max_body_bytes: 1024 * 1024,
            timeout_hold: Duration::from_secs(60),
            rest_key_shop: None,
            dynamics_rate_limit: Some(RateLimit::DYNAMICS_DEFAULT),
            dynamics_concurrency: 52,
            dynamics_request_cost: Duration::from_millis(100),
            zoho_data_centre: "com".to_string(),
            zoho_credits: 1_000_000,
            zoho_concurrency: 20,
            zoho_request_cost: Duration::ZERO,
        }
    }
}

impl Config {
    /// Defaults with both per-second rate limits off: what benchmarks and most
    /// sync tests want. Salesforce's daily budget (100,000 per 24 h) stays on:
    /// it is not a per-second limit.
    pub fn unlimited() -> Self {
        Config {
            hubspot_rate_limit: None,
            rest_rate_limit: None,
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_limits() {
        assert_eq!(
            parse_rate_limit("100/10s").unwrap(),
            Some(RateLimit::HUBSPOT_DEFAULT)
        );
        assert_eq!(
            parse_rate_limit("5/500ms").unwrap(),
            Some(RateLimit {
                max: 5,
                window: Duration::from_millis(500)
            })
        );
        assert_eq!(parse_rate_limit("off").unwrap(), None);
        assert!(parse_rate_limit("0/10s").is_err());
        assert!(parse_rate_limit("ten").is_err());
        assert!(parse_rate_limit("10/5h").is_err());
    }
}
