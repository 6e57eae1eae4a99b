//! Request counters per endpoint template and outcome, so tests can assert
//! "exactly N create calls".

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

/// A snapshot: `endpoints["PUT /customers/{key}"]["201"] == 3`. Outcomes are HTTP
/// statuses, or `reset`, `timeout`, `dropped_after_commit`, `truncated_body`,
/// `captive_portal` for injected faults.
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

    /// Requests to any endpoint that ended with `outcome`.
    pub fn count_anywhere(&self, outcome: &str) -> u64 {
        self.endpoints.values().filter_map(|m| m.get(outcome)).sum()
    }

    /// All requests to `endpoint`, whatever their outcome.
    pub fn count_endpoint(&self, endpoint: &str) -> u64 {
        self.endpoints
            .get(endpoint)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }
}

/// One entry of the request log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// Position in the whole run (survives log trimming, reset by `reset`).
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// `"PUT /customers/{key}"`.
    pub endpoint: String,
    /// The concrete path, e.g. `/customers/abc`.
    pub path: String,
    /// Status or fault outcome, as in [`StatsSnapshot`].
    pub outcome: String,
}

/// The log keeps the most recent requests only, so long runs stay bounded.
pub const LOG_CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
    log: Mutex<VecDeque<RequestLogEntry>>,
}

impl Stats {
    pub fn record(&self, endpoint: &str, path: &str, outcome: &str) {
        let seq = {
            let mut s = self.inner.lock().expect("stats lock");
            s.total += 1;
            *s.endpoints
                .entry(endpoint.to_string())
                .or_default()
                .entry(outcome.to_string())
                .or_default() += 1;
            s.total
        };
        let mut log = self.log.lock().expect("log lock");
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(RequestLogEntry {
            seq,
            at: Utc::now(),
            endpoint: endpoint.to_string(),
            path: path.to_string(),
            outcome: outcome.to_string(),
        });
    }

    pub fn log(&self) -> Vec<RequestLogEntry> {
        self.log.lock().expect("log lock").iter().cloned().collect()
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.inner.lock().expect("stats lock").clone()
    }

    pub fn reset(&self) {
        *self.inner.lock().expect("stats lock") = StatsSnapshot::default();
        self.log.lock().expect("log lock").clear();
    }
}
