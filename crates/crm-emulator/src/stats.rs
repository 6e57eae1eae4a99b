//! Request counters per endpoint template and outcome, so tests can assert
//! "exactly N create calls".

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A snapshot: `endpoints["PUT /customers/{key}"]["201"] == 3`. Outcomes are HTTP
/// statuses, or `reset`, `timeout`, `dropped_after_commit` for injected faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub total: u64,
    pub endpoints: BTreeMap<String, BTreeMap<String, u64>>,
}

impl StatsSnapshot {
    /// Requests to `endpoint` that ended with `outcome` ("201", "reset", ...).
    pub fn count(&self, endpoint: &str, outcome: &str) -> u64 {
        self.endpoints
            .get(endpoint)
            .and_then(|m| m.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// All requests to `endpoint`, whatever their outcome.
    pub fn count_endpoint(&self, endpoint: &str) -> u64 {
        self.endpoints
            .get(endpoint)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
}

impl Stats {
    pub fn record(&self, endpoint: &str, outcome: &str) {
        let mut s = self.inner.lock().expect("stats lock");
        s.total += 1;
        *s.endpoints
            .entry(endpoint.to_string())
            .or_default()
            .entry(outcome.to_string())
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.inner.lock().expect("stats lock").clone()
    }

    pub fn reset(&self) {
        *self.inner.lock().expect("stats lock") = StatsSnapshot::default();
    }
}
