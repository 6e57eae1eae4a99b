//! A device's requests to one CRM over the last 24 hours, for CRMs whose
//! budget is a rolling day (Salesforce's API requests, Zoho's credits).
//! This process's requests are counted by their time; earlier processes'
//! come from the store by UTC hour ([`DeviceUsage`]), and a restored hour
//! counts until a day after its end (its requests may have come at its
//! last minute), so a restart goes on counting.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::connector::DeviceUsage;

pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Default)]
pub struct DeviceDay {
    /// This process's requests inside the last day, oldest first.
    sent: VecDeque<Instant>,
    /// Earlier processes' requests by UTC hour (from the store).
    earlier: Vec<(i64, u32)>,
}

impl DeviceDay {
    /// Forgets what left the day.
    pub fn prune(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= DAY)
        {
            self.sent.pop_front();
        }
        let wall = Utc::now();
        self.earlier
            .retain(|(hour, _)| earlier_expiry(*hour, wall) > Duration::ZERO);
    }

    pub fn count(&mut self, now: Instant) {
        self.sent.push_back(now);
    }

    /// Requests in the last day, earlier processes' included.
    pub fn used(&self) -> u64 {
        self.sent.len() as u64 + self.earlier.iter().map(|(_, n)| u64::from(*n)).sum::<u64>()
    }

    /// How long until the oldest counted request leaves the day.
    pub fn until_one_leaves(&self, now: Instant) -> Duration {
        match self.earlier.iter().map(|(h, _)| *h).min() {
            Some(hour) => earlier_expiry(hour, Utc::now()),
            None => self.sent.front().map_or(Duration::ZERO, |oldest| {
                DAY.saturating_sub(now.duration_since(*oldest))
            }),
        }
    }

    /// The day by UTC hour, to keep in the store: earlier processes'
    /// requests (as restored) and this one's.
    pub fn usage(&self) -> DeviceUsage {
        let (now, wall) = (Instant::now(), Utc::now());
        let mut usage = DeviceUsage::default();
        for (hour, n) in &self.earlier {
            usage.add(*hour, *n);
        }
        for t in &self.sent {
            let at = wall - chrono::Duration::from_std(now.duration_since(*t)).unwrap_or_default();
            usage.add(hour_of(at), 1);
        }
        usage
    }

    /// Counts what earlier processes sent (as the store kept it); replaces
    /// an earlier restore.
    pub fn restore(&mut self, usage: &DeviceUsage) {
        let wall = Utc::now();
        self.earlier = usage
            .hours
            .iter()
            .filter(|(hour, _)| earlier_expiry(*hour, wall) > Duration::ZERO)
            .copied()
            .collect();
    }
}

/// The start of `at`'s UTC hour, in Unix seconds.
pub fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(3600) * 3600
}

/// How long a restored hour still counts: until a day after it ended.
fn earlier_expiry(hour: i64, wall: DateTime<Utc>) -> Duration {
    let end = hour + 3600 + DAY.as_secs() as i64;
    Duration::from_secs(end.saturating_sub(wall.timestamp()).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_counts_for_a_day_and_a_restored_hour_until_a_day_after_it() {
        let mut day = DeviceDay::default();
        let start = Instant::now();
        day.count(start);
        tokio::time::advance(Duration::from_secs(60)).await;
        day.count(Instant::now());
        assert_eq!(day.used(), 2);
        assert_eq!(
            day.until_one_leaves(Instant::now()),
            DAY - Duration::from_secs(60)
        );
        let kept = day.usage();
        assert_eq!(kept.total(), 2);

        let mut next = DeviceDay::default();
        next.restore(&kept);
        assert_eq!(next.used(), 2, "a restart goes on counting");
        let wait = next.until_one_leaves(Instant::now());
        assert!(
            wait > DAY && wait <= DAY + Duration::from_secs(3600),
            "{wait:?}"
        );

        let mut old = DeviceUsage::default();
        old.add(hour_of(Utc::now()) - 26 * 3600, 99);
        next.restore(&old);
        assert_eq!(next.used(), 0, "an hour that left the day is not restored");

        tokio::time::advance(DAY).await;
        day.prune(Instant::now());
        assert_eq!(day.used(), 0);
    }
}
