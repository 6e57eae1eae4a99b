//! The CLI contract (subcommands, flags, `--json` names, exit codes), driven
//! through the real binary on real database files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

struct Outpost {
    _dir: TempDir,
    db: PathBuf,
}

impl Outpost {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let db = dir.path().join("till.db");
        Outpost { _dir: dir, db }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_outpost"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("OUTPOST_DB")
            .output()
            .expect("outpost runs")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

#[test]
fn add_prints_the_new_key_and_show_finds_it() {
    let o = Outpost::new();
    let out = o.run(&[
        "customers",
        "add",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out);
    assert_eq!(uuid::Uuid::parse_str(&key).unwrap().get_version_num(), 7);

    let shown = o.json(&["customers", "show", &key]);
    assert_eq!(shown["id"], key.as_str());
    assert_eq!(shown["first_name"], "Ada");
}

#[test]
fn json_customer_has_the_contract_fields() {
    let o = Outpost::new();
    let c = o.json(&[
        "customers",
        "add",
        "--first-name",
        "José",
        "--last-name",
        "Müller",
        "--company",
        "Bäckerei Müller",
        "--email",
        "Jose@Example.COM",
        "--phone",
        "+49 (30) 1234-5678",
        "--city",
        "Berlin",
        "--country",
        "de",
    ]);
    for field in [
        "id",
        "first_name",
        "last_name",
        "company",
        "email",
        "phone",
        "city",
        "country",
        "crm_id",
        "sync_state",
        "created_at",
        "updated_at",
    ] {
        assert!(c.get(field).is_some(), "missing {field} in {c}");
    }
    assert_eq!(c["email"], "jose@example.com");
    assert_eq!(c["phone"], "+49 30 1234 5678");
    assert_eq!(c["country"], "DE");
    assert_eq!(c["sync_state"], "pending");
    assert_eq!(c["crm_id"], Value::Null);
    chrono::DateTime::parse_from_rfc3339(c["created_at"].as_str().unwrap()).unwrap();
}

#[test]
fn invalid_input_exits_2_naming_the_field_and_stores_nothing() {
    let o = Outpost::new();
    let out = o.run(&[
        "customers",
        "add",
        "--first-name",
        "Ada",
        "--email",
        "ada-at-example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("email"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());

    let out = o.run(&["customers", "add", "--city", "Berlin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("first_name"));

    let out = o.run(&[
        "customers",
        "add",
        "--first-name",
        "Ada",
        "--country",
        "Germany",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_str(&stderr(&out)).expect("--json errors are JSON on stderr");
    assert_eq!(err["code"], "validation");
    assert_eq!(err["fields"][0]["field"], "country");

    assert_eq!(o.json(&["status"])["pending"], 0);
}

#[test]
fn other_failures_exit_1() {
    let o = Outpost::new();
    let out = o.run(&["customers", "show", "01900000-0000-7000-8000-000000000000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no customer"));

    let out = o.run(&["customers", "show", "not-a-key"]);
    assert_eq!(out.status.code(), Some(2));

    // A database path that cannot be created.
    let out = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .args(["--db", "/proc/outpost/nope.db", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not be opened"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn search_finds_by_fragments_and_respects_limit() {
    let o = Outpost::new();
    for (first, last, phone) in [
        ("Maria", "Garcia", "600 123 456"),
        ("Mario", "Rossi", "700 999 111"),
        ("Sam", "Smith", "800 555 222"),
    ] {
        o.json(&[
            "customers",
            "add",
            "--first-name",
            first,
            "--last-name",
            last,
            "--phone",
            phone,
        ]);
    }
    let found = o.json(&["customers", "search", "mari"]);
    let names: Vec<_> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Mario", "Maria"]);

    let by_phone = o.json(&["customers", "search", "555"]);
    assert_eq!(by_phone[0]["last_name"], "Smith");

    assert_eq!(
        o.json(&["customers", "search", "", "--limit", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let human = o.run(&["customers", "search", "rossi"]);
    assert!(stdout(&human).contains("Mario Rossi"));
}

#[test]
fn outbox_and_status_count_every_creation() {
    let o = Outpost::new();
    let mut keys = Vec::new();
    for i in 0..3 {
        keys.push(
            o.json(&["customers", "add", "--company", &format!("Shop {i}")])["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let status = o.json(&["status"]);
    assert_eq!(status["pending"], 3);
    assert_eq!(status["connection"], "not_configured");

    let list = o.json(&["outbox", "list", "--state", "pending"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for (m, key) in list.iter().zip(&keys) {
        assert_eq!(m["customer_id"], key.as_str());
        assert_eq!(m["kind"], "customer.create");
        assert_eq!(m["state"], "pending");
        assert_eq!(m["attempts"], 0);
        assert!(
            m.get("next_attempt_at").is_some()
                && m.get("last_error").is_some()
                && m.get("id").is_some()
        );
    }
    assert!(o
        .json(&["outbox", "list", "--state", "sent"])
        .as_array()
        .unwrap()
        .is_empty());

    let bad = o.run(&["outbox", "list", "--state", "lost"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn db_path_comes_from_the_environment_too() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("env.db");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_outpost"))
            .env("OUTPOST_DB", &db)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["customers", "add", "--last-name", "Env"])
        .status
        .success());
    assert!(Path::new(&db).exists());
    assert!(stdout(&run(&["customers", "search", "env"])).contains("Env"));
}
