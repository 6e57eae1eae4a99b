//! Whether the settings are unlocked in this process (the window; a CLI run
//! unlocks once, at its start), and for how long: they lock again after a
//! few minutes without admin activity. Only actions
//! (testing, saving, removing) are activity; reading the list is not, or a
//! screen left open would never lock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const IDLE_LOCK: Duration = Duration::from_secs(crate::admin::IDLE_LOCK_SECS);

#[derive(Default)]
pub struct AdminSession {
    last_activity: Mutex<Option<Instant>>,
}

impl AdminSession {
    pub fn unlock(&self) {
        *self.last_activity.lock().expect("session lock") = Some(Instant::now());
    }

    pub fn lock(&self) {
        *self.last_activity.lock().expect("session lock") = None;
    }

    /// True when unlocked and not idle too long; counts as activity.
    pub fn touch(&self) -> bool {
        self.touch_at(Instant::now())
    }

    /// True when unlocked and not idle too long; does not count as activity.
    pub fn is_unlocked(&self) -> bool {
        self.is_unlocked_at(Instant::now())
    }

    fn touch_at(&self, now: Instant) -> bool {
        let mut last = self.last_activity.lock().expect("session lock");
        match *last {
            Some(at) if now.saturating_duration_since(at) < IDLE_LOCK => {
                *last = Some(now);
                true
            }
            _ => {
                *last = None;
                false
            }
        }
    }

    fn is_unlocked_at(&self, now: Instant) -> bool {
        self.last_activity
            .lock()
            .expect("session lock")
            .is_some_and(|at| now.saturating_duration_since(at) < IDLE_LOCK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn reading_does_not_keep_the_settings_unlocked_but_actions_do() {
        let session = AdminSession::default();
        assert!(!session.is_unlocked());
        session.unlock();
        let t0 = session.last_activity.lock().unwrap().unwrap();

        // Reads every minute: the session still locks 5 minutes after unlocking.
        for m in 1..5 {
            assert!(session.is_unlocked_at(t0 + m * MINUTE));
        }
        assert!(!session.is_unlocked_at(t0 + 5 * MINUTE));

        // An action at minute 4 restarts the clock.
        assert!(session.touch_at(t0 + 4 * MINUTE));
        assert!(session.is_unlocked_at(t0 + 8 * MINUTE));
        assert!(!session.is_unlocked_at(t0 + 9 * MINUTE));
        // Too late for an action: it locks for good.
        assert!(!session.touch_at(t0 + 9 * MINUTE));
        assert!(!session.is_unlocked_at(t0 + 4 * MINUTE));
    }

    #[test]
    fn lock_ends_the_session_at_once() {
        let session = AdminSession::default();
        session.unlock();
        assert!(session.touch());
        session.lock();
        assert!(!session.is_unlocked());
        assert!(!session.touch());
    }
}
