//! BottleCRM behind a captive portal without a BottleCRM server: the
//! emulator's fault proxy answers every request as a portal would (its
//! upstream is never asked), so the connector's probe and deliveries meet
//! each kind of portal page. The full round trip (intercepted, then online
//! again and delivered once) runs for every connector in the conformance
//! suite (`conformance/scenarios/portal.rs`).

mod common;
use common::Local;

use crm_emulator::{FaultProxy, Faults, Portal};
use outpost_core::crm::ConnectorError;
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::sync::flusher::Flusher;
use outpost_core::sync::monitor::Monitor;
use outpost_core::sync::once::{flush_once, probe_primary, FlushError};
use outpost_core::{ConnectionState, Interception, Sensitive, SyncState};

/// A loopback port nothing listens on: the proxy's upstream, never reached.
const NOWHERE: &str = "http://127.0.0.1:9";

#[tokio::test]
async fn bottlecrm_behind_each_portal_is_intercepted_and_nothing_is_marked() {
    let proxy = FaultProxy::start(NOWHERE).await.unwrap();
    let local = Local::new().await;
    local
        .secrets
        .set("crm", SecretKind::Token, &Sensitive::new("t".to_owned()))
        .await
        .unwrap();
    local
        .save_endpoint(
            EndpointKind::Bottlecrm,
            proxy.url(),
            EndpointSettings::default(),
        )
        .await;
    let keys = local.add(3, "Guest").await;
    let config = local.store.primary_endpoint().await.unwrap().unwrap();

    for (portal, by, shows) in [
        (
            Portal::SignInPage,
            Interception::SignInPage,
            "with text/html",
        ),
        (
            Portal::Redirect,
            Interception::SignInPage,
            "redirected the request to http://127.0.0.2/portal/login",
        ),
        (Portal::Proxy, Interception::Proxy, "the proxy's own page"),
    ] {
        proxy.set_faults(Faults {
            captive_portal: Some(portal),
            ..Faults::default()
        });
        // `outpost status`: the probe.
        let (_, status) = probe_primary(&local.store, local.secrets.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.state, ConnectionState::Intercepted, "{portal:?}");
        assert_eq!(status.interception, Some(by), "{portal:?}");
        let why = status.last_error.unwrap();
        assert!(why.starts_with(by.words()) && why.contains(shows), "{why}");

        // `outpost sync --once`: stops at the probe, says why.
        match flush_once(&local.store, local.secrets.clone()).await {
            Err(FlushError::Connector(ConnectorError::Intercepted { by: got, .. })) => {
                assert_eq!(got, by)
            }
            other => panic!("{portal:?}: {other:?}"),
        }

        // The deliveries themselves: every record deferred, none believed.
        let connector = outpost_core::crm::build(&config, local.secrets.clone())
            .await
            .unwrap();
        let monitor = Monitor::new("crm", connector.clone());
        monitor.report_success();
        let flusher = Flusher::new("crm", local.store.clone(), connector, monitor.clone(), 20);
        let round = flusher.round().await.unwrap();
        assert_eq!(
            (round.delivered, round.rejected, round.deferred),
            (0, 0, 3),
            "{portal:?}"
        );
        assert_eq!(monitor.state(), ConnectionState::Intercepted);
        assert_eq!(monitor.status().interception, Some(by));
    }

    let status = local.store.status().await.unwrap();
    assert_eq!(
        (status.pending, status.sent, status.needs_attention),
        (3, 0, 0)
    );
    for k in &keys {
        let c = local.store.customer(*k).await.unwrap().unwrap();
        assert_eq!((c.sync_state, c.crm_id), (SyncState::Pending, None));
    }
    assert_eq!(
        proxy.stats().count_anywhere("captive_portal"),
        proxy.stats().total,
        "the portal answered every request"
    );
}
