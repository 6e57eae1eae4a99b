//! The CLI contract (subcommands, flags, `--json` names, exit codes), driven
//! through the real binary on real database files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

mod common;

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
            // No default region from the machine's locale unless a test sets one.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
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
    // The numbers are national: read as Spanish.
    o.json(&["settings", "set", "--default-region", "ES"]);
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

mod endpoints {
    use super::*;
    pub(super) use crate::common::closed_port;

    /// Runs with `input` on stdin (for `--token-stdin`).
    fn run_with_stdin(o: &Outpost, args: &[&str], input: &str) -> Output {
        common::run_with_stdin(&o.db, args, input)
    }

    #[test]
    fn the_token_goes_to_the_keyring_never_to_the_database() {
        let o = Outpost::new();
        let token = format!("tok-{}", uuid::Uuid::new_v4());
        let url = format!("http://127.0.0.1:{}", closed_port());
        let out = run_with_stdin(
            &o,
            &[
                "endpoints",
                "add",
                "--name",
                "main-crm",
                "--kind",
                "generic-rest",
                "--url",
                &url,
                "--token-stdin",
            ],
            &format!("{token}\n"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let list = o.json(&["endpoints", "list"]);
        assert_eq!(list[0]["name"], "main-crm");
        assert_eq!(list[0]["kind"], "generic-rest");
        assert_eq!(list[0]["connectivity"], "online-offline");
        for file in std::fs::read_dir(o.db.parent().unwrap()).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "the token must not be stored in the database files"
            );
        }
    }

