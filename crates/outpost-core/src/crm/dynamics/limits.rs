//! Dataverse's service protection limits, kept on our side: per user,
//! 6,000 requests in a sliding 5 minutes, where a `$batch` counts as one
//! request plus one per operation (the reading the emulator defaults to;
//! the other reading only makes us slower). Every request takes its
//! weight from [`Budget`] before it goes out, so a steady flush stays
//! under the ceiling instead of bouncing off 429s. Each answer's
//! `x-ms-ratelimit-burst-remaining-xrm-requests` corrects our count when
//! others (another device, a restart) used the same user's window.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::crm::connector::RateLimit;

/// Dataverse's documented window.
pub const WINDOW: Duration = Duration::from_secs(300);
/// 98 % of the 6,000 requests: room for clock skew and the odd request of
/// another tool under the same application user.
pub const DEFAULT_LIMIT: RateLimit = RateLimit {
    requests: 5_880,
    per: WINDOW,
};
/// When Dataverse says no execution time is left in the window, every
/// request waits this long before trying. (Requests left are kept by the
/// [`Budget`] itself: a window used to its last request is no reason to
/// hold, the budget already waits for room.)
pub const HOLD: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Budget {
    limit: RateLimit,
    /// `(id, when it counts from, weight)`, oldest first. A request counts
    /// from when it was sent until its answer comes, then from the answer:
    /// Dataverse counts it (and a batch's operations, as it runs them)
    /// somewhere in between, so counting from the send alone let our window
    /// free a slot before Dataverse's did (429s in the benchmark).
    sent: Mutex<VecDeque<(u64, Instant, u32)>>,
    next: std::sync::atomic::AtomicU64,
    /// Serves waiters first come, first served.
    turn: tokio::sync::Mutex<()>,
}

impl Budget {
    pub fn new(limit: RateLimit) -> Self {
        Budget {
            limit,
            sent: Mutex::new(VecDeque::new()),
            next: std::sync::atomic::AtomicU64::new(0),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn used(sent: &mut VecDeque<(u64, Instant, u32)>, now: Instant, per: Duration) -> u32 {
        while sent
            .front()
            .is_some_and(|(_, at, _)| now.saturating_duration_since(*at) >= per)
        {
            sent.pop_front();
        }
        sent.iter().map(|(_, _, w)| w).sum()
    }

    /// Waits until `weight` more requests fit the window, then counts them;
    /// hand the ticket to [`Budget::answered`] when the answer comes.
    /// A weight above the whole limit is capped to it (it can never fit).
    pub async fn take(&self, weight: u32) -> Ticket {
        let weight = weight.clamp(1, self.limit.requests);
        let _turn = self.turn.lock().await;
        loop {
            let now = Instant::now();
            let wait_until = {
                let mut sent = self.sent.lock().expect("budget lock");
                let used = Self::used(&mut sent, now, self.limit.per);
                if used + weight <= self.limit.requests {
                    let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    sent.push_back((id, now, weight));
                    return Ticket(id);
                }
                // The oldest entries that must leave for this one to fit.
                let mut freed = 0;
                let mut until = now;
                for (_, at, w) in sent.iter() {
                    freed += w;
                    until = *at + self.limit.per;
                    if used - freed + weight <= self.limit.requests {
                        break;
                    }
                }
                until
            };
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Requests that fit the window now, without waiting.
    pub fn room(&self) -> u32 {
        let mut sent = self.sent.lock().expect("budget lock");
        let used = Self::used(&mut sent, Instant::now(), self.limit.per);
        self.limit.requests.saturating_sub(used)
    }

    /// The answer to the ticket's request came: it counts from now on.
    pub fn answered(&self, ticket: Ticket) {
        let now = Instant::now();
        let mut sent = self.sent.lock().expect("budget lock");
        if let Some(entry) = sent.iter_mut().rev().find(|(id, _, _)| *id == ticket.0) {
            entry.1 = entry.1.max(now);
        }
    }

    /// Dataverse's count of requests left in its window: when it has fewer
    /// than we think, the difference counts from now.
    pub fn observe_remaining(&self, remaining: u32) {
        let now = Instant::now();
        let mut sent = self.sent.lock().expect("budget lock");
        let used = Self::used(&mut sent, now, self.limit.per);
        // Dataverse's own ceiling is 6,000; ours is lower, so compare what is left.
        let ours = self.limit.requests.saturating_sub(used);
        if remaining < ours {
            let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            sent.push_back((id, now, ours - remaining));
        }
    }
}

/// A request's place in the [`Budget`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Ticket(u64);

/// Reads the limit headers of an answer: the requests left in Dataverse's
/// window, and whether its execution time is spent.
pub fn spent(headers: &reqwest::header::HeaderMap) -> (Option<u32>, bool) {
    let read = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let burst = read("x-ms-ratelimit-burst-remaining-xrm-requests");
    let time = read("x-ms-ratelimit-time-remaining-xrm-requests");
    let spent = time == Some(0);
    (burst.map(|b| b.min(u32::MAX as u64) as u32), spent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_batch_waits_until_its_weight_fits() {
        let b = Budget::new(RateLimit {
            requests: 10,
            per: Duration::from_secs(300),
        });
        let t0 = Instant::now();
        let _ = b.take(6).await;
        let _ = b.take(4).await;
        assert_eq!(b.room(), 0);
        assert_eq!(Instant::now(), t0);
        let _ = b.take(5).await;
        // The first batches had to leave the window.
        assert_eq!(Instant::now() - t0, Duration::from_secs(300));
        assert_eq!(b.room(), 5);
        // Larger than the limit: capped, so it still goes.
        let _ = b.take(50).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_counts_from_its_answer_once_it_comes() {
        let b = Budget::new(RateLimit {
            requests: 10,
            per: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        let slow = b.take(10).await;
        // Dataverse may count a batch's operations as late as its answer.
        tokio::time::advance(Duration::from_secs(3)).await;
        b.answered(slow);
        let _ = b.take(1).await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(13));
    }

    #[tokio::test(start_paused = true)]
    async fn dataverse_saying_less_is_left_counts() {
        let b = Budget::new(RateLimit {
            requests: 100,
            per: Duration::from_secs(300),
        });
        let _ = b.take(10).await;
        b.observe_remaining(40);
        assert_eq!(b.room(), 40);
        b.observe_remaining(90);
        assert_eq!(b.room(), 40);
    }

    #[test]
    fn headers_say_when_the_window_is_spent() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "x-ms-ratelimit-burst-remaining-xrm-requests",
            "0".parse().unwrap(),
        );
        // No requests left: the budget waits for room, no hold.
        assert_eq!(spent(&h), (Some(0), false));
        h.insert(
            "x-ms-ratelimit-burst-remaining-xrm-requests",
            "12".parse().unwrap(),
        );
        h.insert(
            "x-ms-ratelimit-time-remaining-xrm-requests",
            "0".parse().unwrap(),
        );
        assert_eq!(spent(&h), (Some(12), true));
        assert_eq!(spent(&reqwest::header::HeaderMap::new()), (None, false));
    }
}
