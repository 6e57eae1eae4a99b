//! Shared by the CLI suites: the real `outpost` binary with a private
//! database, and adding an endpoint the way an admin's script does.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crm_emulator::{Config, Emulator};
use serde_json::Value;
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

/// Runs `outpost` on `db` with no default region from the machine's locale.
pub fn run(db: &Path, args: &[&str]) -> Output {
    outpost(db)
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .output()
        .expect("outpost runs")
}

/// [`run`] with `stdin` piped in (secrets, as an admin's script sends them).
pub fn run_with_stdin(db: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = outpost(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("outpost runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// [`run`] with `--json`, which must succeed; its stdout parsed.
pub fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(db, &all);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// A `--json` run's error, which goes to stderr as JSON.
pub fn json_error(out: &Output) -> Value {
    serde_json::from_slice(&out.stderr).expect("--json errors are JSON on stderr")
}

/// A database file `till.db` in a directory of its own (removed on drop).
pub fn till_db() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("till.db");
    (dir, db)
}

/// `out`'s stderr, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A loopback port with nothing listening.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `{prefix}-` and 8 hex digits: an endpoint name no other suite uses (the
/// keyring session may be shared with them).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}
