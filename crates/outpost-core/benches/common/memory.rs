//! Memory measurements shared by the benches: the process's resident set
//! and SQLite's own allocations, sampled while a pass runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The resident set now, in KiB (0 where /proc is not there).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// SQLite's own allocations (page caches, statements) at their peak since
/// the last reset: bounded by the pool's 4 connections × 16 MiB of cache,
/// whatever the data size.
pub fn sqlite_peak_mib(reset: bool) -> f64 {
    // SAFETY: a plain read (and reset) of SQLite's global memory counter.
    let bytes = unsafe { libsqlite3_sys::sqlite3_memory_highwater(reset as i32) };
    bytes as f64 / (1024.0 * 1024.0)
}

/// Samples the resident set every 20 ms until dropped; `peak()` is the most seen.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let thread = std::thread::spawn({
            let (stop, peak) = (stop.clone(), peak.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        RssSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    pub fn peak(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.peak.load(Ordering::Relaxed)
    }
}
