//! Fault plan (latency, injected errors, drop-after-commit) and its seeded RNG.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    #[serde(rename = "500")]
    InternalError,
    #[serde(rename = "503")]
    Unavailable,
    #[serde(rename = "429")]
    TooManyRequests,
    /// Reset the connection before reading the handler's answer.
    #[serde(rename = "reset")]
    Reset,
    /// Hold the request (no answer) until the client gives up.
    #[serde(rename = "timeout")]
    Timeout,
}

/// Something answering every request in the CRM's place, as shop Wi-Fi or an
/// office proxy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Portal {
    /// `200 text/html`: the network's sign-in page.
    SignInPage,
    /// `302` to the sign-in page on another host.
    Redirect,
    /// `403 text/html` with `Via` and `X-Squid-Error`: a proxy's block page.
    Proxy,
}

/// A person changing a record in the CRM right after Outpost read it and
/// before it writes: the next `reads` reads of a record (HubSpot's get and
/// batch read, the REST contract's `GET /customers/{key}`) set `field`
/// (a HubSpot property or a REST field name) to `value` (`null` clears).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Race {
    pub field: String,
    #[serde(default)]
    pub value: Option<String>,
    /// How many reads it fires on; 1 by default.
    #[serde(default = "one")]
    pub reads: u32,
}

fn one() -> u32 {
    1
}

/// The fault plan, as posted to `POST /faults`. Every field is optional in JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every request before it is handled.
    pub latency_ms: u64,
    /// Extra uniform random latency in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Probability (0..=1) that a request fails with one of `error_kinds`.
    pub error_rate: f64,
    /// Kinds picked uniformly when an error is injected; empty means `["500"]`.
    pub error_kinds: Vec<ErrorKind>,
    /// Probability that a successful write is stored and then the connection is reset.
    pub drop_after_commit_rate: f64,
    /// Probability that a successful write is stored and answered with its
    /// status and headers but only the first half of its body, then the
    /// connection is closed (a proxy or a crash cutting the answer short).
    pub truncate_body_rate: f64,
    /// Re-seeds the RNG; `None` keeps the emulator's `--seed`.
    pub seed: Option<u64>,
    /// Every request is answered by a captive portal or a proxy instead of
    /// the CRM (nothing reaches the handlers); `None`: the CRM answers.
    pub captive_portal: Option<Portal>,
    /// A change in the CRM between Outpost's read and its write.
    pub race: Option<Race>,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub delay: Duration,
    pub error: Option<ErrorKind>,
    pub drop_after_commit: bool,
    pub truncate_body: bool,
    pub portal: Option<Portal>,
}

#[derive(Debug)]
pub struct FaultState {
    plan: Faults,
    rng: StdRng,
    default_seed: u64,
}

impl FaultState {
    pub fn new(seed: u64) -> Self {
        FaultState {
            plan: Faults::default(),
            rng: StdRng::seed_from_u64(seed),
            default_seed: seed,
        }
    }

    pub fn plan(&self) -> &Faults {
        &self.plan
    }

    /// Installs a plan and re-seeds, so the same plan replays the same decisions.
    pub fn set(&mut self, plan: Faults) {
        self.rng = StdRng::seed_from_u64(plan.seed.unwrap_or(self.default_seed));
        self.plan = plan;
    }

    /// The race to apply after this read, counting it down.
    pub fn take_race(&mut self) -> Option<Race> {
        let race = self.plan.race.as_mut()?;
        let fired = race.clone();
        race.reads = race.reads.saturating_sub(1);
        if race.reads == 0 {
            self.plan.race = None;
        }
        (fired.reads > 0).then_some(fired)
    }

    pub fn clear(&mut self) {
        self.set(Faults::default());
    }

    /// Draws the decision for the next request. Quiet plans draw nothing, so
    /// they do not advance the RNG.
    pub fn decide(&mut self) -> Decision {
        let p = &self.plan;
        let mut d = Decision {
            delay: Duration::from_millis(p.latency_ms),
            portal: p.captive_portal,
            ..Decision::default()
        };
        if p.jitter_ms > 0 {
            d.delay += Duration::from_millis(self.rng.random_range(0..=p.jitter_ms));
        }
        if p.error_rate > 0.0 && self.rng.random_bool(p.error_rate.min(1.0)) {
            let kinds = if p.error_kinds.is_empty() {
                &[ErrorKind::InternalError][..]
            } else {
                &p.error_kinds[..]
            };
            d.error = Some(kinds[self.rng.random_range(0..kinds.len())]);
        }
        if p.drop_after_commit_rate > 0.0 {
            d.drop_after_commit = self.rng.random_bool(p.drop_after_commit_rate.min(1.0));
        }
        // Drawn last, so plans without it replay the decisions they always did.
        if p.truncate_body_rate > 0.0 {
            d.truncate_body = self.rng.random_bool(p.truncate_body_rate.min(1.0));
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_decisions() {
        let plan = Faults {
            jitter_ms: 50,
            error_rate: 0.5,
            error_kinds: vec![ErrorKind::InternalError, ErrorKind::Reset],
            seed: Some(7),
            ..Faults::default()
        };
        let run = || {
            let mut f = FaultState::new(1);
            f.set(plan.clone());
            (0..50).map(|_| f.decide()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(run().iter().any(|d| d.error.is_some()));
        assert!(run().iter().any(|d| d.error.is_none()));
    }

    #[test]
    fn a_portal_parses_from_json_and_draws_nothing() {
        let f: Faults = serde_json::from_str(r#"{"captive_portal":"redirect"}"#).unwrap();
        assert_eq!(f.captive_portal, Some(Portal::Redirect));
        let mut state = FaultState::new(3);
        state.set(f);
        assert_eq!(state.decide().portal, Some(Portal::Redirect));
        assert!(serde_json::from_str::<Faults>(r#"{"captive_portal":"wifi"}"#).is_err());
    }

    #[test]
    fn kinds_parse_from_json() {
        let f: Faults =
            serde_json::from_str(r#"{"error_rate":1,"error_kinds":["503","timeout"]}"#).unwrap();
        assert_eq!(
            f.error_kinds,
            vec![ErrorKind::Unavailable, ErrorKind::Timeout]
        );
    }
}
