//! Zoho's official Python SDK (`zohocrmsdk8-0`) against the emulator's Zoho
//! CRM v8 API: tests/vendor-clients/zoho_client.py, run by the venv that
//! `scripts/setup --test` builds (scripts/vendor-clients-venv). Without that
//! venv the test fails when `CI` is set and is skipped loudly otherwise.

mod common;

use common::vendor::{installed, repo, run, venv_python};
use crm_emulator::Config;

#[tokio::test]
async fn zoho_official_python_sdk() {
    let Some(python) = installed("Zoho's own SDK", venv_python()) else {
        return;
    };
    let emu = common::start_with(Config::unlimited()).await;
    let config = emu.config().clone();
    let args: Vec<String> = [
        repo()
            .join("tests/vendor-clients/zoho_client.py")
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
        "--refresh-token".into(),
        config.oauth_refresh_token.clone(),
        "-v".into(),
    ]
    .into();
    println!("{}", run("Zoho's SDK", &python, &args).await);
    emu.shutdown().await;
}
