//! A Dynamics 365 endpoint set up the way an admin's script does it, as
//! real processes with the real keyring (`scripts/with-keyring`) against
//! the emulator: the client secret from `--secrets-stdin`, Entra ID's
//! token URL and the default scope, "Test connection", customers that go
//! both ways (delivered by alternate key, pulled, found offline), and the
//! settings refused where they do not fit.

use std::collections::BTreeMap;

mod common;
use common::{assert_refused, json, json_endpoints_add, till_db, CrmWorld};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_signed_in_through_entra_takes_and_gives_contacts() {
    let w = CrmWorld::start("dv").await;
    let emu = &w.emu;
    w.add_endpoint(
        &[
            "--kind",
            "dynamics",
            "--url",
            &emu.crm_url(),
            "--auth",
            "oauth-client-credentials",
            "--client-id",
            &emu.config().oauth_client_id,
            "--token-url",
            &w.url("/contoso.onmicrosoft.com/oauth2/v2.0/token"),
            "--key-property",
            "outpost_key",
            "--api-version",
            "9.2",
            "--duplicate-detection",
            "off",
            "--secrets-stdin",
        ],
        &w.secrets(false),
    );
    let shown = w.show();
    assert_eq!(shown["kind"], "dynamics");
    assert_eq!(shown["settings"]["auth"], "oauth-client-credentials");
    assert_eq!(shown["settings"]["api_version"], "9.2");
    assert_eq!(shown["settings"]["duplicate_detection"], false);
    assert_eq!(shown["client_secret"], "set");
    assert_eq!(shown["field_map"]["last_name"], "lastname");
    assert_eq!(shown["field_map"]["country"], "address1_country");

    w.assert_connects();

    let key = w.deliver(&[
        "--first-name",
        "Ada",
        "--last-name",
        "O'Lovelace",
        "--email",
        "ada@example.com",
    ]);
    let record = w.record("dynamics", &key);
    assert_eq!(record["lastname"], "O'Lovelace");
    assert_eq!(record["emailaddress1"], "ada@example.com");
    assert!(
        emu.count("POST /{tenant}/oauth2/v2.0/token", 200) >= 2,
        "a sign-in per process"
    );

    emu.seed_dynamics(vec![BTreeMap::from([
        ("firstname".to_owned(), "Grace".to_owned()),
        ("lastname".to_owned(), "Hopper".to_owned()),
        ("address1_country".to_owned(), "United States".to_owned()),
    ])]);
    w.pull(2);
    w.hopper_is_found_offline().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamics_settings_are_refused_where_they_do_not_fit() {
    let (_dir, db) = till_db();
    let add = |args: &[&str]| {
        let fixed = ["--name", "dv", "--url", "https://org.crm.dynamics.com"];
        json_endpoints_add(&db, &fixed, args, r#"{"client_secret": "s"}"#)
    };
    let tenant = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
    for (args, field) in [
        (
            &["--kind", "dynamics", "--client-id", "id", "--secrets-stdin"][..],
            "token_url",
        ),
        (
            &[
                "--kind",
                "dynamics",
                "--client-id",
                "id",
                "--token-url",
                tenant,
                "--api-version",
                "8.2",
                "--secrets-stdin",
            ][..],
            "api_version",
        ),
        (
            &[
                "--kind",
                "dynamics",
                "--client-id",
                "id",
                "--token-url",
                tenant,
                "--auth",
                "oauth-refresh",
                "--secrets-stdin",
            ][..],
            "auth",
        ),
        (
            &[
                "--kind",
                "dynamics",
                "--token-url",
                tenant,
                "--secrets-stdin",
            ][..],
            "client_id",
        ),
        (
            &[
                "--kind",
                "hubspot",
                "--duplicate-detection",
                "on",
                "--token-stdin",
            ][..],
            "duplicate_detection",
        ),
    ] {
        assert_refused(args, &add(args), field);
    }
    assert_eq!(json(&db, &["endpoints", "list"]), serde_json::json!([]));
}
