//! Shared by the CLI suites: the real `outpost` binary with a private
//! database, and adding an endpoint the way an admin's script does.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crm_emulator::{Config, Emulator};
use tempfile::TempDir;

pub fn outpost(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_outpost"));
    c.arg("--db")
        .arg(db)
        .env_remove("OUTPOST_DB")
        .env_remove("OUTPOST_ADMIN_PASSPHRASE");
    c
}

/// `outpost endpoints add ... --token-stdin` with the token on stdin.
pub fn add_endpoint(db: &Path, name: &str, kind: &str, url: &str, token: &str, extra: &[&str]) {
    let mut child = outpost(db)
        .args([
            "endpoints",
            "add",
            "--name",
            name,
            "--kind",
            kind,
            "--url",
            url,
            "--token-stdin",
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A database `file` in a directory of its own (removed on drop) with an
/// emulator, unlimited, configured as the generic REST endpoint "rest";
/// `extra` are more `endpoints add` flags.
pub async fn db_with_rest_crm(file: &str, extra: &[&str]) -> (TempDir, PathBuf, Emulator) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join(file);
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    add_endpoint(
        &db,
        "rest",
        "generic-rest",
        &emu.crm_url(),
        emu.token(),
        extra,
    );
    (dir, db, emu)
}
