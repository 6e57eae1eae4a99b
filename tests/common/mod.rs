//! Shared by the CLI suites: the real `outpost` binary with a private
//! database, adding an endpoint the way an admin's script does, and
//! [`CrmWorld`], one CRM's endpoint on the emulator taken through the CLI.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crm_emulator::{Config, Emulator};
use serde_json::json;
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

/// `outpost --json endpoints add` with the flags `fixed` and `args` and
/// `secrets` on stdin.
pub fn json_endpoints_add(db: &Path, fixed: &[&str], args: &[&str], secrets: &str) -> Output {
    let mut all = vec!["--json", "endpoints", "add"];
    all.extend_from_slice(fixed);
    all.extend_from_slice(args);
    run_with_stdin(db, &all, secrets)
}

/// `out`, a `--json endpoints add` with `args`, was refused (exit 2)
/// naming `field` among its `fields`.
pub fn assert_refused(args: &[&str], out: &Output, field: &str) {
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(out));
    let error = json_error(out);
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(fields.contains(&field), "{args:?}: {error}");
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

/// One CRM's endpoint set up the way an admin's script does it: a till
/// database, an emulator (unlimited) and the endpoint's [`unique`] name.
pub struct CrmWorld {
    _dir: TempDir,
    pub db: PathBuf,
    pub emu: Emulator,
    pub name: String,
}

impl CrmWorld {
    pub async fn start(prefix: &str) -> CrmWorld {
        let (dir, db) = till_db();
        CrmWorld {
            _dir: dir,
            db,
            emu: Emulator::start(Config::unlimited()).await.unwrap(),
            name: unique(prefix),
        }
    }

    /// `path` on the emulator (a token URL).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.crm_url())
    }

    /// The `--secrets-stdin` object: the emulator's client secret, and its
    /// refresh token with `refresh`.
    pub fn secrets(&self, refresh: bool) -> String {
        let config = self.emu.config();
        let mut secrets = json!({"client_secret": config.oauth_client_secret});
        if refresh {
            secrets["refresh_token"] = config.oauth_refresh_token.clone().into();
        }
        secrets.to_string()
    }

    /// `outpost --json endpoints add --name <name> <args>` with `secrets`
    /// on stdin, which must succeed.
    pub fn add_endpoint(&self, args: &[&str], secrets: &str) {
        let added = json_endpoints_add(&self.db, &["--name", &self.name], args, secrets);
        assert!(added.status.success(), "{}", stderr(&added));
    }

    /// `endpoints show` of the endpoint.
    pub fn show(&self) -> Value {
        json(&self.db, &["endpoints", "show", &self.name])
    }

    /// "Test connection" answers ok.
    pub fn assert_connects(&self) {
        let tested = json(&self.db, &["endpoints", "test", &self.name]);
        assert_eq!(tested["outcome"], "ok", "{tested}");
    }

    /// `customers add <customer>`, delivered by one `sync --once`; its key.
    pub fn deliver(&self, customer: &[&str]) -> String {
        let mut add = vec!["customers", "add"];
        add.extend_from_slice(customer);
        let added = json(&self.db, &add);
        assert_eq!(json(&self.db, &["sync", "--once"])["delivered"], 1);
        added["id"].as_str().unwrap().to_owned()
    }

    /// The record `api` (`salesforce`, `zoho`, ...) holds under `key`.
    pub fn record(&self, api: &str, key: &str) -> Value {
        self.emu
            .records()
            .into_iter()
            .find(|r| r.api == api && r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("{key} is in {api}"))
            .record
    }

    /// `pull --endpoint <name>` fetches `fetched` records.
    pub fn pull(&self, fetched: u64) {
        let pulled = json(&self.db, &["pull", "--endpoint", &self.name]);
        assert_eq!(pulled["fetched"], fetched, "{pulled}");
    }

    /// With the CRM down, the pulled contact Hopper (of the US) is found
    /// offline; then the endpoint is removed.
    pub async fn hopper_is_found_offline(&self) {
        self.emu.down().await;
        let found = json(&self.db, &["customers", "search", "Hopper"]);
        assert_eq!(found[0]["last_name"], "Hopper", "{found}");
        assert_eq!(found[0]["country"], "US");
        run(&self.db, &["endpoints", "remove", &self.name]);
    }
}
