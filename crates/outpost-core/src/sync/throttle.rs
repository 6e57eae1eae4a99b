//! Keeps an endpoint under its CRM's request budget instead of bouncing off
//! 429s, and holds every request back while a `Retry-After` runs.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::connector::RateLimit;

/// Headroom against clock skew between us and the CRM's window.
const MARGIN: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct Throttle {
    limit: Option<RateLimit>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Start times of the requests inside the current window, oldest first.
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Throttle {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Throttle {
            limit: limit.filter(|l| l.requests > 0),
            state: Mutex::new(State::default()),
        }
    }

    pub fn unlimited() -> Self {
        Throttle::new(None)
    }

    /// Waits until one more request fits the budget, then counts it. The lock
    /// is held while waiting so callers are served first come, first served.
    pub async fn acquire(&self) {
        let mut st = self.state.lock().await;
        if let Some(until) = st.paused_until.take() {
            tokio::time::sleep_until(until).await;
        }
        if let Some(limit) = self.limit {
            let window = limit.per + MARGIN;
            loop {
                let now = Instant::now();
                while st
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    st.sent.pop_front();
                }
                if st.sent.len() < limit.requests as usize {
                    break;
                }
                let oldest = *st.sent.front().expect("window is full");
                tokio::time::sleep_until(oldest + window).await;
            }
            st.sent.push_back(Instant::now());
        }
    }

    /// No request starts before `after` has passed (a CRM's `Retry-After`).
    pub async fn pause_for(&self, after: Duration) {
        let until = Instant::now() + after;
        let mut st = self.state.lock().await;
        st.paused_until = Some(st.paused_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_exceeds_the_budget_in_any_window() {
        let t = Throttle::new(Some(RateLimit {
            requests: 5,
            per: Duration::from_secs(1),
        }));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..12 {
            t.acquire().await;
            at.push(start.elapsed());
        }
        for (i, a) in at.iter().enumerate().skip(5) {
            assert!(
                *a - at[i - 5] >= Duration::from_secs(1),
                "request {i} at {a:?} breaks the window"
            );
        }
        assert!(
            at[11] < Duration::from_millis(2200),
            "and it is not slower than needed: {:?}",
            at[11]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_every_request() {
        let t = Throttle::unlimited();
        t.pause_for(Duration::from_secs(3)).await;
        let start = Instant::now();
        t.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        let again = Instant::now();
        t.acquire().await;
        assert!(again.elapsed() < Duration::from_millis(1));
    }
}
