//! The CRM stores a write and the connection drops before its answer
//! (drop-after-commit): the resend finds or updates the same record, never
//! a second one.

use std::time::Duration;

use crm_emulator::Faults;
use outpost_core::sync::engine::SyncEngine;

use crate::common::{wait_until, Local, DEADLINE};
use crate::crm::{assert_exactly_once, connect};
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    deliver_through(
        crm,
        local,
        Faults {
            drop_after_commit_rate: 0.2,
            seed: Some(7),
            ..Faults::default()
        },
        "dropped_after_commit",
        "Dropped",
    )
    .await;
    Ok(())
}

/// 200 customers (fewer for slow CRMs) through a fault plan that spoils
/// answers after the write: all arrive once, and the fault was exercised.
pub async fn deliver_through<C: Crm>(
    crm: &C,
    local: &Local,
    faults: Faults,
    outcome: &str,
    tag: &str,
) {
    let before = crm.records_per_key().await;
    let mut settings = crm.sign_in(&*local.secrets).await;
    settings.batch_size = Some(10);
    connect(crm, local, settings).await;
    crm.set_faults(faults);
    let keys = local.add((2 * crm.offline_count()).min(200), tag).await;
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    wait_until("every customer to be delivered", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    assert!(crm.faults_seen(outcome) > 0, "the fault was exercised");
    crm.set_faults(Faults::default());
    assert_exactly_once(crm, &before, &keys).await;
    assert_eq!(local.store.status().await.unwrap().needs_attention, 0);
    engine.stop(Duration::from_secs(5)).await;
}
