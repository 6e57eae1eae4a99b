//! A Dynamics 365 endpoint set up the way an admin's script does it, as
//! real processes with the real keyring (`scripts/with-keyring`) against
//! the emulator: the client secret from `--secrets-stdin`, Entra ID's
//! token URL and the default scope, "Test connection", customers that go
//! both ways (delivered by alternate key, pulled, found offline), and the
//! settings refused where they do not fit.

use std::collections::BTreeMap;

use crm_emulator::{Config, Emulator};

mod common;
use common::{json, run, run_with_stdin, till_db};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_signed_in_through_entra_takes_and_gives_contacts() {
    let (_dir, db) = till_db();
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let config = emu.config().clone();
    let name = format!("dv-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let token_url = format!(
        "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
        emu.crm_url()
    );
    let secrets = format!(r#"{{"client_secret": "{}"}}"#, config.oauth_client_secret);
    let added = run_with_stdin(
        &db,
        &[
            "--json",
            "endpoints",
            "add",
            "--name",
            &name,
            "--kind",
            "dynamics",
            "--url",
            &emu.crm_url(),
            "--auth",
            "oauth-client-credentials",
            "--client-id",
            &config.oauth_client_id,
            "--token-url",
            &token_url,
            "--key-property",
            "outpost_key",
            "--api-version",
            "9.2",
            "--duplicate-detection",
            "off",
            "--secrets-stdin",
        ],
        &secrets,
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let shown = json(&db, &["endpoints", "show", &name]);
    assert_eq!(shown["kind"], "dynamics");
    assert_eq!(shown["settings"]["auth"], "oauth-client-credentials");
    assert_eq!(shown["settings"]["api_version"], "9.2");
    assert_eq!(shown["settings"]["duplicate_detection"], false);
    assert_eq!(shown["client_secret"], "set");
    assert_eq!(shown["field_map"]["last_name"], "lastname");
    assert_eq!(shown["field_map"]["country"], "address1_country");

    let tested = json(&db, &["endpoints", "test", &name]);
    assert_eq!(tested["outcome"], "ok", "{tested}");

    let ada = json(
        &db,
        &[
            "customers",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            "O'Lovelace",
            "--email",
            "ada@example.com",
        ],
    );
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 1);
    let key = ada["id"].as_str().unwrap();
    let record = emu
        .records()
        .into_iter()
        .find(|r| r.api == "dynamics" && r.key.as_deref() == Some(key))
        .expect("Ada is in Dynamics");
    assert_eq!(record.record["lastname"], "O'Lovelace");
    assert_eq!(record.record["emailaddress1"], "ada@example.com");
    assert!(
        emu.count("POST /{tenant}/oauth2/v2.0/token", 200) >= 2,
        "a sign-in per process"
    );

    emu.seed_dynamics(vec![BTreeMap::from([
        ("firstname".to_owned(), "Grace".to_owned()),
        ("lastname".to_owned(), "Hopper".to_owned()),
        ("address1_country".to_owned(), "United States".to_owned()),
    ])]);
    let pulled = json(&db, &["pull", "--endpoint", &name]);
    assert_eq!(pulled["fetched"], 2, "{pulled}");
    emu.down().await;
    let found = json(&db, &["customers", "search", "Hopper"]);
    assert_eq!(found[0]["last_name"], "Hopper", "{found}");
    assert_eq!(found[0]["country"], "US");
    run(&db, &["endpoints", "remove", &name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamics_settings_are_refused_where_they_do_not_fit() {
    let (_dir, db) = till_db();
    let add = |args: &[&str]| {
        let mut all = vec![
            "--json",
            "endpoints",
            "add",
            "--name",
            "dv",
            "--url",
            "https://org.crm.dynamics.com",
        ];
        all.extend_from_slice(args);
        run_with_stdin(&db, &all, r#"{"client_secret": "s"}"#)
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
