//! The vendors' own clients (tests/vendor-clients/), installed by
//! `scripts/setup --test`: where they are, and running one against the
//! emulator with a deadline. Without a client a test fails when `CI` is set
//! and is skipped loudly otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far more than any script needs (a few seconds); a hung run fails.
pub const DEADLINE: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn clients_dir() -> PathBuf {
    repo().join("tests/vendor-clients")
}

/// The venv's python, when the venv holds exactly the pinned requirements.
pub fn venv_python() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("OUTPOST_VENDOR_CLIENTS_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").ok_or("HOME is not set")?)
            .join(".cache/outpost-vendor-clients"),
    };
    let venv = dir.join("venv");
    let wanted = std::fs::read(clients_dir().join("requirements.txt"))
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

/// `node`, when tests/vendor-clients/node_modules holds the jsforce that
/// package-lock.json pins.
pub fn node_with_jsforce() -> Result<PathBuf, String> {
    node_with("jsforce")
}

/// `node`, when tests/vendor-clients/node_modules holds the `package`
/// version that package-lock.json pins.
pub fn node_with(package: &str) -> Result<PathBuf, String> {
    let lock_path = clients_dir().join("package-lock.json");
    let lock: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let wanted = lock["packages"][format!("node_modules/{package}")]["version"]
        .as_str()
        .ok_or_else(|| format!("package-lock.json pins no {package}"))?
        .to_string();
    let installed = clients_dir().join(format!("node_modules/{package}/package.json"));
    let have: serde_json::Value = std::fs::read(&installed)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("{package} is not installed in {}", installed.display()))?;
    if have["version"].as_str() != Some(wanted.as_str()) {
        return Err(format!(
            "tests/vendor-clients/node_modules holds {package} {}, package-lock.json pins {wanted}",
            have["version"]
        ));
    }
    let node = PathBuf::from("node");
    match Command::new(&node).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(node),
        _ => Err("node is not on PATH".to_string()),
    }
}

/// The client, or: a panic under `CI`, a loud skip otherwise (`None`).
pub fn installed(what: &str, found: Result<PathBuf, String>) -> Option<PathBuf> {
    match found {
        Ok(p) => Some(p),
        Err(why) => {
            let msg = format!("{why}: run scripts/setup --test");
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("{msg}");
            }
            // Straight to stderr: the test harness would swallow eprintln!.
            let banner = "!".repeat(72);
            let _ = writeln!(
                std::io::stderr(),
                "\n{banner}\nSKIPPING {what} against the emulator (CI is not set):\n{msg}\n{banner}"
            );
            None
        }
    }
}

/// Runs `program args` to the end (or the deadline) without blocking the
/// emulator's runtime; panics with its output unless it exits 0.
pub async fn run(what: &str, program: &Path, args: &[String]) -> String {
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(clients_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH")
        .env_remove("NODE_OPTIONS")
        .env_remove("NODE_PATH")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
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
        None => panic!("{what} did not finish within {DEADLINE:?}:\n{report}"),
        Some(s) if !s.success() => panic!("{what} disagrees with the emulator ({s}):\n{report}"),
        Some(_) => report,
    }
}
