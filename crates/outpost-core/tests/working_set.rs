//! Field-rep mode against the CRM emulator over real HTTP on loopback, with
//! real SQLite files: the working-set pull (resumable, around HubSpot's
//! 10,000-result cap), reconciliation with customers created here, merged
//! online lookup with its cache, and the duplicate check.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

mod common;
use common::{wait_until, World, DEADLINE};

use crm_emulator::{Config, CustomerFields, Faults};
use outpost_core::customer::CustomerFields as Fields;
use outpost_core::customer::Origin;
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::sync::engine::SyncEngine;
use outpost_core::sync::lookup::{self, Remote, RemoteLookup};
use outpost_core::sync::once::pull_once;
use outpost_core::{crm, NewCustomer, OutboxState, SyncState};

fn rest_record(i: usize) -> (String, CustomerFields) {
    (
        format!("ext-{i}"),
        CustomerFields {
            first_name: Some(format!("Remote{i}")),
            last_name: Some("Person".into()),
            email: Some(format!("remote{i}@crm.example")),
            phone: Some(format!("+44 20 7946 {i:04}")),
            city: Some("Leeds".into()),
            ..CustomerFields::default()
        },
    )
}

fn hubspot_contact(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("firstname".to_string(), format!("Contact{i}")),
        ("lastname".to_string(), "Field".to_string()),
        ("email".to_string(), format!("contact{i}@hs.example")),
    ])
}

async fn remote(w: &World) -> Remote {
    let config = w.store.endpoint("crm").await.unwrap().unwrap();
    Remote {
        connector: crm::build(&config, w.secrets.clone()).await.unwrap(),
        online: true,
    }
}

/// An emulator-backed world with the generic REST API as its primary endpoint.
async fn generic_world() -> World {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::GenericRest, EndpointSettings::default())
        .await;
    w
}

/// A merged lookup against the world's CRM.
async fn ask(w: &World, query: &str, deadline: Duration) -> lookup::Lookup {
    lookup::lookup(&w.store, Some(remote(w).await), query, 20, deadline)
        .await
        .unwrap()
}

async fn local_count(w: &World) -> u64 {
    w.store.working_set(Some("crm")).await.unwrap().total_local
}

