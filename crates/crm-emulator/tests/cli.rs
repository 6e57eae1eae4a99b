//! The binary's command-line contract: port 0, one JSON line, clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn binary_prints_urls_serves_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cli.db");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_crm-emulator"))
            .args([
                "--port",
                "0",
                "--control-port",
                "0",
                "--token",
                "cli-token",
                "--rate-limit",
                "off",
                "--seed",
                "7",
            ])
            .arg("--state")
            .arg(&state)
            .env("RUST_LOG", "warn")
            // Client credentials from the environment, never argv.
            .env("CRM_EMULATOR_CLIENT_ID", "cli-client")
            .env("CRM_EMULATOR_CLIENT_SECRET", "cli-secret")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts")
    };
    let read_urls = |child: &mut std::process::Child| {
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        (
            v["crm"].as_str().unwrap().to_string(),
            v["control"].as_str().unwrap().to_string(),
        )
    };
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut child = spawn();
    let (crm, control) = read_urls(&mut child);
    assert!(crm.starts_with("http://127.0.0.1:") && control.starts_with("http://127.0.0.1:"));
    assert_eq!(
        c.get(format!("{crm}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{control}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c
        .put(format!("{crm}/customers/cli"))
        .bearer_auth("cli-token")
        .json(&serde_json::json!({"company": "CLI"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = |secret: &'static str| {
        c.post(format!("{crm}/oauth/token"))
            .basic_auth("cli-client", Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    assert_eq!(token("cli-secret").await.unwrap().status(), 200);
    assert_eq!(token("outpost-client-secret").await.unwrap().status(), 401);
    stop(&mut child);

    // Restarted on the same state file, the record is still there.
    let mut child = spawn();
    let (crm, _) = read_urls(&mut child);
    let r = c
        .get(format!("{crm}/customers/cli"))
        .bearer_auth("cli-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    stop(&mut child);

    let bad = Command::new(env!("CARGO_BIN_EXE_crm-emulator"))
        .args(["--rate-limit", "lots"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!bad.success());
}

#[tokio::test]
async fn dynamics_flags_set_the_service_protection_limits() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm-emulator"))
        .args([
            "--port",
            "0",
            "--control-port",
            "0",
            "--dynamics-limit",
            "2/60s",
            "--dynamics-concurrency",
            "0",
            "--dynamics-request-cost-ms",
            "250",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let crm = v["crm"].as_str().unwrap().to_string();
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let who = || {
        c.get(format!("{crm}/api/data/v9.2/WhoAmI"))
            .bearer_auth("outpost-test-token")
            .send()
    };
    let first = who().await.unwrap();
    assert_eq!(first.status(), 200);
    let left = |r: &reqwest::Response, h: &str| {
        r.headers().get(h).map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        left(&first, "x-ms-ratelimit-time-remaining-xrm-requests").as_deref(),
        Some("1199750")
    );
    assert_eq!(who().await.unwrap().status(), 200);
    let third = who().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(left(&third, "retry-after").is_some());
    stop(&mut child);
}

/// SIGTERM, so the emulator flushes its state file; waits with a deadline.
fn stop(child: &mut std::process::Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit: {status:?}");
            return;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("emulator did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
