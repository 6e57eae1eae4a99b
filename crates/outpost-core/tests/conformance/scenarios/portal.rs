//! A captive portal or a proxy answers every request in the CRM's place
//! (the emulator's `captive_portal` fault, on the CRM or on the proxy in
//! front of it): the connection is `intercepted`, in words, with what
//! answered; nothing is marked synced or refused and the queue stays whole;
//! when the portal goes away the monitor is online again by itself and every
//! customer arrives exactly once.

use std::time::Duration;

use crm_emulator::{Faults, Portal};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::{ConnectionState, Interception, SyncState};

use crate::common::{wait_until, Local, DEADLINE};
use crate::crm::{assert_exactly_once, connect};
use crate::{Crm, Skip};

const CUSTOMERS: usize = 12;

fn portal(kind: Portal) -> Faults {
    Faults {
        captive_portal: Some(kind),
        ..Faults::default()
    }
}

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    let before = crm.records_per_key().await;
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;
    let engine = SyncEngine::start(local.store.clone(), local.secrets.clone())
        .await
        .unwrap();
    let connection = || async { engine.status().await.unwrap() };
    wait_until("the CRM to be online", DEADLINE, || async {
        connection().await.connection == ConnectionState::Online
    })
    .await;

    // The deliveries meet the sign-in page first; the monitor learns from them.
    crm.set_faults(portal(Portal::SignInPage));
    let keys = local.add(CUSTOMERS, "Portal").await;
    wait_until("the connection to be intercepted", DEADLINE, || async {
        connection().await.connection == ConnectionState::Intercepted
    })
    .await;
    let status = connection().await;
    assert_eq!(status.interception, Some(Interception::SignInPage));
    let why = status.last_error.clone().unwrap_or_default();
    assert!(why.starts_with(Interception::SignInPage.words()), "{why}");

    // A redirect to another host is a sign-in page too; a proxy's own page is a proxy.
    crm.set_faults(portal(Portal::Redirect));
    wait_until("a probe to meet the redirect", DEADLINE, || async {
        connection()
            .await
            .last_error
            .is_some_and(|e| e.contains("redirected the request to http://127.0.0.2/portal/login"))
    })
    .await;
    assert_eq!(
        connection().await.interception,
        Some(Interception::SignInPage)
    );
    crm.set_faults(portal(Portal::Proxy));
    wait_until("a probe to meet the proxy", DEADLINE, || async {
        connection().await.interception == Some(Interception::Proxy)
    })
    .await;
    let status = connection().await;
    assert_eq!(status.connection, ConnectionState::Intercepted);
    assert!(crm.faults_seen("captive_portal") >= 3);

    // Nothing believed: no customer synced or refused, the queue whole, and
    // nothing reached the CRM.
    assert_eq!(
        (status.pending, status.sent, status.needs_attention),
        (CUSTOMERS as u64, 0, 0)
    );
    for k in &keys {
        let c = local.store.customer(*k).await.unwrap().unwrap();
        assert_eq!((c.sync_state, c.crm_id), (SyncState::Pending, None));
    }
    assert_eq!(crm.records_per_key().await, before);

    crm.set_faults(Faults::default());
    wait_until("every customer to be delivered", DEADLINE, || async {
        local.pending().await == 0
    })
    .await;
    let status = connection().await;
    assert_eq!(
        (status.connection, status.interception),
        (ConnectionState::Online, None)
    );
    assert_eq!((status.sent, status.needs_attention), (CUSTOMERS as u64, 0));
    assert_exactly_once(crm, &before, &keys).await;
    for k in &keys {
        let c = local.store.customer(*k).await.unwrap().unwrap();
        assert_eq!(c.sync_state, SyncState::Synced);
    }
    engine.stop(Duration::from_secs(5)).await;
    Ok(())
}
