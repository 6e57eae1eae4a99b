//! The sync engine against the CRM emulator over real HTTP on loopback, with
//! real SQLite files: crashes, the throttle, server errors, credential
//! trouble and "Test connection". What every connector must survive
//! (outages, lost answers, limits, refusals...) is in `conformance/`.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{wait_until, World, DEADLINE};

use crm_emulator::{Config, Emulator, ErrorKind, Faults};
use outpost_core::endpoint::secrets::{MemorySecrets, SecretKind, SecretStore};
use outpost_core::endpoint::{Connectivity, EndpointConfig, EndpointKind, EndpointSettings};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{ConnectionState, OutboxState, Sensitive, Store, SyncState};

/// 429 answers across every endpoint.
fn count_429(emu: &Emulator) -> u64 {
    emu.stats()
        .endpoints
        .values()
        .filter_map(|m| m.get("429"))
        .sum()
}

fn hubspot() -> EndpointSettings {
    EndpointSettings::default()
}

#[tokio::test]
async fn an_engine_stopped_mid_batch_loses_and_duplicates_nothing_after_restart() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(
        EndpointKind::Hubspot,
        EndpointSettings {
            batch_size: Some(20),
            ..hubspot()
        },
    )
    .await;
    w.emu.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let keys = w.add(300, "Crash").await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("some deliveries", DEADLINE, || async {
        w.store.status().await.unwrap().sent >= 40
    })
    .await;
    // Abrupt: no time to finish the batch in flight.
    engine.stop(Duration::ZERO).await;
    drop(engine);
    w.store.close().await;

    let store = Store::open(&w.db).await.unwrap();
    let in_flight = store
        .outbox(Some(OutboxState::InFlight), 1000)
        .await
        .unwrap()
        .len();
    let engine = SyncEngine::start(store.clone(), w.secrets.clone())
        .await
        .unwrap();
    w.emu.clear_faults();
    wait_until("the rest to be delivered", DEADLINE, || async {
        store.status().await.unwrap().pending == 0
    })
    .await;
    w.assert_exactly_once(&keys);
    assert_eq!(
        store.status().await.unwrap().sent,
        300,
        "{in_flight} were in flight at the stop"
    );
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_throttle_set_to_the_crm_limit_never_bounces() {
    let mut config = Config::unlimited();
    config.hubspot_rate_limit = Some(crm_emulator::RateLimit {
        max: 5,
        window: Duration::from_secs(1),
    });
    let w = World::new(config).await;
    w.endpoint(
        EndpointKind::Hubspot,
        EndpointSettings {
            batch_size: Some(1),
            rate_limit: Some(5),
            rate_window_secs: Some(1),
            ..hubspot()
        },
    )
    .await;
    let keys = w.add(12, "Polite").await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("all 12 to be delivered", DEADLINE, || async {
        w.pending().await == 0
    })
    .await;
    w.assert_exactly_once(&keys);
    assert_eq!(count_429(&w.emu), 0);
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn server_errors_back_off_and_delivery_resumes_when_they_stop() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::Hubspot, hubspot()).await;
    w.emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::InternalError],
        ..Faults::default()
    });
    let keys = w.add(3, "Storm").await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await; // let the storm run
    let upserts = w
        .emu
        .count_endpoint("POST /crm/v3/objects/contacts/batch/upsert");
    // 1 s × 2^n with full jitter: a handful of tries in 3 s, not a tight loop.
    assert!(
        (1..=6).contains(&upserts),
        "{upserts} upsert attempts in 3 s"
    );
    let m = &w
        .store
        .outbox(Some(OutboxState::Pending), 10)
        .await
        .unwrap()[0];
    assert!(
        m.last_error.as_deref().unwrap().contains("busy or failing"),
        "{:?}",
        m.last_error
    );
    assert!(
        m.next_attempt_at <= chrono::Utc::now() + chrono::Duration::seconds(300),
        "capped at 5 min"
    );
    assert_eq!(
        engine.status().await.unwrap().connection,
        ConnectionState::Online
    );

    w.emu.clear_faults();
    // Messages wait for their backoff; "Sync now" does not skip it, so make
    // them due as a later retry would.
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE state = 'pending'",
    )
    .execute(w.store.pool_for_tests())
    .await
    .unwrap();
    engine.sync_now().await;
    wait_until("delivery after the storm", DEADLINE, || async {
        w.pending().await == 0
    })
    .await;
    w.assert_exactly_once(&keys);
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn revoked_credentials_pause_the_queue_until_the_settings_change() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::Hubspot, hubspot()).await;
    w.emu.revoke_tokens(None);
    let keys = w.add(5, "Revoked").await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("credentials rejected", DEADLINE, || async {
        engine.status().await.unwrap().connection == ConnectionState::Unauthorized
    })
    .await;
    let status = w.store.status().await.unwrap();
    assert_eq!(
        (status.pending, status.needs_attention, status.sent),
        (5, 0, 0),
        "nothing marked failed"
    );

    // The admin enters a working token: saving the endpoint restarts it.
    w.emu.restore_tokens();
    w.endpoint(EndpointKind::Hubspot, hubspot()).await;
    wait_until("delivery with the new credentials", DEADLINE, || async {
        w.pending().await == 0
    })
    .await;
    w.assert_exactly_once(&keys);
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_first_flush_starts_within_two_seconds_of_the_crm_coming_back() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::GenericRest, EndpointSettings::default())
        .await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("online", DEADLINE, || async {
        engine.status().await.unwrap().connection == ConnectionState::Online
    })
    .await;
    w.emu.down().await;
    engine.sync_now().await;
    let keys = w.add(1, "Back").await;
    wait_until("offline", DEADLINE, || async {
        engine.status().await.unwrap().connection == ConnectionState::Offline
    })
    .await;
    // Stay down long enough for the probe backoff to grow.
    tokio::time::sleep(Duration::from_secs(4)).await;
    w.emu.up().await.unwrap();
    let back = Instant::now();
    wait_until(
        "the customer to be synced",
        Duration::from_secs(10),
        || async {
            w.store.customer(keys[0]).await.unwrap().unwrap().sync_state == SyncState::Synced
        },
    )
    .await;
    let took = back.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "first flush {took:?} after the CRM came back"
    );
    engine.stop(Duration::from_secs(5)).await;
}

