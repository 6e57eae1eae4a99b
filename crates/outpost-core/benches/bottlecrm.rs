//! Flush throughput against the real BottleCRM server, as a fraction of what
//! the server itself can take, measured in the same run: the baseline posts
//! contacts straight to its API with 4 requests in flight (its measured best),
//! each starting as soon as one ends.
//!
//!     cargo bench -p outpost-core --bench bottlecrm [-- RECORDS]   (default 200; starts the server if needed)

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::once::flush_once;
use outpost_core::{NewCustomer, Sensitive, Store};
use serde_json::{json, Value};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bottlecrm-up"
    ))
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "scripts/bottlecrm-up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (url, token) = (
        server["url"].as_str().unwrap(),
        server["token"].as_str().unwrap(),
    );
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

    // Baseline: the server's own ceiling, 4 creates in flight.
    let client = reqwest::Client::new();
    let start = Instant::now();
    // Each request starts as soon as one of the four before it ends.
    stream::iter(0..n)
        .map(|i| {
            client
                .post(format!("{url}/api/contacts/"))
                .bearer_auth(token)
                .json(&json!({"first_name": "Base", "last_name": format!("Line{i}"), "email": format!("base.{run}.{i}@example.com")}))
                .send()
        })
        .buffer_unordered(4)
        .for_each(|r| {
            assert!(r.unwrap().status().is_success());
            std::future::ready(())
        })
        .await;
    let baseline = n as f64 / start.elapsed().as_secs_f64();

    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path().join("bench.db")).await.unwrap();
    // The numbers below are national: read as German.
    store
        .set_app_settings(&outpost_core::app_settings::AppSettingsInput {
            default_region: Some("DE".into()),
        })
        .await
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
    secrets
        .set(
            "bottle",
            SecretKind::Token,
            &Sensitive::new(token.to_owned()),
        )
        .await
        .unwrap();
    store
        .save_endpoint(&EndpointConfig {
            name: "bottle".into(),
            kind: EndpointKind::Bottlecrm,
            base_url: url.to_owned(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: EndpointSettings::default(),
        })
        .await
        .unwrap();
    let inputs: Vec<_> = (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some("Out".into()),
                last_name: Some(format!("Post{i}")),
                email: Some(format!("outpost.{run}.{i}@example.com")),
                phone: Some("030 1234567".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    store.create_customers(&inputs).await.unwrap();
    let start = Instant::now();
    let summary = flush_once(&store, secrets).await.unwrap();
    let rate = summary.round.delivered as f64 / start.elapsed().as_secs_f64();
    assert_eq!(summary.round.delivered as usize, n);

    println!("| measurement | records/s |");
    println!("|---|---:|");
    println!(
        "| BottleCRM's own ceiling: direct creates, 4 in flight ({n} contacts) | {baseline:.1} |"
    );
    println!(
        "| Outpost `flush_once` to BottleCRM ({n} customers) | {rate:.1} ({:.0} % of the ceiling) |",
        rate / baseline * 100.0
    );
}
