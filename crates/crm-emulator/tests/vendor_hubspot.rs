//! HubSpot's official Python client (`hubspot-api-client`, strict mode) against
//! the emulator's HubSpot API: tests/vendor-clients/hubspot_client.py, run by
//! the venv that `scripts/setup --test` builds (scripts/vendor-clients-venv).
//! Without that venv the test fails when `CI` is set and is skipped loudly
//! otherwise.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crm_emulator::Config;

/// Far more than the script needs (about two seconds); a hung run fails.
const DEADLINE: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python, when the venv holds exactly the pinned requirements.
fn venv_python() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("OUTPOST_VENDOR_CLIENTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").ok_or("HOME is not set")?)
            .join(".cache/outpost-vendor-clients"),
    };
    let venv = dir.join("venv");
    let wanted = std::fs::read(repo().join("tests/vendor-clients/requirements.txt"))
        .map_err(|e| format!("tests/vendor-clients/requirements.txt: {e}"))?;
    match std::fs::read(venv.join(".outpost-installed")) {
        Ok(have) if have == wanted => Ok(venv.join("bin/python")),
        Ok(_) => Err(format!(
            "the venv {} holds other requirements than tests/vendor-clients/requirements.txt",
            venv.display()
        )),
        Err(_) => Err(format!("no vendor-client venv at {}", venv.display())),
    }
}

#[tokio::test]
async fn hubspot_official_python_client() {
    let python = match venv_python() {
        Ok(p) => p,
        Err(why) => {
            let msg = format!("{why}: run scripts/setup --test (or scripts/vendor-clients-venv)");
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("{msg}");
            }
            // Straight to stderr: the test harness would swallow eprintln!.
            let banner = "!".repeat(72);
            let _ = writeln!(
                std::io::stderr(),
                "\n{banner}\nSKIPPING HubSpot's own client against the emulator (CI is not set):\n\
                 {msg}\n{banner}"
            );
            return;
        }
    };
    let emu = common::start_with(Config::unlimited()).await;
    let config = emu.config().clone();
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new(&python)
        .arg(repo().join("tests/vendor-clients/hubspot_client.py"))
        .args(["--crm", &emu.crm_url(), "--control", &emu.control_url()])
        .args(["--token", emu.token()])
        .args(["--client-id", &config.oauth_client_id])
        .args(["--client-secret", &config.oauth_client_secret])
        .args(["--refresh-token", &config.oauth_refresh_token])
        .arg("-v")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
    // The emulator runs on this runtime: wait without blocking it.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let report = format!(
        "{}{}",
        std::fs::read_to_string(&stdout).unwrap_or_default(),
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    match status {
        None => panic!("hubspot_client.py did not finish within {DEADLINE:?}:\n{report}"),
        Some(s) if !s.success() => {
            panic!("HubSpot's client disagrees with the emulator ({s}):\n{report}")
        }
        Some(_) => println!("{report}"),
    }
    emu.shutdown().await;
}
