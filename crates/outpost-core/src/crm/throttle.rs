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

/// Headroom against clock skew and delay jitter between us and the CRM's
/// window, for a request whose answer has not come yet.
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
    /// The requests inside the window. A plain lock, held for a few
    /// instructions: an answer must never wait for an upload that sleeps
    /// in `acquire` holding `state`.
    slots: std::sync::Mutex<Slots>,
    /// Uploads waiting for a slot: background requests wait behind them.
    uploads_waiting: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    paused_until: Option<Instant>,
    /// When the last upload started; uploads count as active for a window.
    last_upload: Option<Instant>,
}

/// The window's requests, oldest first, each with the instant its slot
/// counts from. The CRM counts a request when it arrives, which is after we
/// send it and before its answer comes back: a slot counts from the send
/// plus [`MARGIN`], or from the answer if that came sooner. So a window is
/// never reused before the CRM's own would free it, and a quick answer
/// frees the slot sooner than the margin alone would (5 % of a 1 s window).
#[derive(Debug, Default)]
struct Slots {
    next: u64,
    sent: VecDeque<(u64, Instant)>,
}

impl Slots {
    fn expire(&mut self, now: Instant, per: Duration) {
        // Answers can make a later slot count from earlier than the front
        // one; it then expires with the front, which is only conservative.
        while self
            .sent
            .front()
            .is_some_and(|(_, from)| now.checked_duration_since(*from).is_some_and(|d| d >= per))
        {
            self.sent.pop_front();
        }
    }

    fn take(&mut self, now: Instant) -> Slot {
        self.next += 1;
        self.sent.push_back((self.next, now + MARGIN));
        Slot(Some(self.next))
    }

    /// When the oldest slot frees.
    fn frees_at(&self, per: Duration) -> Instant {
        self.sent.front().expect("a full window has requests").1 + per
    }
}

/// A request's place in the window, handed back with [`Throttle::answered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Slot(Option<u64>);

impl Throttle {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Throttle {
            limit: limit.filter(|l| l.requests > 0),
            state: Mutex::new(State::default()),
            slots: std::sync::Mutex::new(Slots::default()),
            uploads_waiting: AtomicUsize::new(0),
        }
    }

    pub fn unlimited() -> Self {
        Throttle::new(None)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().expect("throttle slots lock")
    }

    /// Waits until one more request fits the budget, then counts it. The lock
    /// is held while waiting so callers are served first come, first served.
    pub async fn acquire(&self) -> Slot {
        if is_background() {
            return self.acquire_background().await;
        }
        self.uploads_waiting.fetch_add(1, Ordering::SeqCst);
        let mut st = self.state.lock().await;
        self.uploads_waiting.fetch_sub(1, Ordering::SeqCst);
        if let Some(until) = st.paused_until.take() {
            tokio::time::sleep_until(until).await;
        }
        let slot = match self.limit {
            None => Slot(None),
            Some(limit) => loop {
                let now = Instant::now();
                let frees_at = {
                    let mut slots = self.slots();
                    slots.expire(now, limit.per);
                    if slots.sent.len() < limit.requests as usize {
                        break slots.take(now);
                    }
                    slots.frees_at(limit.per)
                };
                tokio::time::sleep_until(frees_at).await;
            },
        };
        st.last_upload = Some(Instant::now());
        slot
    }

    /// The answer to a request came: its slot counts from now if that is
    /// sooner than its send plus the margin.
    pub fn answered(&self, slot: Slot) {
        let Slot(Some(id)) = slot else {
            return;
        };
        let now = Instant::now();
        let mut slots = self.slots();
        if let Some(entry) = slots.sent.iter_mut().rev().find(|(i, _)| *i == id) {
            entry.1 = entry.1.min(now);
        }
    }

    /// A background request: it takes a slot only when no upload is waiting
    /// and, while uploads are active, only below the reserved share. It never
    /// holds the lock while waiting, so an upload can always go first.
    async fn acquire_background(&self) -> Slot {
        loop {
            let wait_until = {
                let st = self.state.lock().await;
                let now = Instant::now();
                match st.paused_until {
                    Some(until) if until > now => until,
                    _ if self.uploads_waiting.load(Ordering::SeqCst) > 0 => {
                        now + Duration::from_millis(20)
                    }
                    _ => match self.limit {
                        None => return Slot(None),
                        Some(limit) => {
                            let mut slots = self.slots();
                            slots.expire(now, limit.per);
                            let uploads_active = st
                                .last_upload
                                .is_some_and(|t| now.duration_since(t) < limit.per + MARGIN);
                            let reserve = if uploads_active {
                                (limit.requests / RESERVE_DIV).max(1)
                            } else {
                                0
                            };
                            let budget = limit.requests.saturating_sub(reserve).max(1) as usize;
                            if slots.sent.len() < budget {
                                return slots.take(now);
                            }
                            let nth = slots.sent.len() - budget;
                            slots.sent[nth].1 + limit.per
                        }
                    },
                }
            };
            tokio::time::sleep_until(wait_until).await;
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
            let _ = t.acquire().await;
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
            let _ = background(t.acquire()).await;
        }
        let start = Instant::now();
        // The window is full: an upload and a background request both wait;
        // the upload gets the first free slot.
        let bg = tokio::spawn({
            let t = t.clone();
            async move {
                let _ = background(t.acquire()).await;
                Instant::now()
            }
        });
        tokio::task::yield_now().await;
        let _ = t.acquire().await;
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
        let _ = tokio::time::timeout(Duration::from_millis(1), t.acquire())
            .await
            .expect("an upload finds its reserved slot at once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_answer_frees_its_slot_sooner_than_the_margin() {
        let t = Throttle::new(Some(RateLimit {
            requests: 2,
            per: Duration::from_secs(1),
        }));
        let start = Instant::now();
        let answered = t.acquire().await;
        tokio::time::advance(Duration::from_millis(10)).await;
        t.answered(answered);
        let _unanswered = t.acquire().await;
        // The first slot counts from its answer (10 ms), not its send plus
        // the 50 ms margin; the second, unanswered, from send plus margin.
        let _ = t.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1010));
        let _ = t.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(1060));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_every_request() {
        let t = Throttle::unlimited();
        t.pause_for(Duration::from_secs(3)).await;
        let start = Instant::now();
        let _ = t.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        let again = Instant::now();
        let _ = t.acquire().await;
        assert!(again.elapsed() < Duration::from_millis(1));
    }
}
