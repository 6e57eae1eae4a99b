//! `outpost endpoints` with OAuth client credentials, as a real process with
//! the real keyring (under `scripts/with-keyring`) against the emulator: the
//! client secret comes from stdin, a wrong one is reported as rejected, the
//! right one delivers, and it is stored nowhere but the keyring.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crm_emulator::{Config, Emulator};
use serde_json::Value;
use tempfile::TempDir;

fn outpost(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("OUTPOST_DB")
        .env_remove("OUTPOST_ADMIN_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_from_stdin_is_tested_rotated_and_used_and_stays_in_the_keyring() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("till.db");
    let secret = format!("cs-{}", uuid::Uuid::new_v4());
    let emu = Emulator::start(Config {
        oauth_client_secret: secret.clone(),
        ..Config::unlimited()
    })
    .await
    .unwrap();
    // Unique per run: the keyring session may be shared with other tests.
    let name = format!("cc-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let client_id = emu.config().oauth_client_id.clone();
    let url = emu.crm_url();

    let added = outpost(
        &db,
        &[
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
            "--client-secret-stdin",
        ],
        Some("a-wrong-secret\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let tested = outpost(&db, &["--json", "endpoints", "test", &name], None);
    assert_eq!(tested.status.code(), Some(1));
    assert_eq!(json(&tested)["outcome"], "credentials_rejected");

    // The right secret, through `set`.
    let set = outpost(
        &db,
        &["endpoints", "set", "--name", &name, "--client-secret-stdin"],
        Some(&secret),
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let tested = outpost(&db, &["--json", "endpoints", "test", &name], None);
    assert_eq!(json(&tested)["outcome"], "ok", "{:?}", tested);

    let shown = json(&outpost(&db, &["--json", "endpoints", "show", &name], None));
    assert_eq!(shown["settings"]["auth"], "oauth-client-credentials");
    assert_eq!(shown["settings"]["client_id"], client_id.as_str());
    assert_eq!(
        (&shown["client_secret"], &shown["token"]),
        (&Value::from("set"), &Value::from("not set"))
    );

    // The token endpoint and scope of an identity provider: kept, shown,
    // dropped again by naming the CRM's own endpoint; refused on a token
    // sign-in, naming the setting.
    let idp = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token";
    let set = outpost(
        &db,
        &[
            "endpoints",
            "set",
            "--name",
            &name,
            "--token-url",
            idp,
            "--scope",
            "https://crm.example.com/.default",
        ],
        None,
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let shown = json(&outpost(&db, &["--json", "endpoints", "show", &name], None));
    assert_eq!(shown["settings"]["token_url"], idp);
    assert_eq!(
        shown["settings"]["scope"],
        "https://crm.example.com/.default"
    );
    let own = format!("{url}/oauth/token");
    let set = outpost(
        &db,
        &[
            "endpoints",
            "set",
            "--name",
            &name,
            "--token-url",
            &own,
            "--scope",
            "outpost",
        ],
        None,
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let on_token = outpost(
        &db,
        &[
            "--json",
            "endpoints",
            "add",
            "--name",
            "plain",
            "--kind",
            "generic-rest",
            "--url",
            &url,
            "--scope",
            "outpost",
            "--token-stdin",
        ],
        Some("tok"),
    );
    assert_eq!(on_token.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&on_token.stderr).contains("\"scope\""),
        "{:?}",
        on_token
    );

    // A token makes no sense for client credentials: refused, naming the field.
    let refused = outpost(
        &db,
        &["endpoints", "set", "--name", &name, "--token-stdin"],
        Some("tok"),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("token"));

    assert!(
        outpost(&db, &["customers", "add", "--last-name", "Client"], None)
            .status
            .success()
    );
    let synced = json(&outpost(&db, &["--json", "sync", "--once"], None));
    assert_eq!(synced["delivered"], 1);
    assert_eq!(
        emu.count("POST /oauth/token", 200),
        2,
        "one token per process"
    );

    for file in std::fs::read_dir(dir.path()).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the client secret",
            path.display()
        );
    }
    let exported = outpost(&db, &["endpoints", "export"], None);
    assert!(!String::from_utf8_lossy(&exported.stdout).contains(&secret));

    assert!(outpost(&db, &["endpoints", "remove", &name], None)
        .status
        .success());
    emu.shutdown().await;
}
