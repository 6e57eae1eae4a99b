//! A Salesforce endpoint set up the way an admin's script does it, as real
//! processes with the real keyring (`scripts/with-keyring`) against the
//! emulator: the secrets from `--secrets-stdin`, the org's API at the
//! `instance_url` its token answer names (not at `--url`), a rotated
//! refresh token kept for the next process, and customers that go both
//! ways (delivered, pulled, found again).

use std::collections::BTreeMap;

mod common;
use common::{assert_refused, json, json_endpoints_add, till_db, CrmWorld};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_at_its_instance_url_with_rotated_refresh_tokens() {
    let w = CrmWorld::start("sf").await;
    let emu = &w.emu;
    // The org lives at the emulator; the URL the admin typed is an old
    // instance that no longer answers (nothing listens on port 9).
    emu.set_salesforce_instance_url(Some(emu.crm_url()));
    emu.set_salesforce_rotation(true);
    let config = emu.config();
    w.add_endpoint(
        &[
            "--kind",
            "salesforce",
            "--url",
            "http://127.0.0.1:9",
            "--token-url",
            &w.url("/services/oauth2/token"),
            "--client-id",
            &config.oauth_client_id,
            "--object",
            "contact",
            "--daily-request-cap",
            "5000",
            "--secrets-stdin",
        ],
        &w.secrets(true),
    );
    let shown = w.show();
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

    w.assert_connects();

    // Each process signs in again: the refresh token the last one was
    // given (the old one stopped working) must have been kept.
    let key = w.deliver(&[
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--email",
        "ada@example.com",
    ]);
    w.deliver(&["--last-name", "Byron"]);
    assert!(
        emu.count("POST /services/oauth2/token", 200) >= 3,
        "a sign-in per process"
    );
    // The org's budget as Salesforce last counted it, and this device's cap.
    let budget = json(&w.db, &["status"])["api_budget"].clone();
    assert_eq!(budget["org_max"], 100_000, "{budget}");
    assert!(budget["org_used"].as_u64().unwrap() >= 2, "{budget}");
    assert_eq!(budget["device_cap"], 5000);
    let record = w.record("salesforce", &key);
    assert_eq!(record["LastName"], "Lovelace");
    assert_eq!(record["Email"], "ada@example.com");

    // The org's own contacts come into the working set and are found offline.
    emu.seed_salesforce(
        "Contact",
        vec![BTreeMap::from([
            ("FirstName".to_owned(), "Grace".to_owned()),
            ("LastName".to_owned(), "Hopper".to_owned()),
            ("MailingCountry".to_owned(), "US".to_owned()),
        ])],
    );
    w.pull(3);
    w.hopper_is_found_offline().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_settings_are_refused_where_they_do_not_fit() {
    let (_dir, db) = till_db();
    let add = |args: &[&str]| {
        let fixed = ["--name", "sf", "--url", "https://example.my.salesforce.com"];
        let secrets = r#"{"client_secret": "s", "refresh_token": "r"}"#;
        json_endpoints_add(&db, &fixed, args, secrets)
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
        assert_refused(args, &add(args), field);
    }
    assert_eq!(json(&db, &["endpoints", "list"]), serde_json::json!([]));
}
