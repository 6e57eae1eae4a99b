//! Salesforce's API budget: the org may make so many requests per rolling
//! 24 hours, counted across every integration, and answers over it with
//! 403 `REQUEST_LIMIT_EXCEEDED` (no 429, no Retry-After). Every answer's
//! `Sforce-Limit-Info: api-usage=USED/MAX` says where the org stands; once
//! it is spent, the queue waits (the records are not at fault) and looks
//! again after a wait that doubles up to [`MAX_WAIT`]: a wait of a few
//! seconds inside the request, a longer one as a transient failure. An admin can cap
//! what one device may use (`daily_request_cap`), so a fleet of tills
//! leaves the budget to the org's other integrations. The device's count
//! survives a restart ([`DeviceDay`]).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::crm::connector::{ApiBudget, DeviceUsage};
use crate::crm::device_day::DeviceDay;
use crate::crm::error::ConnectorError;
/// The first wait after the org's budget is spent; it doubles each time.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait: at most about a hundred looks a day at a spent budget.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A hold up to this long is waited out inside the request; a longer one
/// fails it at once (a transient failure with the wait), so a round does
/// not sit for minutes holding its messages.
pub const SHORT_HOLD: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Budget {
    /// Requests this device may send per rolling day; `None`: no cap.
    cap: Option<u32>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// This device's requests in the last day.
    day: DeviceDay,
    /// The org's usage as the last answer said.
    org: Option<(u64, u64)>,
    /// The org's budget is spent: nothing is sent before this.
    spent_until: Option<Instant>,
    /// Why, in words (the usage header, or Salesforce's refusal).
    spent_why: String,
    wait: Option<Duration>,
}

