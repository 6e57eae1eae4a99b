//! Zoho's API credits and concurrency. Every call costs credits from the
//! org's rolling 24-hour allowance (an insert, update or upsert one per 10
//! records; a read one); once half is used, answers carry
//! `X-API-CREDITS-REMAINING`, shown as the endpoint's `api_budget`
//! (`org_left`). With the credits gone Zoho answers `LIMIT_EXCEEDED`; with
//! more requests in flight than the edition allows, 429
//! `TOO_MANY_REQUESTS`. Neither names a wait (Zoho sends no Retry-After),
//! so the queue (never the records) waits: credits from [`CREDITS_FIRST_WAIT`]
//! doubling to [`CREDITS_MAX_WAIT`], concurrency from [`BUSY_FIRST_WAIT`]
//! doubling to [`BUSY_MAX_WAIT`]; a successful answer ends both. The
//! connector itself keeps at most `concurrency` requests in flight (a
//! semaphore in `mod.rs`), so a 429 means another app of the org used the
//! slots. This device's requests of the last 24 hours are counted across
//! restarts ([`DeviceDay`]): the budget's `device_used`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::crm::connector::{ApiBudget, DeviceUsage};
use crate::crm::device_day::DeviceDay;
use crate::crm::error::ConnectorError;

pub const CREDITS_FIRST_WAIT: Duration = Duration::from_secs(60);
pub const CREDITS_MAX_WAIT: Duration = Duration::from_secs(15 * 60);
pub const BUSY_FIRST_WAIT: Duration = Duration::from_secs(1);
pub const BUSY_MAX_WAIT: Duration = Duration::from_secs(30);
/// A concurrency wait up to this long is waited out inside the request.
pub const SHORT_HOLD: Duration = Duration::from_secs(5);
pub const HEADER: &str = "x-api-credits-remaining";

#[derive(Debug, Default)]
pub struct Credits {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    remaining: Option<u64>,
    spent_until: Option<Instant>,
    spent_wait: Option<Duration>,
    busy_wait: Option<Duration>,
    /// This device's requests in the last day (the budget's `device_used`).
    day: DeviceDay,
}

impl Credits {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("credits lock")
    }

    /// Before a request: `Err` (a transient failure with the wait) while
    /// the org's credits are known to be gone.
    pub fn take(&self) -> Result<(), ConnectorError> {
        let mut s = self.state();
        let now = Instant::now();
        if let Some(until) = s.spent_until.filter(|u| *u > now) {
            return Err(spent(until - now));
        }
        s.day.prune(now);
        s.day.count(now);
        Ok(())
    }

    /// After an answer: the header's count, if it came.
    pub fn observe(&self, remaining: Option<&str>) {
        if let Some(n) = remaining.and_then(|v| v.trim().parse::<u64>().ok()) {
            self.state().remaining = Some(n);
        }
    }

    /// A successful answer: the credits and the slots are there again.
    pub fn answered(&self) {
        let mut s = self.state();
        s.spent_until = None;
        s.spent_wait = None;
        s.busy_wait = None;
    }

    /// After `LIMIT_EXCEEDED`: the error to report, with the wait.
    pub fn exhausted(&self) -> ConnectorError {
        let mut s = self.state();
        let wait = s
            .spent_wait
            .map_or(CREDITS_FIRST_WAIT, |w| (w * 2).min(CREDITS_MAX_WAIT));
        s.spent_wait = Some(wait);
        s.spent_until = Some(Instant::now() + wait);
        s.remaining = Some(0);
        spent(wait)
    }

    /// After a 429: how long every request waits now.
    pub fn busy(&self) -> Duration {
        let mut s = self.state();
        let wait = s
            .busy_wait
            .map_or(BUSY_FIRST_WAIT, |w| (w * 2).min(BUSY_MAX_WAIT));
        s.busy_wait = Some(wait);
        wait
    }

    pub fn left(&self) -> ApiBudget {
        let s = self.state();
        ApiBudget {
            org_used: None,
            org_max: None,
            org_left: s.remaining,
            device_used: s.day.used(),
            device_cap: None,
        }
    }

    /// This device's requests in the last day by UTC hour, for the store.
    pub fn device_usage(&self) -> DeviceUsage {
        self.state().day.usage()
    }

    /// Counts what earlier processes sent (as the store kept it).
    pub fn restore(&self, usage: &DeviceUsage) {
        self.state().day.restore(usage);
    }
}

fn spent(wait: Duration) -> ConnectorError {
    ConnectorError::Transient {
        reason: format!(
            "the Zoho org's API credits for the last 24 hours are used up (LIMIT_EXCEEDED); the queue waits {} s before trying again",
            wait.as_secs()
        ),
        retry_after: Some(wait),
    }
}

/// The words of a 429 wait longer than [`SHORT_HOLD`].
pub fn too_busy(wait: Duration) -> ConnectorError {
    ConnectorError::Transient {
        reason: format!(
            "Zoho answered TOO_MANY_REQUESTS: the org's concurrency limit is reached (other apps use it too); waiting {} s",
            wait.as_secs()
        ),
        retry_after: Some(wait),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spent_credits_hold_the_queue_with_a_growing_wait() {
        let c = Credits::default();
        c.take().unwrap();
        c.observe(Some("2400"));
        assert_eq!(c.left().org_left, Some(2400));
        c.observe(Some("lots"));
        assert_eq!(c.left().org_left, Some(2400));
        let e = c.exhausted();
        assert_eq!(e.retry_after(), Some(CREDITS_FIRST_WAIT));
        assert!(e.to_string().contains("LIMIT_EXCEEDED"), "{e}");
        assert_eq!(
            c.take().unwrap_err().retry_after(),
            Some(CREDITS_FIRST_WAIT)
        );
        tokio::time::advance(CREDITS_FIRST_WAIT).await;
        c.take().unwrap();
        assert_eq!(c.exhausted().retry_after(), Some(CREDITS_FIRST_WAIT * 2));
        c.answered();
        assert_eq!(c.busy(), BUSY_FIRST_WAIT);
        assert_eq!(c.busy(), BUSY_FIRST_WAIT * 2);
        c.answered();
        assert_eq!(c.busy(), BUSY_FIRST_WAIT);
        assert_eq!(c.left().device_used, 2);
    }
}
