//! Salesforce's clients against the emulator's Salesforce REST API:
//! jsforce (tests/vendor-clients/jsforce_client.mjs, Node, pinned by
//! tests/vendor-clients/package-lock.json) and simple-salesforce
//! (tests/vendor-clients/simple_salesforce_client.py, in the venv of
//! scripts/vendor-clients-venv). Both are installed by `scripts/setup --test`.
//! Without them a test fails when `CI` is set and is skipped loudly otherwise.
//!
//! Each test starts its own emulator on loopback, runs the script with a
//! deadline and then checks the emulator's request counters: the routes the
//! client was expected to take were taken.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};

/// Far more than either script needs (a few seconds); a hung run fails.
const DEADLINE: Duration = Duration::from_secs(120);

const OAUTH_TOKEN: &str = "POST /services/oauth2/token";
const COLLECTION_CREATE: &str = "POST /services/data/{version}/composite/sobjects";
const COLLECTION_UPSERT: &str =
    "PATCH /services/data/{version}/composite/sobjects/{object}/{field}";
const UPSERT: &str = "PATCH /services/data/{version}/sobjects/{object}/{field}/{value}";
const QUERY_MORE: &str = "GET /services/data/{version}/query/{locator}";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn clients_dir() -> PathBuf {
    repo().join("tests/vendor-clients")
}

/// The venv's python, when the venv holds exactly the pinned requirements
/// (as in vendor_hubspot.rs).
fn venv_python() -> Result<PathBuf, String> {
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
fn node_with_jsforce() -> Result<PathBuf, String> {
    let lock_path = clients_dir().join("package-lock.json");
    let lock: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let wanted = lock["packages"]["node_modules/jsforce"]["version"]
        .as_str()
        .ok_or("package-lock.json pins no jsforce")?
        .to_string();
    let installed = clients_dir().join("node_modules/jsforce/package.json");
    let have: serde_json::Value = std::fs::read(&installed)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("jsforce is not installed in {}", installed.display()))?;
    if have["version"].as_str() != Some(wanted.as_str()) {
        return Err(format!(
            "tests/vendor-clients/node_modules holds jsforce {}, package-lock.json pins {wanted}",
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
fn installed(what: &str, found: Result<PathBuf, String>) -> Option<PathBuf> {
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
async fn run(what: &str, program: &Path, args: &[String]) -> String {
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

fn script_args(emu: &Emulator, script: &str) -> Vec<String> {
    let config = emu.config();
    let mut args = vec![
        clients_dir().join(script).display().to_string(),
        "--crm".into(),
        emu.crm_url(),
        "--control".into(),
        emu.control_url(),
        "--token".into(),
        emu.token().to_string(),
    ];
    // jsforce refreshes with the OAuth client's settings; simple-salesforce cannot.
    if script.ends_with(".mjs") {
        args.extend([
            "--client-id".into(),
            config.oauth_client_id.clone(),
            "--client-secret".into(),
            config.oauth_client_secret.clone(),
            "--refresh-token".into(),
            config.oauth_refresh_token.clone(),
        ]);
    }
    args
}

/// At least `min` requests to `endpoint` answered `status`; on failure the
/// message lists every endpoint the emulator counted.
fn saw(emu: &Emulator, endpoint: &str, status: u16, min: u64, why: &str) {
    let n = emu.count(endpoint, status);
    if n < min {
        let stats = emu.stats();
        let seen: Vec<String> = stats
            .endpoints
            .iter()
            .map(|(e, by)| format!("  {e} {by:?}"))
            .collect();
        panic!(
            "{why}: expected at least {min} of `{endpoint}` answered {status}, counted {n}; \
             the emulator counted:\n{}",
            seen.join("\n")
        );
    }
}

#[tokio::test]
async fn jsforce_against_the_emulator() {
    let Some(node) = installed("jsforce (Salesforce's Node client)", node_with_jsforce()) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let report = run(
        "jsforce_client.mjs",
        &node,
        &script_args(&emu, "jsforce_client.mjs"),
    )
    .await;
    println!("{report}");

    // The requests jsforce was expected to send, as the emulator saw them.
    saw(
        &emu,
        COLLECTION_CREATE,
        200,
        1,
        "create of an array goes to the sObject collection",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        200,
        5,
        "upsert of an array goes to the sObject collection",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        400,
        1,
        "a collection of 201 records is refused",
    );
    saw(&emu, UPSERT, 201, 1, "single upsert by Outpost_Key__c, new");
    saw(
        &emu,
        UPSERT,
        200,
        1,
        "single upsert by Outpost_Key__c, existing (200 with a body from v46 on)",
    );
    saw(
        &emu,
        QUERY_MORE,
        200,
        2,
        "queryMore and autoFetch follow nextRecordsUrl",
    );
    // One refresh after the expiry (the call replayed), two with rotation, one refused.
    assert_eq!(
        emu.count(OAUTH_TOKEN, 200),
        3,
        "one refresh per expired token, no more: {:?}",
        emu.stats()
    );
    saw(
        &emu,
        OAUTH_TOKEN,
        400,
        1,
        "a refresh with a wrong refresh token is refused",
    );
    assert!(
        emu.stats().count_anywhere("403") >= 1,
        "over the daily budget: 403 REQUEST_LIMIT_EXCEEDED: {:?}",
        emu.stats()
    );
    assert!(
        emu.stats().count_anywhere("401") >= 3,
        "the expired and unknown tokens were answered 401: {:?}",
        emu.stats()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn simple_salesforce_against_the_emulator() {
    let Some(python) = installed("simple-salesforce", venv_python()) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let mut args = script_args(&emu, "simple_salesforce_client.py");
    args.push("-v".into());
    let report = run("simple_salesforce_client.py", &python, &args).await;
    println!("{report}");

    saw(
        &emu,
        UPSERT,
        201,
        2,
        "upsert('Outpost_Key__c/<key>') of a new key",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        200,
        2,
        "250 records seeded 200 at a time",
    );
    saw(
        &emu,
        QUERY_MORE,
        200,
        3,
        "query_more, by URL and by locator, and query_all",
    );
    assert!(
        emu.stats().count_anywhere("403") >= 1,
        "over the daily budget: 403 REQUEST_LIMIT_EXCEEDED: {:?}",
        emu.stats()
    );
    assert!(
        emu.stats().count_anywhere("401") >= 2,
        "the expired and unknown sessions were answered 401: {:?}",
        emu.stats()
    );
    emu.shutdown().await;
}
