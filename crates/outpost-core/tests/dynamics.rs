//! What the conformance suite does not ask of every CRM but a Dataverse
//! environment does: `$batch` upserts by the alternate key with one
//! refusal among them, duplicate detection when an admin turns it on,
//! change tracking for deletions (and the word when it is off), values
//! with quotes reaching the strict `$filter` parser as values, and the
//! settings' rules.

mod common;

use std::collections::BTreeMap;

use common::World;
use crm_emulator::crm_user::Target;
use crm_emulator::Config;
use outpost_core::crm::connector::{CrmConnector, PullFilter};
use outpost_core::customer::Field;
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::sync::once::flush_once;
use outpost_core::sync::pull::{pull_pass, PullScope};
use outpost_core::{crm, NewCustomer, OutboxState, Sensitive, SyncState};

async fn dynamics(world: &World, settings: EndpointSettings) {
    let config = world.emu.config();
    world
        .secrets
        .set(
            "crm",
            SecretKind::ClientSecret,
            &Sensitive::new(config.oauth_client_secret.clone()),
        )
        .await
        .unwrap();
    let settings = EndpointSettings {
        auth: AuthMethod::OauthClientCredentials,
        client_id: Some(config.oauth_client_id.clone()),
        token_url: Some(format!(
            "{}/tenant-1/oauth2/v2.0/token",
            world.emu.crm_url()
        )),
        ..settings
    };
    world.endpoint(EndpointKind::Dynamics, settings).await;
}

async fn connector(world: &World) -> std::sync::Arc<dyn CrmConnector> {
    let config = world.store.endpoint("crm").await.unwrap().unwrap();
    crm::build(&config, world.secrets.clone()).await.unwrap()
}

fn record(world: &World, key: impl ToString) -> serde_json::Value {
    let key = key.to_string();
    world
        .emu
        .records()
        .into_iter()
        .find(|r| r.api == "dynamics" && r.key.as_deref() == Some(&key))
        .expect("in Dynamics")
        .record
}

async fn flush(world: &World) {
    flush_once(&world.store, world.secrets.clone())
        .await
        .unwrap();
}

