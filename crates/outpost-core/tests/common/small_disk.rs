//! A real, small file system for full-disk tests: a tmpfs of a few MiB
//! mounted on a private directory (root only; CI runs as root), filled to
//! the last byte by a filler file, and unmounted when dropped, also when
//! the test fails. Included by path (`#[path]`) in `storage_faults.rs` and the
//! root CLI suite (`tests/storage_cli.rs`).
#![allow(dead_code)]

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mib` MiB, or says why not and returns `None`: the
    /// test then skips (not being root is the only expected reason).
    pub fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = TempDir::new().unwrap();
        let result = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={mib}m,mode=0700"))
            .arg("outpost-test")
            .arg(dir.path())
            .output();
        match result {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: a small file system cannot be mounted here (run the tests as root to check a full disk): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: `mount` cannot run here ({e}): a full disk is not checked");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes every byte left with a file; `Filler::free` gives them back.
    pub fn fill(&self) -> Filler {
        let path = self.dir.path().join("filler");
        let mut file = File::create(&path).unwrap();
        // Big writes first, then smaller ones for the last partial pages.
        for chunk in [1 << 20, 1 << 16, 1 << 12, 1] {
            let buf = vec![0xA5u8; chunk];
            loop {
                match file.write(&buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::StorageFull => break,
                    Err(e) => panic!("filling the small disk: {e}"),
                }
            }
        }
        Filler { path }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a store still open (a failed test) cannot keep it mounted.
        let _ = Command::new("umount")
            .arg("--lazy")
            .arg(self.dir.path())
            .status();
    }
}

/// The file that holds the rest of the disk.
pub struct Filler {
    path: PathBuf,
}

impl Filler {
    pub fn free(self) {
        std::fs::remove_file(&self.path).unwrap();
    }
}
