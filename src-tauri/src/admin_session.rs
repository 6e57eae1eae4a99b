//! Whether the settings are unlocked in this window, and for how long: they
//! lock again after a few minutes without admin activity.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const IDLE_LOCK: Duration = Duration::from_secs(5 * 60);

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
        let mut last = self.last_activity.lock().expect("session lock");
        match *last {
            Some(at) if at.elapsed() < IDLE_LOCK => {
                *last = Some(Instant::now());
                true
            }
            _ => {
                *last = None;
                false
            }
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.last_activity
            .lock()
            .expect("session lock")
            .is_some_and(|at| at.elapsed() < IDLE_LOCK)
    }
}