fn seeded(first: &str, last: &str, email: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("firstname".to_owned(), first.to_owned()),
        ("lastname".to_owned(), last.to_owned()),
        ("emailaddress1".to_owned(), email.to_owned()),
        ("outpost_key".to_owned(), uuid::Uuid::now_v7().to_string()),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_upserts_by_key_once_and_one_refusal_names_its_field() {
    let world = World::new(Config::unlimited()).await;
    dynamics(&world, EndpointSettings::default()).await;
    let ann = NewCustomer::default()
        .with(Field::FirstName, "Ann")
        .with(Field::LastName, "O'Lee")
        .with(Field::Email, "ann@example.com")
        .with(Field::Country, "DE")
        .with(Field::City, "Köln");
    // Dataverse's firstname takes 50 characters, Outpost's 100.
    let long = NewCustomer::default()
        .with(Field::FirstName, "L".repeat(60))
        .with(Field::LastName, "Long");
    let bob = NewCustomer::default().with(Field::LastName, "Bob");
    let ann = world.store.create_customer(&ann).await.unwrap();
    let long = world.store.create_customer(&long).await.unwrap();
    let bob = world.store.create_customer(&bob).await.unwrap();
    flush(&world).await;

    let row = record(&world, ann.id);
    assert_eq!(row["lastname"], "O'Lee");
    assert_eq!(row["address1_country"], "Germany", "{row}");
    assert_eq!(row["address1_city"], "Köln");
    let stored = world.store.customer(ann.id).await.unwrap().unwrap();
    let all = world.store.outbox(None, 10).await.unwrap();
    assert_eq!(stored.sync_state, SyncState::Synced, "{all:?}");
    let id = stored.crm_id.unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(&id).unwrap().to_string(),
        id,
        "a contact id"
    );
    assert_eq!(
        world
            .store
            .customer(bob.id)
            .await
            .unwrap()
            .unwrap()
            .sync_state,
        SyncState::Synced
    );
    let attention = world
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    assert_eq!(attention.len(), 1, "{attention:?}");
    let reason = attention[0].last_error.as_deref().unwrap();
    assert!(reason.contains("Too long for Dynamics"), "{reason}");
    assert!(world.store.customer(long.id).await.unwrap().is_some());
    // One $batch carried all three.
    assert_eq!(world.emu.count("POST /api/data/{version}/$batch", 200), 1);

    // Read back by the alternate key; again by the same key is an update.
    let dv = connector(&world).await;
    let got = dv.get(ann.id).await.unwrap().unwrap();
    assert_eq!(got.crm_id, id);
    assert_eq!(got.fields.country.as_deref(), Some("DE"));
    assert!(got.version.unwrap().starts_with("W/\""));
    let again = dv
        .upsert_batch(&[outpost_core::crm::connector::Outgoing {
            customer: world.store.customer(ann.id).await.unwrap().unwrap(),
            earlier_attempts: 1,
        }])
        .await
        .unwrap();
    assert!(matches!(
        &again[0].outcome,
        outpost_core::crm::connector::RecordOutcome::Delivered { crm_id, .. } if *crm_id == id
    ));
    assert_eq!(world.emu.records_per_key()[&ann.id.to_string()], 1);
    assert!(dv
        .get(outpost_core::CustomerId(uuid::Uuid::now_v7()))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_detection_is_the_admins_choice_and_says_may_already_exist() {
    let world = World::new(Config::unlimited()).await;
    world
        .emu
        .seed_dynamics(vec![seeded("Hand", "Entered", "ada@example.com")]);
    world.emu.set_dynamics_duplicate_detection(true, None);
    dynamics(
        &world,
        EndpointSettings {
            duplicate_detection: Some(true),
            ..Default::default()
        },
    )
    .await;
    let ada = NewCustomer::default()
        .with(Field::LastName, "Lovelace")
        .with(Field::Email, "ADA@example.com");
    let ada = world.store.create_customer(&ada).await.unwrap();
    flush(&world).await;
    let attention = world
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    let reason = attention[0].last_error.as_deref().unwrap();
    assert!(reason.contains("may already exist in Dynamics"), "{reason}");

    let mut config = world.store.endpoint("crm").await.unwrap().unwrap();
    config.settings.duplicate_detection = Some(false);
    world.store.save_endpoint(&config).await.unwrap();
    world.store.retry_customer(ada.id).await.unwrap();
    flush(&world).await;
    let stored = world.store.customer(ada.id).await.unwrap().unwrap();
    assert_eq!(stored.sync_state, SyncState::Synced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_tracking_empties_the_working_set_and_quotes_stay_values() {
    let world = World::new(Config::unlimited()).await;
    world.emu.seed_dynamics(vec![
        seeded("Seán", "O'Brien", "sean@example.com"),
        seeded("Other", "Person", "other@example.com"),
    ]);
    dynamics(&world, EndpointSettings::default()).await;
    let dv = connector(&world).await;

    let hostile = PullFilter {
        owner: None,
        country: Some("Cote d'Ivoire') or (lastname eq 'x".into()),
    };
    let page = dv.list_modified_since(None, None, &hostile).await.unwrap();
    assert!(page.items.is_empty(), "{page:?}");
    for term in ["O'Brien", "o'b", "a') or contains(lastname,'", "%&*:/\\"] {
        let found = dv.search(term, 10).await.unwrap();
        if term.contains("Brien") || term == "o'b" {
            assert_eq!(found.len(), 1, "{term}: {found:?}");
            assert_eq!(found[0].fields.last_name.as_deref(), Some("O'Brien"));
        } else {
            assert!(found.is_empty(), "{term}: {found:?}");
        }
    }

    pull_pass(
        &world.store,
        dv.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    let obrien = world.store.search("Brien", 5).await.unwrap().remove(0);
    assert!(world
        .emu
        .delete_as_crm_user(&Target::dynamics(obrien.id.to_string()))
        .unwrap());
    let report = pull_pass(
        &world.store,
        dv.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.removed, 1, "{report:?}");
    assert_eq!(report.deletions_listed, Some(true));
    assert!(world.store.customer(obrien.id).await.unwrap().is_none());
    assert_eq!(world.store.search("Other", 5).await.unwrap().len(), 1);
    let ws = world.store.working_set(Some("crm")).await.unwrap();
    assert_eq!(ws.deletions_seen, Some(true));

    // With change tracking off there is no deletions listing, and no error;
    // the working set says deleted customers stay.
    world.emu.set_dynamics_change_tracking(false);
    let fresh = connector(&world).await;
    assert!(fresh
        .list_deleted_since(None, None)
        .await
        .unwrap()
        .is_none());
    let report = pull_pass(
        &world.store,
        fresh.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.deletions_listed, Some(false), "{report:?}");
    let ws = world.store.working_set(Some("crm")).await.unwrap();
    assert_eq!(ws.deletions_seen, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_made_while_outpost_was_closed_are_seen_after_a_restart() {
    let world = World::new(Config::unlimited()).await;
    world.emu.seed_dynamics(vec![
        seeded("Ada", "Kept", "ada@example.com"),
        seeded("Bo", "Gone", "bo@example.com"),
    ]);
    dynamics(&world, EndpointSettings::default()).await;
    let pass = |dv: std::sync::Arc<dyn CrmConnector>| {
        let store = world.store.clone();
        async move {
            pull_pass(&store, dv.as_ref(), "crm", PullScope::default(), &|_| {})
                .await
                .unwrap()
        }
    };
    // The first process pulls both and learns where "now" is.
    let report = pass(connector(&world).await).await;
    assert_eq!(report.inserted, 2, "{report:?}");
    let gone = world.store.search("Gone", 5).await.unwrap().remove(0);

    // Outpost is closed; a person deletes a contact in Dynamics.
    assert!(world
        .emu
        .delete_as_crm_user(&Target::dynamics(gone.id.to_string()))
        .unwrap());

    // A new process follows the stored delta link: the contact leaves.
    let report = pass(connector(&world).await).await;
    assert_eq!(report.removed, 1, "{report:?}");
    assert!(world.store.customer(gone.id).await.unwrap().is_none());
    assert_eq!(world.store.search("Kept", 5).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_pages_in_order_and_resumes_from_its_cursor() {
    let world = World::new(Config::unlimited()).await;
    let n = outpost_core::crm::dynamics::PULL_PAGE + 150;
    world.emu.seed_dynamics(
        (0..n)
            .map(|i| seeded(&format!("P{i}"), "Paged", &format!("p{i}@example.com")))
            .collect(),
    );
    dynamics(&world, EndpointSettings::default()).await;
    let dv = connector(&world).await;
    let first = dv
        .list_modified_since(None, None, &PullFilter::default())
        .await
        .unwrap();
    assert_eq!(first.items.len(), outpost_core::crm::dynamics::PULL_PAGE);
    let cursor = first.next.clone().expect("more to come");
    // A new process resumes from the stored cursor.
    let resumed = connector(&world).await;
    let second = resumed
        .list_modified_since(None, Some(cursor), &PullFilter::default())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 150);
    assert!(second.next.is_none());
    let mut ids: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|r| r.crm_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "nothing read twice or skipped");
}

#[test]
fn settings_name_what_dynamics_needs() {
    use outpost_core::endpoint::{Connectivity, EndpointConfig};
    let with = |settings: EndpointSettings| EndpointConfig {
        name: "dv".into(),
        kind: EndpointKind::Dynamics,
        base_url: "https://org.crm4.dynamics.com".into(),
        connectivity: Connectivity::OnlineOffline,
        priority: 1,
        settings: EndpointSettings {
            auth: AuthMethod::OauthClientCredentials,
            client_id: Some("app".into()),
            ..settings
        },
    };
    let tenant = || Some("https://login.microsoftonline.com/t/oauth2/v2.0/token".to_owned());
    let e = with(EndpointSettings::default()).validate().unwrap_err();
    assert!(e
        .for_field("token_url")
        .unwrap()
        .contains("login.microsoftonline.com"));
    let ok = with(EndpointSettings {
        token_url: tenant(),
        ..Default::default()
    });
    ok.validate().unwrap();
    assert_eq!(
        ok.scope().as_deref(),
        Some("https://org.crm4.dynamics.com/.default")
    );
    let e = with(EndpointSettings {
        token_url: tenant(),
        api_version: Some("9.3".into()),
        ..Default::default()
    })
    .validate()
    .unwrap_err();
    assert!(e.for_field("api_version").is_some());
    let mut token = with(EndpointSettings {
        token_url: tenant(),
        ..Default::default()
    });
    token.settings.auth = AuthMethod::Token;
    let e = token.validate().unwrap_err();
    assert!(e.for_field("auth").is_some());
    // Dynamics' settings are refused elsewhere.
    let mut hubspot = with(EndpointSettings {
        api_version: Some("9.2".into()),
        duplicate_detection: Some(true),
        ..Default::default()
    });
    hubspot.kind = EndpointKind::Hubspot;
    hubspot.settings.auth = AuthMethod::Token;
    let e = hubspot.validate().unwrap_err();
    assert!(e.for_field("api_version").is_some() && e.for_field("duplicate_detection").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_names_each_setup_problem_an_admin_can_fix() {
    use crm_emulator::DynamicsKeyStatus;
    use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};

    let world = World::new(Config::unlimited()).await;
    dynamics(&world, EndpointSettings::default()).await;
    let config = world.store.endpoint("crm").await.unwrap().unwrap();
    // Each test builds its connector afresh, as Settings does.
    let test = || test_connection(&config, world.secrets.clone());
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::Ok, "{}", r.message);
    assert!(!r.message.contains("Change tracking"), "{}", r.message);

    world
        .emu
        .set_dynamics_key_status(Some(DynamicsKeyStatus::Pending));
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::Misconfigured);
    assert!(r.message.contains("still being built"), "{}", r.message);
    world
        .emu
        .set_dynamics_key_status(Some(DynamicsKeyStatus::Failed));
    let r = test().await;
    assert!(r.message.contains("Reactivate"), "{}", r.message);
    world.emu.set_dynamics_key_status(None);
    let r = test().await;
    assert!(
        r.message
            .contains("no alternate key on the column outpost_key"),
        "{}",
        r.message
    );
    world
        .emu
        .set_dynamics_key_status(Some(DynamicsKeyStatus::Active));

    world.emu.set_dynamics_create_privilege(false);
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::MissingPermission);
    assert!(
        r.message.contains("lacks Create on Contact"),
        "{}",
        r.message
    );
    world.emu.set_dynamics_create_privilege(true);

    world.emu.set_dynamics_change_tracking(false);
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::Ok);
    assert!(
        r.message.contains("Change tracking is off"),
        "{}",
        r.message
    );

    // A wrong secret is the credentials, in Entra's terms made plain.
    world
        .secrets
        .set(
            "crm",
            SecretKind::ClientSecret,
            &Sensitive::new("wrong".into()),
        )
        .await
        .unwrap();
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::CredentialsRejected, "{}", r.message);
    assert!(r.message.contains("not its Secret ID"), "{}", r.message);
}
