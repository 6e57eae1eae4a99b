//! The CRM's limit answer (429 with Retry-After) is honoured: an admin set
//! a far higher budget than the CRM allows, yet the CRM is not hammered and
//! every customer arrives.

use std::time::Duration;

use outpost_core::sync::engine::SyncEngine;

use crate::common::{wait_until, Local, DEADLINE};
use crate::crm::{assert_exactly_once, connect};
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    crm.limit(5, Duration::from_secs(1))?;
    let before = crm.records_per_key().await;
    let mut settings = crm.sign_in(&*local.secrets).await;
    settings.batch_size = Some(1);
    settings.rate_limit = Some(1000);
    settings.rate_window_secs = Some(1);
    connect(crm, local, settings).await;
    let keys = local.add(20, "Limited").await;
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    wait_until("all 20 to be delivered", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    assert_exactly_once(crm, &before, &keys).await;
    let bounced = crm.limit_answers();
    // Without Retry-After handling a client retries in a tight loop and
    // collects hundreds of 429s; honouring it costs at most a few per window.
    assert!(
        bounced <= 12,
        "{bounced} requests bounced off the rate limit"
    );
    engine.stop(Duration::from_secs(5)).await;
    Ok(())
}
