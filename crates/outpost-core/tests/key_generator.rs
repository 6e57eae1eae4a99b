//! The connector's key generator (Openbravo's "a connector may supply its own
//! key generator"): a generic REST endpoint with a shop number gets UUIDv8
//! keys carrying it, for every customer created while it is the primary,
//! whether or not the CRM or the keyring answers; against the emulator
//! configured to ask for that shop's keys.

use std::time::Duration;

mod common;
use common::{wait_until, Local, World, DEADLINE};

use crm_emulator::Config;
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::keys::ShopKeys;
use outpost_core::sync::engine::SyncEngine;
use outpost_core::sync::once::use_primary_keys;
use outpost_core::{CustomerId, NewCustomer, OutboxState, SyncState};

fn shop(n: u32) -> EndpointSettings {
    EndpointSettings {
        key_shop: Some(n),
        ..EndpointSettings::default()
    }
}

async fn create(local: &Local, name: &str) -> CustomerId {
    local
        .store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                last_name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

/// Waits until the engine has applied the stored endpoints (a reload
/// follows each save): a customer created now gets `want`'s keys. The
/// probes stay, like any customer created at the till.
async fn until_keys_of(local: &Local, want: Option<u32>) {
    wait_until("the engine to use the new settings", DEADLINE, || async {
        ShopKeys::shop_of(create(local, "Probe").await) == want
    })
    .await;
}

#[tokio::test]
async fn customers_get_the_shops_keys_and_the_crm_that_asks_for_them_takes_them() {
    let mut config = Config::unlimited();
    config.rest_key_shop = Some(17);
    let w = World::new(config).await;
    w.endpoint(EndpointKind::GenericRest, shop(17)).await;
    // Offline from the start: the keys do not wait for the CRM.
    w.emu.down().await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    let mut keys = Vec::new();
    for i in 0..20 {
        keys.push(create(&w, &format!("Shop{i}")).await);
    }
    for k in &keys {
        assert!(k.to_string().ends_with("000017"), "{k}");
        assert_eq!(ShopKeys::shop_of(*k), Some(17));
    }
    w.emu.up().await.unwrap();
    engine.retry_now().await;
    wait_until("all 20 to be delivered", DEADLINE, || async {
        w.pending().await == 0
    })
    .await;
    assert_eq!(w.emu.count("PUT /customers/{key}", 201), 20);
    assert_eq!(w.store.status().await.unwrap().needs_attention, 0);
    w.assert_exactly_once(&keys);

    // The CRM says which keys it wants in its form metadata.
    let metadata: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/metadata", w.emu.crm_url()))
        .bearer_auth(w.emu.token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["key_format"],
        serde_json::json!({"layout": "uuid8-shop", "shop": 17})
    );
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn keys_follow_the_primary_endpoints_settings_as_they_change() {
    let mut config = Config::unlimited();
    config.rest_key_shop = Some(17);
    let w = World::new(config).await;
    w.endpoint(EndpointKind::GenericRest, EndpointSettings::default())
        .await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();

    // No shop number: UUIDv7 keys, which this CRM refuses in words.
    let plain = create(&w, "Plain").await;
    assert_eq!(plain.as_uuid().get_version_num(), 7);
    wait_until("the refusal", DEADLINE, || async {
        w.store.customer(plain).await.unwrap().unwrap().sync_state == SyncState::NeedsAttention
    })
    .await;
    let refused = &w
        .store
        .outbox(Some(OutboxState::NeedsAttention), 5)
        .await
        .unwrap()[0];
    let reason = refused.last_error.as_deref().unwrap();
    assert!(reason.contains("keys of shop 17"), "{reason}");
    w.store.discard_refused_customer(plain).await.unwrap();

    // The admin sets the shop number: the next customers carry it.
    w.endpoint(EndpointKind::GenericRest, shop(17)).await;
    until_keys_of(&w, Some(17)).await;
    let shop_key = create(&w, "Shop").await;
    wait_until("delivery", DEADLINE, || async {
        w.store
            .customer(shop_key)
            .await
            .unwrap()
            .unwrap()
            .sync_state
            == SyncState::Synced
    })
    .await;

    // Without its credentials the connector cannot start; the keys still
    // come from the settings.
    w.secrets
        .delete("crm", outpost_core::endpoint::secrets::SecretKind::Token)
        .await
        .unwrap();
    w.store
        .save_endpoint(
            &w.store
                .endpoint("crm")
                .await
                .unwrap()
                .map(|mut c| {
                    c.settings.key_shop = Some(18);
                    c
                })
                .unwrap(),
        )
        .await
        .unwrap();
    until_keys_of(&w, Some(18)).await;

    // Removed: back to UUIDv7.
    w.store.remove_endpoint("crm").await.unwrap();
    until_keys_of(&w, None).await;
    engine.stop(Duration::from_secs(5)).await;
}

/// The CLI's path: a process that opens the store and creates, without
/// the engine (`outpost customers add`).
#[tokio::test]
async fn the_cli_path_uses_the_primarys_keys_without_the_crm_or_the_keyring() {
    let local = Local::new().await;
    local
        .save_endpoint(
            EndpointKind::GenericRest,
            "http://127.0.0.1:9".into(),
            shop(123_456),
        )
        .await;
    // No secret stored and nothing listening on the URL.
    use_primary_keys(&local.store).await.unwrap();
    let k = create(&local, "Cli").await;
    assert!(k.to_string().ends_with("123456"), "{k}");

    // A HubSpot primary supplies no generator: UUIDv7.
    local.store.remove_endpoint("crm").await.unwrap();
    local
        .save_endpoint(
            EndpointKind::Hubspot,
            "http://127.0.0.1:9".into(),
            EndpointSettings::default(),
        )
        .await;
    use_primary_keys(&local.store).await.unwrap();
    assert_eq!(create(&local, "Hub").await.as_uuid().get_version_num(), 7);
}

#[tokio::test]
async fn only_generic_rest_takes_a_shop_number_from_1_to_999999() {
    for (kind, n, ok) in [
        (EndpointKind::GenericRest, 1, true),
        (EndpointKind::GenericRest, 999_999, true),
        (EndpointKind::GenericRest, 0, false),
        (EndpointKind::GenericRest, 1_000_000, false),
        (EndpointKind::Hubspot, 17, false),
        (EndpointKind::Bottlecrm, 17, false),
    ] {
        let config = outpost_core::endpoint::EndpointConfig {
            name: "crm".into(),
            kind,
            base_url: "https://crm.example.com".into(),
            connectivity: Default::default(),
            priority: 1,
            settings: shop(n),
        };
        let result = config.validate();
        assert_eq!(result.is_ok(), ok, "{kind:?} {n}");
        if let Err(e) = result {
            assert!(e.for_field("key_shop").is_some(), "{e}");
        }
    }
}
