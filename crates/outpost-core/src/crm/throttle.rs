//! Keeps an endpoint under its CRM's request budget instead of bouncing off
//! 429s, and holds every request back while a `Retry-After` runs.
//!
//! Two priorities share the budget: uploads of pending creations (the
//! default) and background work such as the working-set pull, marked by
//! running it inside [`background`]. Background requests never queue ahead
//! of an upload, and while uploads are active they leave a share of the
//! window free for them; with no uploads they may use the whole budget.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::connector::RateLimit;

/// Headroom against clock skew between us and the CRM's window.
const MARGIN: Duration = Duration::from_millis(50);

/// Share of a window kept free for uploads while they are active (1/RESERVE_DIV).
const RESERVE_DIV: u32 = 5;

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `f` with background priority for every throttled request it makes.
pub async fn background<F: Future>(f: F) -> F::Output {
    BACKGROUND.scope((), f).await
}

fn is_background() -> bool {
    BACKGROUND.try_with(|_| ()).is_ok()
}

#[derive(Debug)]
pub struct Throttle {
    limit: Option<RateLimit>,
    state: Mutex<State>,
    /// Uploads waiting for a slot: background requests wait behind them.
    uploads_waiting: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    /// Start times of the requests inside the current window, oldest first.
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
    /// When the last upload started; uploads count as active for a window.
    last_upload: Option<Instant>,
}

impl Throttle {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Throttle {
            limit: limit.filter(|l| l.requests > 0),
            state: Mutex::new(State::default()),
            uploads_waiting: AtomicUsize::new(0),
        }
    }

    pub fn unlimited() -> Self {
        Throttle::new(None)
    }

    /// Waits until one more request fits the budget, then counts it. The lock
    /// is held while waiting so callers are served first come, first served.
    pub async fn acquire(&self) {
        if is_background() {
            return self.acquire_background().await;
        }
        self.uploads_waiting.fetch_add(1, Ordering::SeqCst);
        let mut st = self.state.lock().await;
        self.uploads_waiting.fetch_sub(1, Ordering::SeqCst);
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
        st.last_upload = Some(Instant::now());
    }

    /// A background request: it takes a slot only when no upload is waiting
    /// and, while uploads are active, only below the reserved share. It never
    /// holds the lock while waiting, so an upload can always go first.
    async fn acquire_background(&self) {
        loop {
            let wait_until = {
                let mut st = self.state.lock().await;
                let now = Instant::now();
                let wait_until = match st.paused_until {
                    Some(until) if until > now => Some(until),
                    _ if self.uploads_waiting.load(Ordering::SeqCst) > 0 => {
                        Some(now + Duration::from_millis(20))
                    }
                    _ => match self.limit {
                        None => None,
                        Some(limit) => {
                            let window = limit.per + MARGIN;
                            while st
                                .sent
                                .front()
                                .is_some_and(|t| now.duration_since(*t) >= window)
                            {
                                st.sent.pop_front();
                            }
                            let uploads_active = st
                                .last_upload
                                .is_some_and(|t| now.duration_since(t) < window);
                            let reserve = if uploads_active {
                                (limit.requests / RESERVE_DIV).max(1)
                            } else {
                                0
                            };
                            let budget = limit.requests.saturating_sub(reserve).max(1) as usize;
                            if st.sent.len() < budget {
                                None
                            } else {
                                let nth = st.sent.len() - budget;
                                Some(st.sent[nth] + window)
                            }
                        }
                    },
                };
                if wait_until.is_none() {
                    st.sent.push_back(now);
                    return;
                }
                wait_until
            };
            if let Some(until) = wait_until {
                tokio::time::sleep_until(until).await;
            }
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
    async fn uploads_go_before_background_requests() {
        let t = std::sync::Arc::new(Throttle::new(Some(RateLimit {
            requests: 10,
            per: Duration::from_secs(1),
        })));
        // Background alone may use the whole window.
        for _ in 0..10 {
            background(t.acquire()).await;
        }
        let start = Instant::now();
        // The window is full: an upload and a background request both wait;
        // the upload gets the first free slot.
        let bg = tokio::spawn({
            let t = t.clone();
            async move {
                background(t.acquire()).await;
                Instant::now()
            }
        });
        tokio::task::yield_now().await;
        t.acquire().await;
        let upload_at = Instant::now();
        let bg_at = bg.await.unwrap();
        assert!(
            upload_at <= bg_at,
            "upload {upload_at:?} after background {bg_at:?}"
        );
        assert!(upload_at - start <= Duration::from_millis(1100));
        // While uploads are active, background leaves them a share of the
        // window: 2 of 10 slots are taken, background may add 6 (80 %).
        let mut granted = 0;
        while tokio::time::timeout(Duration::from_millis(1), background(t.acquire()))
            .await
            .is_ok()
        {
            granted += 1;
        }
        assert_eq!(granted, 6);
        tokio::time::timeout(Duration::from_millis(1), t.acquire())
            .await
            .expect("an upload finds its reserved slot at once");
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
