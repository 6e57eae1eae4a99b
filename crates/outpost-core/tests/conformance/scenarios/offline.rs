//! Customers created while the CRM is unreachable arrive exactly once when
//! it returns, each synced with the CRM's id.

use std::time::Duration;

use outpost_core::sync::engine::SyncEngine;
use outpost_core::{ConnectionState, SyncState};

use crate::common::{wait_until, Local, DEADLINE};
use crate::crm::{assert_exactly_once, connect};
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let before = crm.records_per_key().await;
    crm.down().await;
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    let n = crm.offline_count();
    let keys = local.add(n, "Offline").await;
    wait_until("the monitor to see the CRM down", DEADLINE, || async {
        engine.status().await.unwrap().connection == ConnectionState::Offline
    })
    .await;
    assert_eq!(local.pending().await, n as u64);

    crm.up().await;
    wait_until("every customer to be delivered", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;

    assert_exactly_once(crm, &before, &keys).await;
    let status = local.store.status().await.unwrap();
    assert_eq!((status.sent, status.needs_attention), (n as u64, 0));
    for k in keys.iter().step_by(97) {
        let c = local.store.customer(*k).await.unwrap().unwrap();
        assert_eq!(c.sync_state, SyncState::Synced);
        crm.assert_created(n, c.crm_id.as_deref().expect("a CRM id"));
    }
    engine.stop(Duration::from_secs(5)).await;
    Ok(())
}
