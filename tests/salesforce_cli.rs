//! A Salesforce endpoint set up the way an admin's script does it, as real
//! processes with the real keyring (`scripts/with-keyring`) against the
//! emulator: the secrets from `--secrets-stdin`, the org's API at the
//! `instance_url` its token answer names (not at `--url`), a rotated
//! refresh token kept for the next process, and customers that go both
//! ways (delivered, pulled, found again).

use std::collections::BTreeMap;

use crm_emulator::{Config, Emulator};

mod common;
use common::{json, run, run_with_stdin, till_db};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_at_its_instance_url_with_rotated_refresh_tokens() {
    let (_dir, db) = till_db();
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    // The org lives at the emulator; the URL the admin typed is an old
    // instance that no longer answers (nothing listens on port 9).
    emu.set_salesforce_instance_url(Some(emu.crm_url()));
    emu.set_salesforce_rotation(true);
    let config = emu.config().clone();
    let name = format!("sf-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let token_url = format!("{}/services/oauth2/token", emu.crm_url());
    let secrets = format!(
        r#"{{"client_secret": "{}", "refresh_token": "{}"}}"#,
        config.oauth_client_secret, config.oauth_refresh_token
    );
    let added = run_with_stdin(
        &db,
        &[
            "--json",
            "endpoints",
            "add",
            "--name",
            &name,
            "--kind",
            "salesforce",
            "--url",
            "http://127.0.0.1:9",
            "--token-url",
            &token_url,
            "--client-id",
            &config.oauth_client_id,
            "--object",
            "contact",
            "--daily-request-cap",
            "5000",
            "--secrets-stdin",
        ],
        &secrets,
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let shown = json(&db, &["endpoints", "show", &name]);
    assert_eq!(shown["kind"], "salesforce");
    assert_eq!(
        shown["settings"]["auth"], "oauth-refresh",
        "the kind's default sign-in"
    );
    assert_eq!(shown["settings"]["crm_object"], "contact");
    assert_eq!(shown["settings"]["daily_request_cap"], 5000);
    assert_eq!(
        (&shown["client_secret"], &shown["refresh_token"]),
        (&"set".into(), &"set".into())
    );
    assert_eq!(shown["field_map"]["last_name"], "LastName");

    let tested = json(&db, &["endpoints", "test", &name]);
    assert_eq!(tested["outcome"], "ok", "{tested}");

    // Each process signs in again: the refresh token the last one was
    // given (the old one stopped working) must have been kept.
    let ada = json(
        &db,
        &[
            "customers",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--email",
            "ada@example.com",
        ],
    );
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 1);
    json(&db, &["customers", "add", "--last-name", "Byron"]);
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 1);
    assert!(
        emu.count("POST /services/oauth2/token", 200) >= 3,
        "a sign-in per process"
    );
    // The org's budget as Salesforce last counted it, and this device's cap.
    let budget = json(&db, &["status"])["api_budget"].clone();
    assert_eq!(budget["org_max"], 100_000, "{budget}");
    assert!(budget["org_used"].as_u64().unwrap() >= 2, "{budget}");
    assert_eq!(budget["device_cap"], 5000);
    let key = ada["id"].as_str().unwrap();
    let record = emu
        .records()
        .into_iter()
        .find(|r| r.key.as_deref() == Some(key))
        .expect("Ada is in Salesforce");
    assert_eq!(record.record["LastName"], "Lovelace");
    assert_eq!(record.record["Email"], "ada@example.com");

    // The org's own contacts come into the working set and are found offline.
    emu.seed_salesforce(
        "Contact",
        vec![BTreeMap::from([
            ("FirstName".to_owned(), "Grace".to_owned()),
            ("LastName".to_owned(), "Hopper".to_owned()),
            ("MailingCountry".to_owned(), "US".to_owned()),
        ])],
    );
    let pulled = json(&db, &["pull", "--endpoint", &name]);
    assert_eq!(pulled["fetched"], 3, "{pulled}");
    emu.down().await;
    let found = json(&db, &["customers", "search", "Hopper"]);
    assert_eq!(found[0]["last_name"], "Hopper", "{found}");
    assert_eq!(found[0]["country"], "US");
    run(&db, &["endpoints", "remove", &name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_settings_are_refused_where_they_do_not_fit() {
    let (_dir, db) = till_db();
    let add = |args: &[&str]| {
        let mut all = vec![
            "--json",
            "endpoints",
            "add",
            "--name",
            "sf",
            "--url",
            "https://example.my.salesforce.com",
        ];
        all.extend_from_slice(args);
        run_with_stdin(&db, &all, r#"{"client_secret": "s", "refresh_token": "r"}"#)
    };
    for (args, field) in [
        (
            &[
                "--kind",
                "salesforce",
                "--client-id",
                "id",
                "--secrets-stdin",
                "--token-url",
                "http://login.example.com/token",
            ][..],
            "token_url",
        ),
        (
            &[
                "--kind",
                "salesforce",
                "--client-id",
                "id",
                "--secrets-stdin",
                "--auth",
                "token",
            ][..],
            "auth",
        ),
        (
            &["--kind", "salesforce", "--secrets-stdin"][..],
            "client_id",
        ),
        (
            &["--kind", "hubspot", "--object", "lead", "--token-stdin"][..],
            "object",
        ),
        (
            &[
                "--kind",
                "salesforce",
                "--client-id",
                "id",
                "--secrets-stdin",
                "--daily-request-cap",
                "0",
            ][..],
            "daily_request_cap",
        ),
    ] {
        let out = add(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let error = common::json_error(&out);
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{args:?}: {error}");
    }
    assert_eq!(json(&db, &["endpoints", "list"]), serde_json::json!([]));
}