    #[test]
    fn http_to_a_public_host_and_empty_tokens_are_refused() {
        let o = Outpost::new();
        let out = run_with_stdin(
            &o,
            &[
                "endpoints",
                "add",
                "--name",
                "x",
                "--kind",
                "hubspot",
                "--url",
                "http://crm.example.com",
                "--token-stdin",
            ],
            "secret",
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("base_url") && stderr(&out).contains("https"),
            "{}",
            stderr(&out)
        );

        let out = run_with_stdin(
            &o,
            &[
                "endpoints",
                "add",
                "--name",
                "x",
                "--kind",
                "generic-rest",
                "--url",
                "http://127.0.0.1:9",
                "--token-stdin",
            ],
            "  \n",
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("token"));
        assert!(
            o.json(&["endpoints", "list"])
                .as_array()
                .unwrap()
                .is_empty(),
            "nothing was saved"
        );

        let out = o.run(&[
            "endpoints",
            "add",
            "--name",
            "x",
            "--kind",
            "salesforce",
            "--url",
            "https://x.example",
        ]);
        assert_eq!(out.status.code(), Some(2));

        let out = o.run(&[
            "endpoints",
            "add",
            "--name",
            "x",
            "--kind",
            "generic-rest",
            "--url",
            "https://x.example",
            "--rate-limit",
            "10",
            "--rate-window-secs",
            "0",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("rate_window_secs"),
            "{}",
            stderr(&out)
        );
    }

    #[test]
    fn online_only_refuses_creations_while_the_crm_is_unreachable() {
        let o = Outpost::new();
        let url = format!("http://127.0.0.1:{}", closed_port());
        let out = run_with_stdin(
            &o,
            &[
                "endpoints",
                "add",
                "--name",
                "till",
                "--kind",
                "generic-rest",
                "--url",
                &url,
                "--token-stdin",
                "--connectivity",
                "online-only",
            ],
            "t0ken",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = o.run(&["customers", "add", "--last-name", "Refused"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("online only"), "{}", stderr(&out));
        let status = o.json(&["status"]);
        assert_eq!(status["customers"], 0);
        assert_eq!(status["pending"], 0);
        assert_eq!(status["connection"], "offline");
    }

    #[test]
    fn online_and_offline_queues_creations_while_the_crm_is_unreachable() {
        let o = Outpost::new();
        let url = format!("http://127.0.0.1:{}", closed_port());
        let out = run_with_stdin(
            &o,
            &[
                "endpoints",
                "add",
                "--name",
                "field",
                "--kind",
                "generic-rest",
                "--url",
                &url,
                "--token-stdin",
            ],
            "t0ken",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(o
            .run(&["customers", "add", "--last-name", "Queued"])
            .status
            .success());
        let out = o.run(&["sync", "--once", "--json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "an unreachable CRM is a failure of the sync run"
        );
        assert!(stderr(&out).contains("unreachable"), "{}", stderr(&out));
        assert_eq!(o.json(&["status"])["pending"], 1, "nothing lost");
    }

    #[test]
    fn a_secret_on_stdin_meets_the_cores_rule_of_4096_characters() {
        let o = Outpost::new();
        let add = |input: &str| {
            run_with_stdin(
                &o,
                &[
                    "endpoints",
                    "add",
                    "--name",
                    "x",
                    "--kind",
                    "generic-rest",
                    "--url",
                    "http://127.0.0.1:9",
                    "--token-stdin",
                    "--json",
                ],
                input,
            )
        };
        let out = add(&"x".repeat(4097));
        assert_eq!(out.status.code(), Some(2));
        let err: Value = serde_json::from_str(&stderr(&out)).unwrap();
        assert_eq!(
            err["fields"],
            serde_json::json!([{"field": "token", "message": "One line of at most 4096 characters."}])
        );
        // Characters, not bytes: 4,096 two-byte letters are one valid token.
        let out = add(&format!("{}\n", "é".repeat(4096)));
        assert!(out.status.success(), "{}", stderr(&out));
    }

    #[test]
    fn a_failed_sync_says_the_crm_failed_in_json() {
        let o = Outpost::new();
        let url = format!("http://127.0.0.1:{}", closed_port());
        let args = [
            "endpoints",
            "add",
            "--name",
            "down",
            "--kind",
            "generic-rest",
            "--url",
            &url,
            "--token-stdin",
        ];
        assert!(run_with_stdin(&o, &args, "t0ken").status.success());
        let out = o.run(&["sync", "--once", "--json"]);
        assert_eq!(out.status.code(), Some(1));
        // The error is the last line (warnings may precede it).
        let last = stderr(&out).lines().last().unwrap_or_default().to_owned();
        let err: Value = serde_json::from_str(&last).unwrap();
        assert_eq!(err["code"], "crm");
        assert!(err["message"].as_str().unwrap().contains("unreachable"));
    }

    #[test]
    fn sync_without_an_endpoint_says_what_to_do() {
        let o = Outpost::new();
        let out = o.run(&["sync", "--once"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("outpost endpoints add"));
    }
}

mod admin {
    use super::*;

    fn with_env(o: &Outpost, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_outpost"));
        cmd.arg("--db")
            .arg(&o.db)
            .args(args)
            .env_remove("OUTPOST_ADMIN_PASSPHRASE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(std::process::Stdio::null()).output().unwrap()
    }

    #[test]
    fn settings_commands_need_the_passphrase_once_it_is_set() {
        let o = Outpost::new();
        let set = with_env(
            &o,
            &["admin", "set-passphrase"],
            &[("OUTPOST_ADMIN_NEW_PASSPHRASE", "till-admin-2026")],
        );
        assert!(set.status.success(), "{}", stderr(&set));

        // No passphrase and no terminal: refused, with the way out named.
        let out = with_env(&o, &["endpoints", "list"], &[]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("OUTPOST_ADMIN_PASSPHRASE"),
            "{}",
            stderr(&out)
        );

        let out = with_env(
            &o,
            &["endpoints", "list"],
            &[("OUTPOST_ADMIN_PASSPHRASE", "wrong-guess")],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("wrong"));

        let out = with_env(
            &o,
            &["endpoints", "list", "--json"],
            &[("OUTPOST_ADMIN_PASSPHRASE", "till-admin-2026")],
        );
        assert!(out.status.success(), "{}", stderr(&out));

        // Repeated wrong guesses are slowed down, even for the right one next.
        // The wait doubles with each counted guess (2 s after the third):
        // guess until the refusal leaves time for one more command, twice
        // as long as the last one took (seconds on a loaded machine).
        let wait_left = |out: &std::process::Output| -> Option<u64> {
            let text = stderr(out);
            let rest = text.split("try again in ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        };
        let mut slowed = false;
        for _ in 0..40 {
            let started = std::time::Instant::now();
            let out = with_env(
                &o,
                &["endpoints", "list"],
                &[("OUTPOST_ADMIN_PASSPHRASE", "wrong-guess")],
            );
            let took = started.elapsed().as_secs() + 1;
            if wait_left(&out).is_some_and(|s| s >= 2 * took) {
                slowed = true;
                break;
            }
        }
        assert!(slowed, "wrong guesses were never slowed down");
        let out = with_env(
            &o,
            &["endpoints", "list"],
            &[("OUTPOST_ADMIN_PASSPHRASE", "till-admin-2026")],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("try again in"), "{}", stderr(&out));

        // Clerk commands never need it.
        assert!(
            with_env(&o, &["customers", "add", "--last-name", "Clerk"], &[])
                .status
                .success()
        );
        assert!(with_env(&o, &["status"], &[]).status.success());
    }

    #[test]
    fn export_and_import_roll_a_configuration_out_without_secrets() {
        let a = Outpost::new();
        let out = with_env(
            &a,
            &[
                "endpoints",
                "add",
                "--name",
                "hq",
                "--kind",
                "hubspot",
                "--url",
                "https://api.hubapi.com",
                "--priority",
                "1",
                "--key-property",
                "outpost_key",
            ],
            &[],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let export = with_env(&a, &["endpoints", "export"], &[]);
        assert!(export.status.success());
        let text = stdout(&export);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["endpoints"][0]["settings"]["key_property"], "outpost_key");

        let b = Outpost::new();
        let file = b.db.with_file_name("fleet.json");
        std::fs::write(&file, &text).unwrap();
        let out = with_env(&b, &["endpoints", "import", file.to_str().unwrap()], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let list = b.json(&["endpoints", "list"]);
        assert_eq!(list[0]["name"], "hq");
        assert_eq!(list[0]["base_url"], "https://api.hubapi.com");

        // A bad file changes nothing.
        std::fs::write(&file, r#"{"version":1,"endpoints":[{"name":"x","kind":"hubspot","base_url":"http://evil.example","connectivity":"online-offline","priority":1,"settings":{}}]}"#).unwrap();
        let out = with_env(&b, &["endpoints", "import", file.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(b.json(&["endpoints", "list"]).as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_shop_number_goes_into_every_new_customers_key() {
        let o = Outpost::new();
        let url = format!("http://127.0.0.1:{}", super::endpoints::closed_port());
        let add = |extra: &[&str]| {
            let mut args = vec![
                "endpoints",
                "add",
                "--name",
                "shop",
                "--kind",
                "generic-rest",
                "--url",
                &url,
            ];
            args.extend_from_slice(extra);
            with_env(&o, &args, &[])
        };
        let out = add(&["--key-shop", "0"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("key_shop"), "{}", stderr(&out));

        let out = add(&["--key-shop", "17"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let shown = o.json(&["endpoints", "show", "shop"]);
        assert_eq!(shown["settings"]["key_shop"], 17, "{shown}");
        // The CRM is not reachable and no token is stored: keys are made anyway.
        let key = o.json(&["customers", "add", "--last-name", "Shopper"])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let uuid = uuid::Uuid::parse_str(&key).unwrap();
        assert_eq!(uuid.get_version_num(), 8);
        assert!(key.ends_with("000017"), "{key}");
        assert_eq!(o.json(&["customers", "show", &key])["id"], key.as_str());

        let out = with_env(
            &o,
            &["endpoints", "set", "--name", "shop", "--key-shop", "42"],
            &[],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let key = stdout(&o.run(&["customers", "add", "--last-name", "Later"]));
        assert!(key.ends_with("000042"), "{key}");
    }
}

/// `outpost settings` and phone numbers read in the default region.
mod settings {
    use super::*;

    /// Runs with extra environment variables (after the locale is cleared).
    fn run_env(o: &Outpost, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_outpost"));
        c.arg("--db")
            .arg(&o.db)
            .args(args)
            .env_remove("OUTPOST_DB")
            .env_remove("OUTPOST_ADMIN_PASSPHRASE")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("outpost runs")
    }

    fn json_of(out: &Output) -> Value {
        assert!(out.status.success(), "{}", stderr(out));
        serde_json::from_slice(&out.stdout).expect("stdout is JSON")
    }

    #[test]
    fn set_and_show_the_default_region() {
        let o = Outpost::new();
        let shown = o.json(&["settings", "show"]);
        assert_eq!(
            shown,
            serde_json::json!({"default_region": null, "default_region_source": null, "locale_region": null})
        );
        assert!(stdout(&o.run(&["settings", "show"])).contains("default region: none"));

        let set = o.json(&["settings", "set", "--default-region", "de"]);
        assert_eq!(set["default_region"], "DE");
        assert_eq!(set["default_region_source"], "setting");
        assert_eq!(o.json(&["settings", "show"])["default_region"], "DE");

        // The OS locale gives the default when nothing is set.
        let fr = [("LANG", "fr_FR.UTF-8")];
        let shown = json_of(&run_env(&o, &["--json", "settings", "show"], &fr));
        assert_eq!(
            (&shown["default_region"], &shown["locale_region"]),
            (&Value::from("DE"), &Value::from("FR")),
            "the setting wins"
        );
        o.json(&["settings", "set", "--default-region", "auto"]);
        let shown = json_of(&run_env(&o, &["--json", "settings", "show"], &fr));
        assert_eq!(shown["default_region"], "FR");
        assert_eq!(shown["default_region_source"], "locale");
        let shown = json_of(&run_env(
            &o,
            &["--json", "settings", "show"],
            &[("LANG", "de_DE.UTF-8"), ("LC_ALL", "en_GB.UTF-8")],
        ));
        assert_eq!(shown["default_region"], "GB", "LC_ALL comes first");
        assert_eq!(o.json(&["settings", "show"])["default_region"], Value::Null);
    }

    #[test]
    fn an_unknown_region_exits_2_naming_default_region() {
        let o = Outpost::new();
        for bad in ["Germany", "ZZ", "0"] {
            let out = o.run(&["settings", "set", "--default-region", bad]);
            assert_eq!(out.status.code(), Some(2), "{bad}");
            assert!(stderr(&out).contains("default_region"), "{}", stderr(&out));
        }
        let out = o.run(&["--json", "settings", "set", "--default-region", "ZZ"]);
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["fields"][0]["field"], "default_region");
        assert_eq!(o.json(&["settings", "show"])["default_region"], Value::Null);
    }

    #[test]
    fn changing_a_setting_needs_the_admin_passphrase_once_one_is_set() {
        let o = Outpost::new();
        let set = run_env(
            &o,
            &["admin", "set-passphrase"],
            &[("OUTPOST_ADMIN_NEW_PASSPHRASE", "till-admin-2026")],
        );
        assert!(set.status.success(), "{}", stderr(&set));
        let out = run_env(&o, &["settings", "set", "--default-region", "DE"], &[]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("OUTPOST_ADMIN_PASSPHRASE"),
            "{}",
            stderr(&out)
        );
        assert_eq!(o.json(&["settings", "show"])["default_region"], Value::Null);
        let ok = run_env(
            &o,
            &["settings", "set", "--default-region", "DE"],
            &[("OUTPOST_ADMIN_PASSPHRASE", "till-admin-2026")],
        );
        assert!(ok.status.success(), "{}", stderr(&ok));
        // Reading needs no passphrase.
        assert_eq!(o.json(&["settings", "show"])["default_region"], "DE");
    }

    #[test]
    fn a_national_number_needs_a_region_and_is_then_one_number_with_its_e164_form() {
        let o = Outpost::new();
        let add = |phone: &str| {
            o.run(&[
                "--json",
                "customers",
                "add",
                "--last-name",
                "Lovelace",
                "--phone",
                phone,
            ])
        };
        let out = add("0151 1234567");
        assert_eq!(out.status.code(), Some(2));
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["fields"][0]["field"], "phone");
        let message = e["fields"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("add the country code, e.g. +49"),
            "{message}"
        );
        assert!(message.contains("set a default region"), "{message}");
        assert!(o
            .json(&["customers", "search", ""])
            .as_array()
            .unwrap()
            .is_empty());

        o.json(&["settings", "set", "--default-region", "DE"]);
        let c = json_of(&add("0151 1234567"));
        assert_eq!(c["phone"], "0151 1234567", "shown as typed");
        assert_eq!(c["phone_e164"], "+491511234567");
        let shown = o.json(&["customers", "show", c["id"].as_str().unwrap()]);
        assert_eq!(shown["phone_e164"], "+491511234567");

        for q in ["+49 151 1234567", "0151 1234567", "4915112", "1234567"] {
            let found = o.json(&["customers", "search", q, "--local"]);
            assert_eq!(found[0]["id"], c["id"], "{q:?}");
        }
        // A customer without a phone has none.
        let plain = o.json(&["customers", "add", "--company", "No Phone Ltd"]);
        assert_eq!(plain["phone_e164"], Value::Null);
    }
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_command_quietly() {
    let o = Outpost::new();
    o.json(&["customers", "add", "--company", "Shop"]);
    for args in [
        &["--json", "status"][..],
        &["--json", "customers", "search", "Shop", "--local"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_outpost"))
            .arg("--db")
            .arg(&o.db)
            .args(args)
            .env_remove("OUTPOST_DB")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("outpost runs");
        // `outpost status | head -0`: the reader is gone before the output.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
