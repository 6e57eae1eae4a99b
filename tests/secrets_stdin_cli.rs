//! `outpost endpoints add|set --secrets-stdin`: an admin's script hands every
//! secret of a sign-in over as one JSON object on stdin. Real process, real
//! keyring (`scripts/with-keyring`), the emulator as the CRM: the secrets
//! sign in and deliver, a bad object is refused naming what is wrong with
//! nothing saved, and no value reaches the output or the database files.

use std::path::Path;

use crm_emulator::{Config, Emulator};
use serde_json::Value;

mod common;
use common::{json, json_error, run, run_with_stdin, stderr, till_db, unique};

fn assert_nowhere(dir: &Path, outputs: &[&std::process::Output], value: &str) {
    for out in outputs {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(value));
        assert!(!stderr(out).contains(value), "{}", stderr(out));
    }
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
            "{} holds a secret",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_from_a_json_object_sign_in_and_deliver() {
    let (dir, db) = till_db();
    let secret = format!("cs-{}", uuid::Uuid::new_v4());
    let emu = Emulator::start(Config {
        oauth_client_secret: secret.clone(),
        ..Config::unlimited()
    })
    .await
    .unwrap();
    let name = unique("json-cc");
    let client_id = emu.config().oauth_client_id.clone();
    let url = emu.crm_url();
    let add = |stdin: &str| {
        run_with_stdin(
            &db,
            &[
                "--json",
                "endpoints",
                "add",
                "--name",
                &name,
                "--kind",
                "generic-rest",
                "--url",
                &url,
                "--auth",
                "oauth-client-credentials",
                "--client-id",
                &client_id,
                "--secrets-stdin",
            ],
            stdin,
        )
    };

    // A token does not fit client credentials: refused, naming it, nothing saved.
    let unfit = add(r#"{"token": "tok-unfit"}"#);
    assert_eq!(unfit.status.code(), Some(2), "{}", stderr(&unfit));
    assert_eq!(json_error(&unfit)["fields"][0]["field"], "token");
    assert_eq!(json(&db, &["endpoints", "list"]), Value::Array(vec![]));

    let wrong = "a-wrong-secret";
    let added = add(&format!(r#"{{"client_secret": "{wrong}"}}"#));
    assert!(added.status.success(), "{}", stderr(&added));
    let tested = run(&db, &["--json", "endpoints", "test", &name]);
    assert_eq!(tested.status.code(), Some(1));

    // `set` replaces the secret with the right one.
    let set = run_with_stdin(
        &db,
        &["endpoints", "set", "--name", &name, "--secrets-stdin"],
        &format!("{{\"client_secret\": \"{secret}\"}}\n"),
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let shown = json(&db, &["endpoints", "show", &name]);
    assert_eq!(shown["client_secret"], "set");
    assert_eq!(shown["token"], "not set");
    let tested = json(&db, &["endpoints", "test", &name]);
    assert_eq!(tested["outcome"], "ok");

    assert!(run(&db, &["customers", "add", "--last-name", "Json"])
        .status
        .success());
    let synced = json(&db, &["sync", "--once"]);
    assert_eq!(synced["delivered"], 1);
    assert_eq!(emu.records().len(), 1, "in the CRM once");

    let shown = run(&db, &["--json", "endpoints", "show", &name]);
    assert_nowhere(dir.path(), &[&unfit, &added, &set, &shown], &secret);
    assert_nowhere(dir.path(), &[], wrong);
    run(&db, &["endpoints", "remove", &name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_a_json_object_delivers_and_bad_objects_are_refused_by_name() {
    let (dir, db) = till_db();
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let name = unique("json-token");
    let url = emu.crm_url();
    let add = |stdin: &str| {
        run_with_stdin(
            &db,
            &[
                "--json",
                "endpoints",
                "add",
                "--name",
                &name,
                "--kind",
                "generic-rest",
                "--url",
                &url,
                "--secrets-stdin",
            ],
            stdin,
        )
    };

    for (stdin, field, words) in [
        (
            r#"{"tokne": "hunter2"}"#,
            "tokne",
            "unknown secret \"tokne\"",
        ),
        (r#"{"token": "hunter2""#, "secrets", "not JSON"),
        (r#"["hunter2"]"#, "secrets", "a JSON object"),
        (r#"{"token": ""}"#, "token", "not empty"),
    ] {
        let refused = add(stdin);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{stdin}: {}",
            stderr(&refused)
        );
        let error = json_error(&refused);
        assert_eq!(error["fields"][0]["field"], field, "{stdin}: {error}");
        let message = error["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(words), "{stdin}: {message}");
        assert_nowhere(dir.path(), &[&refused], "hunter2");
    }
    assert_eq!(json(&db, &["endpoints", "list"]), Value::Array(vec![]));

    let token = emu.config().token.clone();
    let added = add(&format!(r#"{{"token": "{token}"}}"#));
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(json(&db, &["endpoints", "show", &name])["token"], "set");
    assert!(run(&db, &["customers", "add", "--last-name", "Token"])
        .status
        .success());
    assert_eq!(json(&db, &["sync", "--once"])["delivered"], 1);
    assert_nowhere(dir.path(), &[&added], &token);
    run(&db, &["endpoints", "remove", &name]);
}
