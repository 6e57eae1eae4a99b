//! Rolling-window rate limiter (HubSpot's `TEN_SECONDLY_ROLLING` policy).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// Outcome of one request against the limiter.
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: RateLimit,
    /// Requests still allowed in the current window after this one.
    pub remaining: u32,
    /// When the oldest counted request leaves the window (for `Retry-After`).
    pub retry_after: Duration,
}

/// Counts only admitted requests: a rejected request does not extend the penalty.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    hits: VecDeque<Instant>,
}

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter {
            limit,
            hits: VecDeque::new(),
        }
    }

    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Changes the budget and forgets the history (a fresh window).
    pub fn set_limit(&mut self, limit: Option<RateLimit>) {
        self.limit = limit;
        self.hits.clear();
    }

    /// `(used, max)` in the current window without counting a request;
    /// `None` when limiting is off.
    pub fn usage(&mut self, now: Instant) -> Option<(u32, u32)> {
        let limit = self.limit?;
        while let Some(&oldest) = self.hits.front() {
            if now.duration_since(oldest) >= limit.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        Some((self.hits.len() as u32, limit.max))
    }

    pub fn reset(&mut self) {
        self.hits.clear();
    }

    /// Admits `n` requests at `now` together, or none of them (a Dataverse
    /// `$batch` counts each of its operations); `None` when limiting is off.
    pub fn check_n(&mut self, now: Instant, n: u32) -> Option<Verdict> {
        let limit = self.limit?;
        self.usage(now);
        let used = self.hits.len() as u64;
        let allowed = used + u64::from(n) <= u64::from(limit.max);
        if allowed {
            self.hits.extend(std::iter::repeat_n(now, n as usize));
        }
        // Refused: until enough old requests leave the window for all `n`
        // (never, for more than the limit: a whole window).
        let must_leave = (used + u64::from(n)).saturating_sub(u64::from(limit.max));
        let retry_after = if allowed {
            Duration::ZERO
        } else if u64::from(n) > u64::from(limit.max) {
            limit.window
        } else {
            let hit = self.hits[(must_leave - 1) as usize];
            limit.window.saturating_sub(now.duration_since(hit))
        };
        Some(Verdict {
            allowed,
            limit,
            remaining: limit.max.saturating_sub(self.hits.len() as u32),
            retry_after,
        })
    }

    /// Admits or rejects one request at `now`; `None` when limiting is off.
    pub fn check(&mut self, now: Instant) -> Option<Verdict> {
        let limit = self.limit?;
        while let Some(&oldest) = self.hits.front() {
            if now.duration_since(oldest) >= limit.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
        let allowed = (self.hits.len() as u32) < limit.max;
        if allowed {
            self.hits.push_back(now);
        }
        let retry_after = self
            .hits
            .front()
            .map(|&oldest| limit.window.saturating_sub(now.duration_since(oldest)))
            .unwrap_or_default();
        Some(Verdict {
            allowed,
            limit,
            remaining: limit.max.saturating_sub(self.hits.len() as u32),
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_the_window() {
        let mut rl = RateLimiter::new(Some(RateLimit {
            max: 2,
            window: Duration::from_secs(10),
        }));
        let t0 = Instant::now();
        assert!(rl.check(t0).unwrap().allowed);
        let v = rl.check(t0 + Duration::from_secs(1)).unwrap();
        assert!(v.allowed);
        assert_eq!(v.remaining, 0);
        let v = rl.check(t0 + Duration::from_secs(2)).unwrap();
        assert!(!v.allowed);
        assert_eq!(v.retry_after, Duration::from_secs(8));
        assert!(rl.check(t0 + Duration::from_secs(10)).unwrap().allowed);
        assert!(RateLimiter::new(None).check(t0).is_none());
    }

    #[test]
    fn admits_a_batch_whole_or_not_at_all() {
        let mut rl = RateLimiter::new(Some(RateLimit {
            max: 4,
            window: Duration::from_secs(10),
        }));
        let t0 = Instant::now();
        assert!(rl.check_n(t0, 2).unwrap().allowed);
        assert!(rl.check(t0 + Duration::from_secs(3)).unwrap().allowed);
        // 3 used: a batch of 3 needs the first two to leave (at 10 s).
        let v = rl.check_n(t0 + Duration::from_secs(4), 3).unwrap();
        assert!(!v.allowed);
        assert_eq!(v.retry_after, Duration::from_secs(6));
        assert_eq!(v.remaining, 1, "nothing was counted");
        let v = rl.check_n(t0 + Duration::from_secs(4), 9).unwrap();
        assert_eq!((v.allowed, v.retry_after), (false, Duration::from_secs(10)));
        assert!(rl.check_n(t0 + Duration::from_secs(10), 3).unwrap().allowed);
    }
}
