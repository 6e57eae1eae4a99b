//! A Zoho CRM endpoint set up the way an admin's script does it, as real
//! processes with the real keyring (`scripts/with-keyring`) against the
//! emulator: the client secret and refresh token from `--secrets-stdin`,
//! the API domain from the token answer (no `--url`), "Test connection",
//! customers that go both ways, one access token minted for every process,
//! and the settings refused where they do not fit.

use std::collections::BTreeMap;

mod common;
use common::{json, json_endpoints_add, stderr, till_db, CrmWorld};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_signed_in_with_a_refresh_token_takes_and_gives_contacts() {
    let w = CrmWorld::start("zoho").await;
    let emu = &w.emu;
    let config = emu.config();
    w.add_endpoint(
        &[
            "--kind",
            "zoho",
            "--token-url",
            &w.url("/oauth/v2/token"),
            "--auth",
            "oauth-refresh",
            "--client-id",
            &config.oauth_client_id,
            "--module",
            "Contacts",
            "--key-property",
            "Outpost_Key",
            "--api-version",
            "8",
            "--concurrency",
            "5",
            "--secrets-stdin",
        ],
        &w.secrets(true),
    );
    let shown = w.show();
    assert_eq!(shown["kind"], "zoho");
    // Without --url: the data centre's API domain (here the emulator's).
    assert_eq!(
        shown["base_url"].as_str().unwrap().trim_end_matches('/'),
        emu.crm_url().trim_end_matches('/')
    );
    assert_eq!(shown["settings"]["auth"], "oauth-refresh");
    assert_eq!(shown["settings"]["api_version"], "8");
    assert_eq!(shown["settings"]["concurrency"], 5);
    assert_eq!(shown["settings"]["crm_object"], "contact");
    assert_eq!(shown["client_secret"], "set");
    assert_eq!(shown["refresh_token"], "set");
    assert_eq!(shown["field_map"]["last_name"], "Last_Name");
    assert_eq!(shown["field_map"]["postal_code"], "Mailing_Zip");
    let text = serde_json::to_string(&shown).unwrap();
    assert!(
        !text.contains(&config.oauth_client_secret) && !text.contains(&config.oauth_refresh_token)
    );

    w.assert_connects();

    let key = w.deliver(&[
        "--first-name",
        "Ada",
        "--last-name",
        "O'Lovelace (Byron)",
        "--email",
        "ada@example.com",
        "--country",
        "DE",
    ]);
    let record = w.record("zoho", &key);
    assert_eq!(record["Last_Name"], "O'Lovelace (Byron)");
    assert_eq!(record["Email"], "ada@example.com");
    assert_eq!(record["Mailing_Country"], "Germany");

    emu.seed_zoho(
        "Contacts",
        vec![BTreeMap::from([
            ("First_Name".to_owned(), "Grace".to_owned()),
            ("Last_Name".to_owned(), "Hopper".to_owned()),
            ("Mailing_Country".to_owned(), "United States".to_owned()),
        ])],
    )
    .unwrap();
    w.pull(2);
    // Test, sync and pull were three processes: one token for all.
    assert_eq!(
        emu.zoho_settings()["tokens_minted"],
        1,
        "never mint per process"
    );
    w.hopper_is_found_offline().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoho_settings_are_refused_where_they_do_not_fit() {
    let (_dir, db) = till_db();
    let add = |args: &[&str]| {
        let secrets = r#"{"client_secret": "s", "refresh_token": "r"}"#;
        json_endpoints_add(&db, &["--name", "zc"], args, secrets)
    };
    let eu = "https://accounts.zoho.eu/oauth/v2/token";
    for (args, field) in [
        (
            &[
                "--kind",
                "zoho",
                "--client-id",
                "id",
                "--url",
                "https://www.zohoapis.eu",
                "--secrets-stdin",
            ][..],
            "token_url",
        ),
        (
            &[
                "--kind",
                "zoho",
                "--client-id",
                "id",
                "--token-url",
                "https://accounts.zoho.evil.example/oauth/v2/token",
                "--url",
                "https://www.zohoapis.com",
                "--secrets-stdin",
            ][..],
            "token_url",
        ),
        (
            &[
                "--kind",
                "zoho",
                "--client-id",
                "id",
                "--token-url",
                eu,
                "--api-version",
                "3",
                "--secrets-stdin",
            ][..],
            "api_version",
        ),
        (
            &[
                "--kind",
                "zoho",
                "--client-id",
                "id",
                "--token-url",
                eu,
                "--concurrency",
                "0",
                "--secrets-stdin",
            ][..],
            "concurrency",
        ),
        (
            &["--kind", "zoho", "--token-url", eu, "--secrets-stdin"][..],
            "client_id",
        ),
        (
            &[
                "--kind",
                "zoho",
                "--client-id",
                "id",
                "--token-url",
                "https://id.example.com/token",
                "--secrets-stdin",
            ][..],
            "url",
        ),
        (
            &[
                "--kind",
                "hubspot",
                "--url",
                "https://api.hubapi.com",
                "--concurrency",
                "5",
                "--token-stdin",
            ][..],
            "concurrency",
        ),
    ] {
        let out = add(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let error = common::json_error(&out);
        let fields: Vec<&str> = error["fields"]
            .as_array()
            .map(|f| f.iter().filter_map(|f| f["field"].as_str()).collect())
            .unwrap_or_else(|| error["field"].as_str().into_iter().collect());
        assert!(fields.contains(&field), "{args:?}: {error}");
    }
    let out = add(&[
        "--kind",
        "zoho",
        "--client-id",
        "id",
        "--token-url",
        eu,
        "--module",
        "Deals",
        "--secrets-stdin",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(json(&db, &["endpoints", "list"]), serde_json::json!([]));

    // An EU account: the API domain follows from the accounts server.
    let out = add(&[
        "--kind",
        "zoho",
        "--client-id",
        "id",
        "--token-url",
        eu,
        "--module",
        "Leads",
        "--secrets-stdin",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = json(&db, &["endpoints", "show", "zc"]);
    assert_eq!(
        shown["base_url"].as_str().unwrap().trim_end_matches('/'),
        "https://www.zohoapis.eu"
    );
    assert_eq!(shown["settings"]["crm_object"], "lead");
    assert_eq!(shown["field_map"]["company"], "Company");
    assert_eq!(shown["field_map"]["postal_code"], "Zip_Code");
}
