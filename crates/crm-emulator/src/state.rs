//! State shared by the CRM handlers, the control API and the Rust handle.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::api::dynamics::DynRuntime;
use crate::api::salesforce::SfRuntime;
use crate::api::zoho::ZohoRuntime;
use crate::auth::Tokens;
use crate::config::Config;
use crate::faults::FaultState;
use crate::ratelimit::RateLimiter;
use crate::stats::Stats;
use crate::store::Store;

/// Which emulated API a setting applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Outpost's generic REST contract (`/customers`).
    Rest,
    /// HubSpot CRM v3 (`/crm/v3/...`, `/oauth/v1/token`).
    Hubspot,
    /// Salesforce REST (`/services/data/vNN.0/...`, `/services/oauth2/token`).
    Salesforce,
    /// Dataverse Web API (`/api/data/v9.x/...`, `/{tenant}/oauth2/v2.0/token`).
    Dynamics,
    /// Zoho CRM v8 (`/crm/v{2,5,6,7,8}/...`, `/oauth/v2/token`).
    Zoho,
}

#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultState>,
    pub stats: Stats,
    pub rest_limiter: Mutex<RateLimiter>,
    pub hubspot_limiter: Mutex<RateLimiter>,
    pub salesforce_limiter: Mutex<RateLimiter>,
    /// Salesforce switches (duplicate rule, instance_url, rotation) and query cursors.
    pub salesforce: Mutex<SfRuntime>,
    pub dynamics_limiter: Mutex<RateLimiter>,
    /// Dataverse's execution-time budget, in units of the fixed request cost.
    pub dynamics_time: Mutex<RateLimiter>,
    /// Dataverse switches (duplicate detection, change tracking, key status).
    pub dynamics: Mutex<DynRuntime>,
    /// Dataverse requests being served, and the cap (0: none).
    pub dynamics_in_flight: AtomicU32,
    pub dynamics_concurrency: AtomicU32,
    /// Zoho's credits, concurrency, data centre and token bookkeeping.
    pub zoho: Mutex<ZohoRuntime>,
    /// Unused by Zoho (its budget is credits); kept so every API has a limiter.
    pub zoho_limiter: Mutex<RateLimiter>,
    /// The CRM port's base URL, set once the server listens.
    pub crm_url: OnceLock<String>,
    pub tokens: Mutex<Tokens>,
    pub search_lag: Mutex<Duration>,
    pub retry_after: AtomicBool,
    /// The shop whose keys the REST API asks for; 0 when it takes any key.
    rest_key_shop: AtomicU32,
}

// Locks are held only for short synchronous sections; a poisoned lock means a
// handler panicked mid-update, which is a bug worth surfacing loudly.
impl Shared {
    pub fn new(config: Config, store: Store) -> Self {
        Shared {
            store: Mutex::new(store),
            faults: Mutex::new(FaultState::new(config.seed)),
            stats: Stats::default(),
            rest_limiter: Mutex::new(RateLimiter::new(config.rest_rate_limit)),
            hubspot_limiter: Mutex::new(RateLimiter::new(config.hubspot_rate_limit)),
            salesforce_limiter: Mutex::new(RateLimiter::new(config.salesforce_rate_limit)),
            salesforce: Mutex::new(SfRuntime::default()),
            dynamics_limiter: Mutex::new(RateLimiter::new(config.dynamics_rate_limit)),
            dynamics_time: Mutex::new(RateLimiter::new(crate::api::dynamics::limits::time_limit(
                config.dynamics_rate_limit,
                config.dynamics_request_cost,
            ))),
            dynamics: Mutex::new(DynRuntime::default()),
            dynamics_in_flight: AtomicU32::new(0),
            dynamics_concurrency: AtomicU32::new(config.dynamics_concurrency),
            zoho: Mutex::new(ZohoRuntime::new(&config)),
            zoho_limiter: Mutex::new(RateLimiter::new(None)),
            crm_url: OnceLock::new(),
            tokens: Mutex::new(Tokens::new(
                &config.token,
                &config.oauth_refresh_token,
                config.access_token_lifetime,
            )),
            search_lag: Mutex::new(config.search_index_lag),
            retry_after: AtomicBool::new(config.retry_after),
            rest_key_shop: AtomicU32::new(config.rest_key_shop.unwrap_or(0)),
            config,
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("store lock")
    }

    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        self.tokens.lock().expect("tokens lock")
    }

    pub fn salesforce(&self) -> MutexGuard<'_, SfRuntime> {
        self.salesforce.lock().expect("salesforce lock")
    }

    pub fn dynamics(&self) -> MutexGuard<'_, DynRuntime> {
        self.dynamics.lock().expect("dynamics lock")
    }

    pub fn zoho(&self) -> MutexGuard<'_, ZohoRuntime> {
        self.zoho.lock().expect("zoho lock")
    }

    pub fn dynamics_time(&self) -> MutexGuard<'_, RateLimiter> {
        self.dynamics_time.lock().expect("dynamics time lock")
    }

    /// Sets Dataverse's request window and the execution-time window with it.
    pub fn set_dynamics_limit(&self, limit: Option<crate::config::RateLimit>) {
        self.limiter(Api::Dynamics).set_limit(limit);
        let cost = self.config.dynamics_request_cost;
        self.dynamics_time()
            .set_limit(crate::api::dynamics::limits::time_limit(limit, cost));
    }

    pub fn faults(&self) -> MutexGuard<'_, FaultState> {
        self.faults.lock().expect("faults lock")
    }

    pub fn limiter(&self, api: Api) -> MutexGuard<'_, RateLimiter> {
        match api {
            Api::Rest => self.rest_limiter.lock(),
            Api::Hubspot => self.hubspot_limiter.lock(),
            Api::Salesforce => self.salesforce_limiter.lock(),
            Api::Dynamics => self.dynamics_limiter.lock(),
            Api::Zoho => self.zoho_limiter.lock(),
        }
        .expect("limiter lock")
    }

    /// `Some(shop)` when the REST API asks for that shop's keys.
    pub fn rest_key_shop(&self) -> Option<u32> {
        Some(self.rest_key_shop.load(Ordering::Relaxed)).filter(|&s| s != 0)
    }

    pub fn set_rest_key_shop(&self, shop: Option<u32>) {
        self.rest_key_shop
            .store(shop.unwrap_or(0), Ordering::Relaxed);
    }

    pub fn search_lag(&self) -> Duration {
        *self.search_lag.lock().expect("lag lock")
    }

    pub fn set_search_lag(&self, lag: Duration) {
        *self.search_lag.lock().expect("lag lock") = lag;
    }
}

/// Waits until writes made before `barrier` was taken are in the state file.
pub async fn durable(barrier: Option<oneshot::Receiver<()>>) {
    if let Some(rx) = barrier {
        let _ = rx.await;
    }
}