impl Budget {
    pub fn new(cap: Option<u32>) -> Self {
        Budget {
            cap,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("budget lock")
    }

    /// Before a request: waits out a short hold of the org's budget;
    /// `Err` (a transient failure with the wait) while a longer one runs or
    /// this device's cap is reached. Otherwise the request is counted.
    pub async fn take(&self) -> Result<(), ConnectorError> {
        loop {
            let now = Instant::now();
            let hold = {
                let mut s = self.state();
                s.day.prune(now);
                match s.spent_until.filter(|u| *u > now) {
                    Some(until) if until - now > SHORT_HOLD => {
                        return Err(spent(until - now, &s.spent_why));
                    }
                    Some(until) => Some(until),
                    None => {
                        if let Some(cap) = self.cap {
                            if s.day.used() >= u64::from(cap) {
                                // The oldest counted request leaves the day first.
                                let wait = s.day.until_one_leaves(now);
                                return Err(spent(
                                    wait,
                                    &format!("this device used its share of the Salesforce API budget ({cap} requests a day, setting daily_request_cap)"),
                                ));
                            }
                        }
                        s.day.count(now);
                        None
                    }
                }
            };
            match hold {
                Some(until) => tokio::time::sleep_until(until).await,
                None => return Ok(()),
            }
        }
    }

    /// After an answer: the org's usage from `Sforce-Limit-Info`. Usage
    /// over the maximum holds the next request back as a 403 would; usage
    /// at the maximum does not (the window may free a slot before the next
    /// request: holding there cost a paced queue a second a request), and a
    /// 403 then holds it.
    pub fn observe(&self, header: Option<&str>) {
        let Some((used, max)) = header.and_then(parse_usage) else {
            return;
        };
        let mut s = self.state();
        s.org = Some((used, max));
        if used > max {
            Self::hold(&mut s);
            s.spent_why = format!(
                "the Salesforce org's API requests are used up for now (Sforce-Limit-Info: {used} of {max})"
            );
        } else if used < max {
            s.spent_until = None;
            s.wait = None;
        }
    }

    /// After a 403 `REQUEST_LIMIT_EXCEEDED`: the error to report, with the
    /// wait before the next request.
    pub fn exceeded(&self) -> ConnectorError {
        let mut s = self.state();
        let wait = Self::hold(&mut s);
        s.spent_why =
            "the Salesforce org's daily API budget is spent (REQUEST_LIMIT_EXCEEDED)".to_owned();
        spent(wait, &s.spent_why)
    }

    fn hold(s: &mut State) -> Duration {
        let wait = s.wait.map_or(FIRST_WAIT, |w| (w * 2).min(MAX_WAIT));
        s.wait = Some(wait);
        s.spent_until = Some(Instant::now() + wait);
        wait
    }

    pub fn left(&self) -> ApiBudget {
        let s = self.state();
        ApiBudget {
            org_used: s.org.map(|o| o.0),
            org_max: s.org.map(|o| o.1),
            org_left: None,
            device_used: s.day.used(),
            device_cap: self.cap,
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

fn spent(wait: Duration, why: &str) -> ConnectorError {
    ConnectorError::Transient {
        reason: why.to_owned(),
        retry_after: Some(wait),
    }
}

/// `api-usage=18/15000` (other `name=value` parts may follow).
pub fn parse_usage(header: &str) -> Option<(u64, u64)> {
    header.split([',', ';']).find_map(|part| {
        let (name, value) = part.trim().split_once('=')?;
        if name.trim() != "api-usage" {
            return None;
        }
        let (used, max) = value.trim().split_once('/')?;
        Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::device_day::{hour_of, DAY};
    use chrono::Utc;

    #[test]
    fn usage_headers_parse() {
        assert_eq!(parse_usage("api-usage=18/15000"), Some((18, 15000)));
        assert_eq!(
            parse_usage("per-app-api-usage=1/10(appName=x), api-usage=5/9"),
            Some((5, 9))
        );
        assert_eq!(parse_usage("api-usage=lots"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_org_budget_holds_requests_back_with_a_growing_wait() {
        let b = Budget::new(None);
        b.take().await.unwrap();
        // Usage at the maximum holds nothing: the next answer tells.
        b.observe(Some("api-usage=10/10"));
        let start = Instant::now();
        b.take().await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        // Over it, a short hold is waited out inside the request...
        b.observe(Some("api-usage=11/10"));
        b.take().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // ...each time the budget is still spent the wait doubles, and a
        // long one fails the request at once with the wait and the words.
        for _ in 0..2 {
            b.observe(Some("api-usage=11/10"));
            b.take().await.unwrap();
        }
        b.observe(Some("api-usage=11/10"));
        let err = b.take().await.unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(8)));
        assert!(err.to_string().contains("11 of 10"), "{err}");
        tokio::time::advance(Duration::from_secs(8)).await;
        b.take().await.unwrap();
        b.observe(Some("api-usage=3/10"));
        b.take().await.unwrap();
        assert_eq!(b.left().org_used, Some(3));
        assert!(b.exceeded().to_string().contains("REQUEST_LIMIT_EXCEEDED"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_device_cap_counts_a_rolling_day() {
        let b = Budget::new(Some(2));
        b.take().await.unwrap();
        tokio::time::advance(Duration::from_secs(60)).await;
        b.take().await.unwrap();
        let wait = b.take().await.unwrap_err().retry_after().unwrap();
        assert_eq!(wait, DAY - Duration::from_secs(60));
        tokio::time::advance(wait).await;
        b.take().await.unwrap();
        assert_eq!(b.left().device_used, 2);
    }

    #[tokio::test]
    async fn a_restart_goes_on_counting_the_day_it_restores() {
        let first = Budget::new(Some(3));
        first.take().await.unwrap();
        first.take().await.unwrap();
        let kept = first.device_usage();
        assert_eq!(kept.total(), 2);

        // The next process restores the count: one request left, then the
        // cap holds until the restored hour leaves the day.
        let next = Budget::new(Some(3));
        next.restore(&kept);
        assert_eq!(next.left().device_used, 2);
        next.take().await.unwrap();
        let wait = next.take().await.unwrap_err().retry_after().unwrap();
        assert!(
            wait > DAY && wait <= DAY + Duration::from_secs(3600),
            "{wait:?}"
        );
        let total = next.device_usage().total();
        assert_eq!(total, 3);

        // Hours that left the day are not restored.
        let mut old = DeviceUsage::default();
        old.add(hour_of(Utc::now()) - 26 * 3600, 99);
        next.restore(&old);
        assert_eq!(next.left().device_used, 1);
    }
}
