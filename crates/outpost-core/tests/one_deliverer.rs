//! One deliverer per database: two engines (two windows, or a window and a
//! `sync --watch` service) on one database file, each with its own store as
//! separate processes have, against the emulator answering every request
//! after 300 ms. Only the holder of the delivery lease sends; the other
//! queues and looks up, and takes over when the holder stops. A killed
//! holder (a real process) is in the root suite, `tests/sync_watch.rs`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

mod common;
use common::{wait_until, World, DEADLINE};

use crm_emulator::{Config, Faults};
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::sync::lease::{self, ONE_SHOT_WAIT};
use outpost_core::sync::once::{flush_once, pull_once, FlushError, PullOnceError};
use outpost_core::{CustomerChange, OutboxState, Outpost, Store, StoreEvent};
use tokio::sync::broadcast::error::RecvError;

async fn slow_rest_world() -> World {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(
        EndpointKind::GenericRest,
        EndpointSettings {
            batch_size: Some(4),
            ..EndpointSettings::default()
        },
    )
    .await;
    w.emu.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    w
}

async fn in_flight(store: &Store) -> HashSet<i64> {
    store
        .outbox(Some(OutboxState::InFlight), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_database_send_every_customer_exactly_once() {
    let w = slow_rest_world().await;
    let mut keys = w.add(24, "First").await;
    let holder = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    assert!(holder.delivers());
    let end = Instant::now() + DEADLINE;
    let sending = loop {
        let now = in_flight(&w.store).await;
        if !now.is_empty() {
            break now;
        }
        assert!(Instant::now() < end, "no round in flight");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // A second window on the same file: its own store, as another process.
    let other_store = Store::open(&w.db).await.unwrap();
    let other = SyncEngine::start(other_store.clone(), w.secrets.clone())
        .await
        .unwrap();
    assert!(!other.delivers(), "the lease is taken");
    let said = other.status().await.unwrap().other_deliverer.unwrap();
    assert!(said.contains("another Outpost process"), "{said}");
    // It did not put the holder's messages back in the queue.
    let states: HashMap<i64, OutboxState> = w
        .store
        .outbox(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.state))
        .collect();
    for id in &sending {
        assert_ne!(
            states[id],
            OutboxState::Pending,
            "message {id} was requeued while its sender is alive"
        );
    }

    // The window without the lease still creates; the holder sends them.
    let mut events = other_store.subscribe();
    let mut second = HashSet::new();
    for c in common::inputs(6, "Second") {
        let id = other_store.create_customer(&c).await.unwrap().id;
        second.insert(id);
        keys.push(id);
    }
    // A one-shot flush and pull beside them wait a little, then stand aside.
    let asked = Instant::now();
    let flush = flush_once(&other_store, w.secrets.clone()).await;
    assert!(
        matches!(flush, Err(FlushError::AnotherDeliverer(_))),
        "{flush:?}"
    );
    let waited = asked.elapsed();
    assert!(
        waited >= ONE_SHOT_WAIT && waited < ONE_SHOT_WAIT + Duration::from_secs(2),
        "{waited:?}"
    );
    let report = Outpost::one_shot(other_store.clone(), w.secrets.clone())
        .sync_once()
        .await
        .unwrap();
    assert_eq!(report.skipped.as_deref(), Some(lease::ANOTHER_PROCESS));
    assert_eq!(report.delivered, 0);
    assert!(matches!(
        pull_once(&other_store, w.secrets.clone(), None).await,
        Err(PullOnceError::AnotherDeliverer(_))
    ));

    wait_until("every customer delivered", DEADLINE, || async {
        w.store.status().await.unwrap().sent == keys.len() as u64
    })
    .await;
    w.assert_exactly_once(&keys);
    let puts = w.emu.puts_per_key();
    for k in &keys {
        assert_eq!(puts.get(&k.to_string()), Some(&1), "{k} sent once");
    }
    // The waiting window hears of the other process's deliveries, so its
    // badges turn Synced (it polls: no event crosses processes).
    let end = Instant::now() + Duration::from_secs(10);
    while !second.is_empty() {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(StoreEvent::CustomersChanged(c))) if c.change == CustomerChange::Synced => {
                for id in c.ids {
                    second.remove(&id);
                }
            }
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            other => panic!("{} deliveries never told: {other:?}", second.len()),
        }
    }
    other.stop(Duration::from_secs(5)).await;
    holder.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_engine_takes_over_when_the_holder_stops() {
    let w = slow_rest_world().await;
    let keys = w.add(40, "Handover").await;
    let holder = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    let other_store = Store::open(&w.db).await.unwrap();
    let other = SyncEngine::start(other_store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("some deliveries", DEADLINE, || async {
        w.store.status().await.unwrap().sent >= 8
    })
    .await;
    assert!(!other.delivers());
    // Abrupt, like a crash: the round in flight is cut off and left in flight.
    holder.stop(Duration::ZERO).await;
    let stopped = Instant::now();
    wait_until("the other engine to take the lease", DEADLINE, || async {
        other.delivers()
    })
    .await;
    let took = stopped.elapsed();
    assert!(took < Duration::from_secs(2), "took over after {took:?}");
    assert_eq!(other.status().await.unwrap().other_deliverer, None);

    wait_until("the rest delivered", DEADLINE, || async {
        other_store.status().await.unwrap().sent == 40
    })
    .await;
    w.assert_exactly_once(&keys);
    // A send cut off by the stop may have reached the CRM: sent again, the
    // upsert updated the same record. Nothing else is sent twice.
    let puts = w.emu.puts_per_key();
    let twice = puts.values().filter(|&&n| n > 1).count();
    assert!(puts.values().all(|&n| n <= 2) && twice <= 4, "{puts:?}");
    other.stop(Duration::from_secs(5)).await;
}
