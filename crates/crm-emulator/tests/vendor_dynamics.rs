//! dynamics-web-api (tests/vendor-clients/dynamics_web_api_client.mjs, Node,
//! pinned by tests/vendor-clients/package-lock.json, installed by
//! `scripts/setup --test`) against the emulator's Dataverse Web API.
//! Without it the test fails when `CI` is set and is skipped loudly otherwise.
//!
//! The test starts its own emulator on loopback, runs the script with a
//! deadline and then checks the emulator's request counters: the routes the
//! client was expected to take were taken.

mod common;

use common::vendor::{clients_dir, installed, node_with, run};

use crm_emulator::{Config, Emulator};

const TOKEN: &str = "POST /{tenant}/oauth2/v2.0/token";
const CREATE: &str = "POST /api/data/{version}/contacts";
const RECORD: &str = "/api/data/{version}/{record}";
const BATCH: &str = "POST /api/data/{version}/$batch";
const LIST: &str = "GET /api/data/{version}/contacts";
const PICKLISTS: &str = "GET /api/data/{version}/{record}/{sub}/{cast}";

/// At least `min` requests to `endpoint` answered `status`; on failure the
/// message lists every endpoint the emulator counted.
fn saw(emu: &Emulator, endpoint: &str, status: u16, min: u64, why: &str) {
    let n = emu.count(endpoint, status);
    if n < min {
        let seen: Vec<String> = emu
            .stats()
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
async fn dynamics_web_api_against_the_emulator() {
    let Some(node) = installed(
        "dynamics-web-api (Dataverse's Node client)",
        node_with("dynamics-web-api"),
    ) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let config = emu.config();
    let args = vec![
        clients_dir()
            .join("dynamics_web_api_client.mjs")
            .display()
            .to_string(),
        "--crm".into(),
        emu.crm_url(),
        "--control".into(),
        emu.control_url(),
        "--client-id".into(),
        config.oauth_client_id.clone(),
        "--client-secret".into(),
        config.oauth_client_secret.clone(),
    ];
    let report = run("dynamics_web_api_client.mjs", &node, &args).await;
    println!("{report}");

    saw(
        &emu,
        TOKEN,
        200,
        1,
        "the client signs in at the Entra-style endpoint",
    );
    saw(
        &emu,
        CREATE,
        204,
        1,
        "create answers 204 with OData-EntityId",
    );
    saw(&emu, CREATE, 201, 1, "create with return=representation");
    saw(
        &emu,
        &format!("PATCH {RECORD}"),
        204,
        3,
        "upserts by alternate key",
    );
    saw(
        &emu,
        &format!("PATCH {RECORD}"),
        412,
        2,
        "ifnonematch and a stale ifmatch",
    );
    saw(
        &emu,
        &format!("PATCH {RECORD}"),
        404,
        1,
        "update of a missing row",
    );
    saw(
        &emu,
        &format!("GET {RECORD}"),
        304,
        1,
        "a conditional retrieve",
    );
    saw(&emu, LIST, 200, 3, "retrieveMultiple follows nextLink");
    saw(&emu, LIST, 400, 1, "the strict filter refuses endswith");
    saw(&emu, BATCH, 200, 3, "executeBatch");
    saw(&emu, PICKLISTS, 200, 1, "picklist metadata with OptionSet");
    emu.shutdown().await;
}
