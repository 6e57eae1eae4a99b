//! Salesforce's clients against the emulator's Salesforce REST API:
//! jsforce (tests/vendor-clients/jsforce_client.mjs, Node, pinned by
//! tests/vendor-clients/package-lock.json) and simple-salesforce
//! (tests/vendor-clients/simple_salesforce_client.py, in the venv of
//! scripts/vendor-clients-venv). Both are installed by `scripts/setup --test`.
//! Without them a test fails when `CI` is set and is skipped loudly otherwise.
//!
//! Each test starts its own emulator on loopback, runs the script with a
//! deadline and then checks the emulator's request counters: the routes the
//! client was expected to take were taken.

mod common;

use common::vendor::{clients_dir, installed, node_with_jsforce, run, venv_python};

use crm_emulator::{Config, Emulator};

const OAUTH_TOKEN: &str = "POST /services/oauth2/token";
const COLLECTION_CREATE: &str = "POST /services/data/{version}/composite/sobjects";
const COLLECTION_UPSERT: &str =
    "PATCH /services/data/{version}/composite/sobjects/{object}/{field}";
const UPSERT: &str = "PATCH /services/data/{version}/sobjects/{object}/{field}/{value}";
const QUERY_MORE: &str = "GET /services/data/{version}/query/{locator}";

fn script_args(emu: &Emulator, script: &str) -> Vec<String> {
    let config = emu.config();
    let mut args = vec![
        clients_dir().join(script).display().to_string(),
        "--crm".into(),
        emu.crm_url(),
        "--control".into(),
        emu.control_url(),
        "--token".into(),
        emu.token().to_string(),
    ];
    // jsforce refreshes with the OAuth client's settings; simple-salesforce cannot.
    if script.ends_with(".mjs") {
        args.extend([
            "--client-id".into(),
            config.oauth_client_id.clone(),
            "--client-secret".into(),
            config.oauth_client_secret.clone(),
            "--refresh-token".into(),
            config.oauth_refresh_token.clone(),
        ]);
    }
    args
}

/// At least `min` requests to `endpoint` answered `status`; on failure the
/// message lists every endpoint the emulator counted.
fn saw(emu: &Emulator, endpoint: &str, status: u16, min: u64, why: &str) {
    let n = emu.count(endpoint, status);
    if n < min {
        let stats = emu.stats();
        let seen: Vec<String> = stats
            .endpoints
            .iter()
            .map(|(e, by)| format!("  {e} {by:?}"))
            .collect();
        panic!(
            "{why}: expected at least {min} of `{endpoint}` answered {status}, counted {n}; \
             the emulator counted:\n{}",
            seen.join("\n")
        );
    }
}

#[tokio::test]
async fn jsforce_against_the_emulator() {
    let Some(node) = installed("jsforce (Salesforce's Node client)", node_with_jsforce()) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let report = run(
        "jsforce_client.mjs",
        &node,
        &script_args(&emu, "jsforce_client.mjs"),
    )
    .await;
    println!("{report}");

    // The requests jsforce was expected to send, as the emulator saw them.
    saw(
        &emu,
        COLLECTION_CREATE,
        200,
        1,
        "create of an array goes to the sObject collection",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        200,
        5,
        "upsert of an array goes to the sObject collection",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        400,
        1,
        "a collection of 201 records is refused",
    );
    saw(&emu, UPSERT, 201, 1, "single upsert by Outpost_Key__c, new");
    saw(
        &emu,
        UPSERT,
        200,
        1,
        "single upsert by Outpost_Key__c, existing (200 with a body from v46 on)",
    );
    saw(
        &emu,
        QUERY_MORE,
        200,
        2,
        "queryMore and autoFetch follow nextRecordsUrl",
    );
    // One refresh after the expiry (the call replayed), two with rotation, one refused.
    assert_eq!(
        emu.count(OAUTH_TOKEN, 200),
        3,
        "one refresh per expired token, no more: {:?}",
        emu.stats()
    );
    saw(
        &emu,
        OAUTH_TOKEN,
        400,
        1,
        "a refresh with a wrong refresh token is refused",
    );
    assert!(
        emu.stats().count_anywhere("403") >= 1,
        "over the daily budget: 403 REQUEST_LIMIT_EXCEEDED: {:?}",
        emu.stats()
    );
    assert!(
        emu.stats().count_anywhere("401") >= 3,
        "the expired and unknown tokens were answered 401: {:?}",
        emu.stats()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn simple_salesforce_against_the_emulator() {
    let Some(python) = installed("simple-salesforce", venv_python()) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let mut args = script_args(&emu, "simple_salesforce_client.py");
    args.push("-v".into());
    let report = run("simple_salesforce_client.py", &python, &args).await;
    println!("{report}");

    saw(
        &emu,
        UPSERT,
        201,
        2,
        "upsert('Outpost_Key__c/<key>') of a new key",
    );
    saw(
        &emu,
        COLLECTION_UPSERT,
        200,
        2,
        "250 records seeded 200 at a time",
    );
    saw(
        &emu,
        QUERY_MORE,
        200,
        3,
        "query_more, by URL and by locator, and query_all",
    );
    assert!(
        emu.stats().count_anywhere("403") >= 1,
        "over the daily budget: 403 REQUEST_LIMIT_EXCEEDED: {:?}",
        emu.stats()
    );
    assert!(
        emu.stats().count_anywhere("401") >= 2,
        "the expired and unknown sessions were answered 401: {:?}",
        emu.stats()
    );
    emu.shutdown().await;
}