#[tokio::test]
async fn a_pull_brings_the_crms_customers_and_they_are_found_offline() {
    let w = generic_world().await;
    w.emu.seed_rest((0..450).map(rest_record).collect());

    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(report.fetched, 450);
    assert_eq!(report.inserted, 450);
    let ws = w.store.working_set(Some("crm")).await.unwrap();
    assert_eq!(ws.total_local, 450);
    assert!(ws.updated_at.is_some() && ws.pulling.is_none());

    w.emu.down().await;
    let found = w.store.search("remote449", 10).await.unwrap();
    assert_eq!(found.len(), 1);
    let c = &found[0];
    assert_eq!(c.display_name(), "Remote449 Person");
    assert_eq!(c.origin, Origin::Crm);
    assert_eq!(c.sync_state, SyncState::Synced);
    assert!(c.crm_id.is_some());
    assert_eq!(w.store.search("7946 0449", 10).await.unwrap().len(), 1);
    // Pulled customers are not creations: nothing is queued for the CRM.
    assert_eq!(w.store.outbox(None, 10).await.unwrap().len(), 0);

    let err = pull_once(&w.store, w.secrets.clone(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");

    // Back online, a change made in the CRM reaches the local copy; nothing
    // is duplicated.
    w.emu.up().await.unwrap();
    let (key, mut fields) = rest_record(7);
    fields.city = Some("York".into());
    put_rest(&w, &key, &fields).await;
    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert!(report.updated >= 1, "{report:?}");
    assert_eq!(local_count(&w).await, 450);
    let seven = w.store.search("remote7@crm.example", 1).await.unwrap();
    assert_eq!(seven[0].fields.city.as_deref(), Some("York"));
}

async fn put_rest(w: &World, key: &str, fields: &CustomerFields) {
    let status = reqwest::Client::new()
        .put(format!("{}/customers/{key}", w.emu.crm_url()))
        .bearer_auth(w.emu.token())
        .json(fields)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
}

#[tokio::test]
async fn more_than_10000_changes_are_pulled_around_hubspots_search_cap() {
    let w = World::new(Config::unlimited()).await;
    w.endpoint(EndpointKind::Hubspot, EndpointSettings::default())
        .await;
    // A bulk import: 10,300 contacts with the same modification millisecond,
    // then 200 more a moment later.
    let first: Vec<String> = w
        .emu
        .seed_hubspot("contacts", (0..10_300).map(hubspot_contact).collect());
    let at = chrono::Utc::now();
    wait_until("the clock to move on", DEADLINE, || async {
        chrono::Utc::now() > at + chrono::Duration::milliseconds(2)
    })
    .await;
    let later: Vec<String> = w
        .emu
        .seed_hubspot("contacts", (10_300..10_500).map(hubspot_contact).collect());

    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(report.inserted, 10_500, "{report:?}");
    assert_eq!(local_count(&w).await, 10_500);
    let mut ids = HashSet::new();
    for id in first.iter().chain(&later) {
        let row = w.store.customer_by_crm_id(id).await.unwrap().map(|c| c.id);
        assert!(row.is_some(), "contact {id} was pulled");
        ids.insert(row);
    }
    assert_eq!(ids.len(), 10_500, "one local customer per contact");
    // No request ever paged past the cap.
    assert_eq!(w.emu.count("POST /crm/v3/objects/contacts/search", 400), 0);
}

#[tokio::test]
async fn more_than_10000_rest_records_with_one_timestamp_neither_loop_nor_skip() {
    // One seeding call stamps every record with the same updated_at: the
    // listing pages by (updated_at, id), so the pass walks them by id.
    let w = generic_world().await;
    w.emu.seed_rest((0..10_500).map(rest_record).collect());
    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(
        (report.fetched, report.inserted),
        (10_500, 10_500),
        "{report:?}"
    );
    assert_eq!(local_count(&w).await, 10_500);
    // A second pass starts at that timestamp again: everything is seen
    // again and changes nothing, and it ends.
    let again = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(again.inserted + again.updated, 0, "{again:?}");
    assert_eq!(local_count(&w).await, 10_500);
}

#[tokio::test]
async fn pulled_records_carrying_outposts_key_are_the_local_customers() {
    let w = generic_world().await;
    let answer_lost = w
        .store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Lost".into()),
                last_name: Some("Answer".into()),
                email: Some("lost@example.com".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let edited_here = w
        .store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Both".into()),
                last_name: Some("Versions".into()),
                city: Some("Bath".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    // The CRM holds the first exactly as created (an earlier attempt arrived,
    // its answer did not) and a different version of the second.
    w.emu.seed_rest(vec![
        (
            answer_lost.id.to_string(),
            CustomerFields {
                first_name: Some("Lost".into()),
                last_name: Some("Answer".into()),
                email: Some("lost@example.com".into()),
                ..CustomerFields::default()
            },
        ),
        (
            edited_here.id.to_string(),
            CustomerFields {
                first_name: Some("Both".into()),
                last_name: Some("Versions".into()),
                city: Some("Bristol".into()),
                ..CustomerFields::default()
            },
        ),
    ]);

    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(
        (report.inserted, report.linked, report.conflicts),
        (0, 1, 1)
    );
    assert_eq!(local_count(&w).await, 2, "no duplicate customers");

    let linked = w.store.customer(answer_lost.id).await.unwrap().unwrap();
    assert_eq!(linked.sync_state, SyncState::Synced);
    assert!(linked.crm_id.is_some());
    let pending = w
        .store
        .outbox(Some(OutboxState::Pending), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "only the changed one still goes out");
    assert_eq!(pending[0].customer_id, edited_here.id);

    let both = w.store.customer(edited_here.id).await.unwrap().unwrap();
    assert_eq!(
        both.fields.city.as_deref(),
        Some("Bath"),
        "the local change stands"
    );
    let crm = both.crm_version.expect("the CRM's version is kept visible");
    assert_eq!(crm.fields.city.as_deref(), Some("Bristol"));

    // Once the local change is delivered the CRM holds it: one version again.
    outpost_core::sync::once::flush_once(&w.store, w.secrets.clone())
        .await
        .unwrap();
    let both = w.store.customer(edited_here.id).await.unwrap().unwrap();
    assert_eq!(both.sync_state, SyncState::Synced);
    assert!(both.crm_version.is_none());
    w.assert_exactly_once(&[answer_lost.id, edited_here.id]);
}

#[tokio::test]
async fn online_lookup_merges_crm_results_and_caches_them_for_offline() {
    let w = generic_world().await;
    w.store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Remote0".into()),
                last_name: Some("Local Twin".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    w.emu.seed_rest((0..3).map(rest_record).collect());

    let found = ask(&w, "remote", lookup::DEADLINE).await;
    assert_eq!(found.remote, RemoteLookup::Answered { count: 3 });
    assert_eq!(found.customers.len(), 4);
    assert_eq!(
        found.customers[0].fields.last_name.as_deref(),
        Some("Local Twin")
    );
    assert_eq!(found.from_crm.len(), 3, "remote ones are marked");

    // Asked again: the cached records are local now, nothing is repeated.
    let again = ask(&w, "remote", lookup::DEADLINE).await;
    assert_eq!(again.customers.len(), 4);
    assert!(again.from_crm.is_empty());

    w.emu.down().await;
    let offline = ask(&w, "remote2", lookup::DEADLINE).await;
    assert_eq!(offline.remote, RemoteLookup::Offline);
    assert_eq!(offline.customers.len(), 1, "found from the cache");
    assert_eq!(
        offline.customers[0].fields.email.as_deref(),
        Some("remote2@crm.example")
    );
}

#[tokio::test]
async fn a_slow_crm_never_holds_the_lookup_past_its_deadline() {
    let w = generic_world().await;
    w.emu.seed_rest((0..2).map(rest_record).collect());
    w.emu.set_faults(Faults {
        latency_ms: 1500,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let found = ask(&w, "remote1", Duration::from_millis(200)).await;
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert_eq!(found.remote, RemoteLookup::TimedOut);
    assert!(found.customers.is_empty());
    // The late answer is still stored for the next search.
    wait_until("the late answer to be cached", DEADLINE, || async {
        w.store.search("remote1", 5).await.unwrap().len() == 1
    })
    .await;
}

#[tokio::test]
async fn the_duplicate_check_finds_the_same_email_or_number_here_and_in_the_crm() {
    let w = generic_world().await;
    // Till's number is national: read as German.
    w.store
        .set_app_settings(&outpost_core::app_settings::AppSettingsInput {
            default_region: Some("DE".into()),
        })
        .await
        .unwrap();
    w.store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Till".into()),
                phone: Some("030 1234 5678".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    w.emu.seed_rest((0..2).map(rest_record).collect());

    let by_email = lookup::possible_duplicates(
        &w.store,
        Some(remote(&w).await),
        Some(" Remote1@CRM.example "),
        None,
        lookup::DEADLINE,
    )
    .await
    .unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].fields.first_name.as_deref(), Some("Remote1"));

    let by_phone = lookup::possible_duplicates(
        &w.store,
        None,
        None,
        Some("+49 30 12345678"),
        lookup::DEADLINE,
    )
    .await
    .unwrap();
    assert_eq!(by_phone.len(), 1, "national and international forms match");
    assert!(lookup::possible_duplicates(
        &w.store,
        None,
        Some("nobody@x.org"),
        None,
        lookup::DEADLINE
    )
    .await
    .unwrap()
    .is_empty());
}

#[tokio::test]
async fn the_engine_pulls_the_working_set_when_the_crm_is_online() {
    let w = World::new(Config::unlimited()).await;
    w.emu.seed_rest((0..250).map(rest_record).collect());
    w.endpoint(EndpointKind::GenericRest, EndpointSettings::default())
        .await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("the working set to arrive", DEADLINE, || async {
        let ws = engine.working_set().await.unwrap();
        ws.total_local == 250 && ws.updated_at.is_some()
    })
    .await;
    let found = engine.lookup("remote249", 5).await.unwrap();
    assert_eq!(found.customers.len(), 1);
    engine.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn uploads_are_not_queued_behind_a_long_pull() {
    let w = World::new(Config::unlimited()).await;
    w.emu.set_rate_limit(
        crm_emulator::Api::Hubspot,
        Some(crm_emulator::RateLimit {
            max: 5,
            window: Duration::from_secs(1),
        }),
    );
    w.emu
        .seed_hubspot("contacts", (0..6000).map(hubspot_contact).collect());
    w.endpoint(
        EndpointKind::Hubspot,
        EndpointSettings {
            rate_limit: Some(5),
            rate_window_secs: Some(1),
            ..EndpointSettings::default()
        },
    )
    .await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("the pull to be under way", DEADLINE, || async {
        w.store.pull_state("crm").await.unwrap().pass_fetched >= 400
    })
    .await;
    let c = w
        .store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Urgent".into()),
                last_name: Some("Upload".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    wait_until("the new customer to be delivered", DEADLINE, || async {
        w.store.customer(c.id).await.unwrap().unwrap().sync_state == SyncState::Synced
    })
    .await;
    let state = w.store.pull_state("crm").await.unwrap();
    assert!(
        state.in_pass() && state.pass_fetched < 6000,
        "delivered while the pull still runs ({} of 6000 pulled)",
        state.pass_fetched
    );
    assert_eq!(w.emu.count("POST /crm/v3/objects/contacts/search", 429), 0);
    engine.stop(Duration::from_secs(5)).await;
}

/// Issue 7's "done when", at a size a test can afford (the 100,000-contact
/// run is in BENCHMARKS.md).
#[tokio::test]
async fn a_reps_day_pull_go_offline_find_create_reconcile() {
    let w = World::new(Config::unlimited()).await;
    w.emu
        .seed_hubspot("contacts", (0..3000).map(hubspot_contact).collect());
    w.endpoint(EndpointKind::Hubspot, EndpointSettings::default())
        .await;
    let engine = SyncEngine::start(w.store.clone(), w.secrets.clone())
        .await
        .unwrap();
    wait_until("the working set and the form", DEADLINE, || async {
        let ws = engine.working_set().await.unwrap();
        ws.total_local == 3000
            && ws.updated_at.is_some()
            && w.store.current_form().await.unwrap().endpoint.is_some()
    })
    .await;

    w.emu.down().await;
    let found = engine.lookup("contact2999@hs", 5).await.unwrap();
    assert_eq!(found.remote, RemoteLookup::Offline);
    assert_eq!(
        found.customers[0].fields.first_name.as_deref(),
        Some("Contact2999")
    );
    let new = w
        .store
        .create_customer(&NewCustomer {
            fields: Fields {
                first_name: Some("Met".into()),
                last_name: Some("Offline".into()),
                email: Some("met.offline@example.com".into()),
                ..Default::default()
            },
            attributes: Some([("lifecyclestage".to_string(), "lead".to_string())].into()),
        })
        .await
        .unwrap();

    w.emu.up().await.unwrap();
    engine.retry_now().await;
    wait_until("the creation to reach the CRM", DEADLINE, || async {
        w.store.customer(new.id).await.unwrap().unwrap().sync_state == SyncState::Synced
    })
    .await;
    // The engine holds the delivery lease; a one-shot pull beside it would
    // stand aside (one deliverer per database), so the rep closes the app.
    engine.stop(Duration::from_secs(5)).await;
    // The next pull brings the new contact back: linked, not duplicated.
    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(report.inserted, 0, "{report:?}");
    assert_eq!(local_count(&w).await, 3001);
    assert_eq!(w.emu.records().len(), 3001);
    let stored = w
        .emu
        .records()
        .into_iter()
        .find(|r| r.key == Some(new.id.to_string()))
        .unwrap();
    assert_eq!(stored.record["properties"]["lifecyclestage"], "lead");
}

#[tokio::test]
async fn the_working_set_can_be_limited_to_a_region_or_an_owner() {
    // Generic REST: the CRM filters by country.
    let w = World::new(Config::unlimited()).await;
    w.endpoint(
        EndpointKind::GenericRest,
        EndpointSettings {
            pull_country: Some("FR".into()),
            ..EndpointSettings::default()
        },
    )
    .await;
    w.emu.seed_rest(
        (0..40)
            .map(|i| {
                let (key, mut fields) = rest_record(i);
                fields.country = Some(if i % 4 == 0 { "fr" } else { "DE" }.into());
                (key, fields)
            })
            .collect(),
    );
    let report = pull_once(&w.store, w.secrets.clone(), None).await.unwrap();
    assert_eq!(report.fetched, 10);
    assert_eq!(local_count(&w).await, 10);

    // HubSpot: by owner, on HubSpot's side.
    let h = World::new(Config::unlimited()).await;
    h.endpoint(
        EndpointKind::Hubspot,
        EndpointSettings {
            pull_owner: Some("77".into()),
            ..EndpointSettings::default()
        },
    )
    .await;
    h.emu.seed_hubspot(
        "contacts",
        (0..30)
            .map(|i| {
                let mut c = hubspot_contact(i);
                c.insert(
                    "hubspot_owner_id".into(),
                    if i < 5 { "77" } else { "12" }.into(),
                );
                c
            })
            .collect(),
    );
    let report = pull_once(&h.store, h.secrets.clone(), None).await.unwrap();
    assert_eq!(report.fetched, 5);
    assert_eq!(local_count(&h).await, 5);
}
