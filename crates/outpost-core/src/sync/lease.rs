//! One deliverer per database: the lease a process holds while it delivers
//! and pulls (the window's engine, `outpost sync --once`, `sync --watch`,
//! `outpost pull`).
//!
//! The lease is an OS advisory lock (`flock` on Unix, `LockFileEx` on
//! Windows, through `std::fs::File::try_lock`) on a file beside the database.
//! The kernel drops it the moment its holder exits or is killed, so a crash
//! frees the lease at once and needs no heartbeat or expiry clock; and
//! whoever holds it knows that every message still in flight was left by a
//! holder that is gone. The lock belongs to one open file, so two engines in
//! one process exclude each other too.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a one-shot deliverer (`sync --once`, `pull`) waits for the
/// lease before saying another process is delivering.
pub const ONE_SHOT_WAIT: Duration = Duration::from_secs(3);
/// How often a waiting engine tries the lease: it takes over within this
/// much of the holder going away.
pub const RETRY: Duration = Duration::from_millis(250);
/// The words a caller without the lease reports (the CLI contract's
/// `"skipped"` value).
pub const ANOTHER_PROCESS: &str = "another process is delivering";

/// Held while this process delivers for the database; dropping it releases
/// the lease. The file stays (removing a lock file races with its next user).
#[derive(Debug)]
pub struct Lease {
    _file: File,
}

impl Lease {
    /// The lock file of the database at `db`: `outpost.db` → `outpost.db-deliverer.lock`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push("-deliverer.lock");
        PathBuf::from(name)
    }

    /// Takes the lease if nobody holds it; `None` when another holder does.
    /// Never blocks.
    pub fn try_take(db: &Path) -> Result<Option<Lease>> {
        let path = Self::path_for(db);
        let open_error = |source| Error::Open {
            path: path.display().to_string(),
            source,
        };
        let mut options = OpenOptions::new();
        // No truncation before the lock: the file names the current holder.
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(open_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(open_error(e)),
        }
        // For people and logs only: who holds it (never read to decide).
        let pid = std::process::id();
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{pid}"));
        Ok(Some(Lease { _file: file }))
    }

    /// Takes the lease, waiting up to `wait` for its holder to let it go.
    pub async fn take_within(db: &Path, wait: Duration) -> Result<Option<Lease>> {
        let end = Instant::now() + wait;
        loop {
            if let Some(lease) = Self::try_take(db)? {
                return Ok(Some(lease));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            tokio::time::sleep(left.min(RETRY)).await;
        }
    }

    /// The process id the current (or last) holder wrote, for messages.
    pub fn holder_pid(db: &Path) -> Option<u32> {
        let mut text = String::new();
        File::open(Self::path_for(db))
            .ok()?
            .read_to_string(&mut text)
            .ok()?;
        text.trim().parse().ok()
    }

    /// "another Outpost process (pid 4242) is delivering for this database".
    pub fn describe_holder(db: &Path) -> String {
        match Self::holder_pid(db) {
            Some(pid) => {
                format!("another Outpost process (pid {pid}) is delivering for this database")
            }
            None => "another Outpost process is delivering for this database".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_free_again_when_dropped() {
        let dir = tempfile::TempDir::new().unwrap();
        let db = dir.path().join("till.db");
        let first = Lease::try_take(&db).unwrap().expect("free at first");
        assert!(Lease::try_take(&db).unwrap().is_none(), "held");
        assert_eq!(Lease::holder_pid(&db), Some(std::process::id()));
        let started = Instant::now();
        let waited = Lease::take_within(&db, Duration::from_millis(300))
            .await
            .unwrap();
        assert!(waited.is_none());
        assert!(started.elapsed() >= Duration::from_millis(300));
        drop(first);
        assert!(Lease::try_take(&db).unwrap().is_some(), "released on drop");
    }
}
