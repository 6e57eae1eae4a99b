//! One record the CRM refuses goes to "needs attention" with the CRM's
//! reason; the 99 around it arrive.

use std::time::Duration;

use outpost_core::sync::engine::SyncEngine;
use outpost_core::OutboxState;

use crate::common::{inputs, wait_until, Local, DEADLINE};
use crate::crm::connect;
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let refusal = crm.refusal().await?;
    let before = crm.records_per_key().await;
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;
    let mut batch = inputs(100, "Taken");
    batch[42] = refusal.customer;
    let keys = local.store.create_customers(&batch).await.unwrap();
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    wait_until("the batch to be settled", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    let status = local.store.status().await.unwrap();
    assert_eq!((status.sent, status.needs_attention), (99, 1));
    let attention = local
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    assert_eq!(attention[0].customer_id, keys[42]);
    let reason = attention[0].last_error.as_deref().unwrap();
    assert!(reason.contains(refusal.reason), "{reason}");
    let per = crm.records_per_key().await;
    assert_eq!(
        per.values().sum::<usize>() - before.values().sum::<usize>(),
        99
    );
    assert!(!per.contains_key(&keys[42].to_string()));
    for k in keys
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 42)
        .map(|(_, k)| k)
    {
        assert_eq!(per.get(&k.to_string()), Some(&1), "{k} arrived once");
    }
    engine.stop(Duration::from_secs(5)).await;
    Ok(())
}
