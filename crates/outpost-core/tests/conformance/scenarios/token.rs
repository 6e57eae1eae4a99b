//! An access token the CRM ends early is renewed once, and the queue goes
//! on without marking anything failed.

use std::time::Duration;

use outpost_core::sync::engine::SyncEngine;

use crate::common::{wait_until, Local, DEADLINE};
use crate::crm::{assert_exactly_once, connect};
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let mut settings = crm.renewable_sign_in(&*local.secrets).await?;
    let before = crm.records_per_key().await;
    settings.batch_size = Some(10);
    connect(crm, local, settings).await;
    let first = local.add(30, "OAuth").await;
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    wait_until("the first 30", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    let renewals = crm.renewals();
    assert_eq!(renewals, 1, "one token for the first 30");

    crm.expire_tokens();
    let second = local.add(30, "Expired").await;
    wait_until("the next 30", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    assert_eq!(crm.renewals(), renewals + 1, "one renewal after the expiry");
    assert_exactly_once(crm, &before, &[first, second].concat()).await;
    assert_eq!(local.store.status().await.unwrap().needs_attention, 0);
    engine.stop(Duration::from_secs(5)).await;
    Ok(())
}