mod test_connection {
    use super::*;
    use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};

    async fn hubspot_config(w: &World) -> EndpointConfig {
        EndpointConfig {
            name: "crm".into(),
            kind: EndpointKind::Hubspot,
            base_url: w.emu.crm_url(),
            connectivity: Connectivity::OnlineOffline,
            priority: 1,
            settings: hubspot(),
        }
    }

    async fn with_token(w: &World, token: &str) -> Arc<dyn SecretStore> {
        let s: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
        s.set("crm", SecretKind::Token, &Sensitive::new(token.into()))
            .await
            .unwrap();
        let _ = w;
        s
    }

    #[tokio::test]
    async fn reports_each_failure_class_in_plain_words() {
        let w = World::new(Config::unlimited()).await;
        let config = hubspot_config(&w).await;
        let good = with_token(&w, w.emu.token()).await;

        let r = test_connection(&config, good.clone()).await;
        assert_eq!(r.outcome, TestOutcome::Ok, "{}", r.message);

        let r = test_connection(&config, with_token(&w, "not-the-token").await).await;
        assert_eq!(r.outcome, TestOutcome::CredentialsRejected, "{}", r.message);

        let r = test_connection(&config, Arc::new(MemorySecrets::default())).await;
        assert_eq!(r.outcome, TestOutcome::CredentialsMissing, "{}", r.message);

        w.emu.set_token_scopes(
            Some(w.emu.token()),
            Some(vec!["crm.objects.companies.read".into()]),
        );
        let r = test_connection(&config, good.clone()).await;
        assert_eq!(r.outcome, TestOutcome::MissingPermission, "{}", r.message);
        w.emu.set_token_scopes(Some(w.emu.token()), None);

        assert!(w.emu.remove_hubspot_property("contacts", "outpost_key"));
        let r = test_connection(&config, good.clone()).await;
        assert_eq!(r.outcome, TestOutcome::Misconfigured, "{}", r.message);
        assert!(
            r.message.contains("Require unique values"),
            "says how to create it: {}",
            r.message
        );

        w.emu.down().await;
        let r = test_connection(&config, good).await;
        assert_eq!(r.outcome, TestOutcome::Unreachable, "{}", r.message);
    }

    #[tokio::test]
    async fn refuses_plain_http_to_a_public_host_before_any_request() {
        let w = World::new(Config::unlimited()).await;
        let mut config = hubspot_config(&w).await;
        config.base_url = "http://crm.example.com".into();
        let r = test_connection(&config, with_token(&w, "t").await).await;
        assert_eq!(r.outcome, TestOutcome::Misconfigured);
        assert!(r.message.contains("https"), "{}", r.message);
        assert_eq!(w.emu.stats().total, 0);
    }
}
