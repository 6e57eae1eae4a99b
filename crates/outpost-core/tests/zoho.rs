//! What the conformance suite does not ask of every CRM but Zoho CRM
//! does: one access token for every connector of an endpoint (Zoho limits
//! minting), a refresh token of another data centre in words, per-record
//! upsert results, credits and concurrency, paging past 2,000 records with
//! page tokens, deletions, search, the form, and "Test connection" finding
//! each set-up problem.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{inputs, World};
use crm_emulator::api::zoho::admin::SettingsChange;
use crm_emulator::crm_user::Target;
use crm_emulator::faults::{ErrorKind, Faults};
use crm_emulator::Config;
use outpost_core::crm::connector::{CrmConnector, Outgoing, PullFilter, RecordOutcome};
use outpost_core::crm::keyset::Keyset;
use outpost_core::crm::ConnectorError;
use outpost_core::customer::CustomerFields;
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{AuthMethod, EndpointKind, EndpointSettings};
use outpost_core::sync::once::flush_once;
use outpost_core::{crm, NewCustomer, Sensitive};

async fn zoho(world: &World, settings: EndpointSettings) {
    let config = world.emu.config();
    for (kind, value) in [
        (SecretKind::ClientSecret, &config.oauth_client_secret),
        (SecretKind::RefreshToken, &config.oauth_refresh_token),
    ] {
        world
            .secrets
            .set("crm", kind, &Sensitive::new(value.clone()))
            .await
            .unwrap();
    }
    let settings = EndpointSettings {
        auth: AuthMethod::OauthRefresh,
        client_id: Some(config.oauth_client_id.clone()),
        token_url: Some(format!("{}/oauth/v2/token", world.emu.crm_url())),
        ..settings
    };
    world.endpoint(EndpointKind::Zoho, settings).await;
}

async fn connector(world: &World) -> Arc<dyn CrmConnector> {
    let config = world.store.endpoint("crm").await.unwrap().unwrap();
    crm::build(&config, world.secrets.clone()).await.unwrap()
}

fn minted(world: &World) -> u64 {
    world.emu.zoho_settings()["tokens_minted"].as_u64().unwrap()
}

async fn outgoing(world: &World, input: &[NewCustomer]) -> Vec<Outgoing> {
    let keys = world.store.create_customers(input).await.unwrap();
    let mut out = Vec::new();
    for k in keys {
        out.push(Outgoing {
            customer: world.store.customer(k).await.unwrap().unwrap(),
            earlier_attempts: 0,
        });
    }
    out
}

fn named(first: &str, last: Option<&str>, email: &str) -> NewCustomer {
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(first.into()),
            last_name: last.map(str::to_owned),
            email: Some(email.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_every_connector_and_a_refused_one_is_renewed_once() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let first = connector(&world).await;
    first.probe().await.unwrap();
    let second = connector(&world).await;
    second.probe().await.unwrap();
    second.search("Nobody", 10).await.unwrap();
    assert_eq!(
        minted(&world),
        1,
        "the second found the first's token in the keyring"
    );
    let cached = world
        .secrets
        .get("crm", SecretKind::AccessToken)
        .await
        .unwrap()
        .unwrap();
    let cached: outpost_core::crm::zoho::Cached = serde_json::from_str(cached.expose()).unwrap();
    assert!(cached.expires_at > chrono::Utc::now() + chrono::Duration::minutes(50));

    // Zoho ends the token early: one renewal, then the other connector
    // takes the renewed token from the keyring.
    world.emu.expire_tokens(None);
    second.search("Nobody", 10).await.unwrap();
    assert_eq!(minted(&world), 2);
    first.search("Nobody", 10).await.unwrap();
    assert_eq!(minted(&world), 2, "no second renewal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_of_another_data_centre_or_a_wrong_secret_is_named() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let eu = world.emu.issue_zoho_refresh_token(Some("eu"));
    world
        .secrets
        .set("crm", SecretKind::RefreshToken, &Sensitive::new(eu.clone()))
        .await
        .unwrap();
    let err = connector(&world).await.probe().await.unwrap_err();
    let words = err.to_string();
    assert!(matches!(err, ConnectorError::Queue(_)), "{err:?}");
    assert!(
        words.contains("the refresh token was not accepted by 127.0.0.1"),
        "{words}"
    );
    assert!(words.contains("another Zoho data centre"), "{words}");
    assert!(!words.contains(&eu), "a secret never shows");

    world
        .secrets
        .set(
            "crm",
            SecretKind::ClientSecret,
            &Sensitive::new("wrong".into()),
        )
        .await
        .unwrap();
    let words = connector(&world)
        .await
        .probe()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        words.contains("the client id or secret was not accepted"),
        "{words}"
    );
    assert_eq!(minted(&world), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_record_of_an_upsert_gets_its_own_outcome_and_a_retry_updates() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    world
        .emu
        .set_zoho_field_flags("Contacts", "Email", Some(true), None)
        .unwrap();
    world
        .emu
        .seed_zoho(
            "Contacts",
            vec![[("Last_Name", "Hand"), ("Email", "taken@example.com")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()],
        )
        .unwrap();
    let batch = outgoing(
        &world,
        &[
            named("Ada", Some("Lovelace"), "ada@example.com"),
            named("Taken", Some("Twice"), "taken@example.com"),
            named(&"F".repeat(41), Some("Long"), "long@example.com"),
            named("Nolast", None, "nolast@example.com"),
        ],
    )
    .await;
    let c = connector(&world).await;
    let out = c.upsert_batch(&batch).await.unwrap();
    let RecordOutcome::Delivered { crm_id, version } = &out[0].outcome else {
        panic!("{:?}", out[0])
    };
    assert!(crm_id.chars().all(|d| d.is_ascii_digit()) && version.is_some());
    let refused = |i: usize| match &out[i].outcome {
        RecordOutcome::Rejected(e) => e.clone(),
        other => panic!("{i}: {other:?}"),
    };
    assert!(
        refused(1).message.contains("may already exist in Zoho CRM"),
        "{}",
        refused(1)
    );
    assert_eq!(refused(1).field.as_deref(), Some("email"));
    assert!(
        refused(2).message.contains("at most 40 characters"),
        "{}",
        refused(2)
    );
    assert_eq!(refused(2).field.as_deref(), Some("first_name"));
    assert!(
        refused(3).message.contains("requires Last name"),
        "{}",
        refused(3)
    );
    assert_eq!(refused(3).field.as_deref(), Some("last_name"));

    // The same upsert again is the same record.
    let again = c.upsert_batch(&batch[..1]).await.unwrap();
    assert!(
        matches!(&again[0].outcome, RecordOutcome::Delivered { crm_id: id, .. } if id == crm_id)
    );
    assert_eq!(
        world.records_per_key()[&batch[0].customer.id.to_string()],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credits_left_show_in_the_budget_and_spent_credits_pause_the_queue() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let c = connector(&world).await;
    c.probe().await.unwrap();
    assert_eq!(
        c.api_budget().unwrap().org_left,
        None,
        "Zoho tells only once half is used"
    );
    world.emu.set_zoho_credits(1000, Some(600));
    c.search("Nobody", 10).await.unwrap();
    let left = c.api_budget().unwrap().org_left.unwrap();
    assert!((390..400).contains(&left), "{left}");

    world.emu.set_zoho_credits(1000, Some(1000));
    world
        .store
        .create_customers(&inputs(3, "Spent"))
        .await
        .unwrap();
    // The round ends with the queue's wait; nothing is refused.
    let _ = flush_once(&world.store, world.secrets.clone()).await;
    let status = world.store.status().await.unwrap();
    assert_eq!(
        (status.pending, status.needs_attention),
        (3, 0),
        "the queue waits, the records are not at fault"
    );
    let batch = outgoing(&world, &inputs(1, "Again")).await;
    let err = c.upsert_batch(&batch).await.unwrap_err();
    assert!(err.to_string().contains("LIMIT_EXCEEDED"), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    let before = world.emu.stats().count_anywhere("400");
    let err = c.upsert_batch(&batch).await.unwrap_err();
    assert!(err.retry_after().unwrap() <= Duration::from_secs(60));
    assert_eq!(
        world.emu.stats().count_anywhere("400"),
        before,
        "no request while spent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_never_exceed_the_concurrency_setting() {
    let world = World::new(Config::unlimited()).await;
    world.emu.set_zoho_concurrency(3);
    world
        .emu
        .change_zoho_settings(SettingsChange {
            request_cost_ms: Some(40),
            ..Default::default()
        })
        .unwrap();
    zoho(
        &world,
        EndpointSettings {
            concurrency: Some(3),
            batch_size: Some(10),
            ..Default::default()
        },
    )
    .await;
    let c = connector(&world).await;
    let batch = outgoing(&world, &inputs(100, "Busy")).await;
    // Sample the emulator's in-flight count while the batch runs.
    let peak = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let (out, ()) = tokio::join!(
        async {
            let out = c.upsert_batch(&batch).await.unwrap();
            done.store(true, Ordering::Relaxed);
            out
        },
        async {
            while !done.load(Ordering::Relaxed) {
                let n = world.emu.zoho_settings()["in_flight"].as_u64().unwrap_or(0);
                peak.fetch_max(n, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    );
    assert!(out
        .iter()
        .all(|d| matches!(d.outcome, RecordOutcome::Delivered { .. })));
    assert_eq!(
        world.emu.stats().count_anywhere("429"),
        0,
        "never over the org's limit"
    );
    let peak = peak.load(Ordering::Relaxed);
    assert!((2..=3).contains(&peak), "in flight at most: {peak}");
    world.assert_exactly_once(&batch.iter().map(|o| o.customer.id).collect::<Vec<_>>());
}

/// The Sync screen's "this device: N used" counts the last 24 hours of
/// this device, not of this process: a restart goes on counting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_devices_requests_go_on_counting_after_a_restart() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    world
        .store
        .create_customers(&inputs(3, "Counted"))
        .await
        .unwrap();
    flush_once(&world.store, world.secrets.clone())
        .await
        .unwrap();
    assert_eq!(world.store.status().await.unwrap().pending, 0);
    let kept = world.store.device_usage("crm").await.unwrap().total();
    assert!(
        kept >= 2,
        "the set-up reads and the upsert at least: {kept}"
    );

    // The next process (flush_once builds a new connector) starts from
    // what the store kept and adds its own.
    world
        .store
        .create_customers(&inputs(1, "Later"))
        .await
        .unwrap();
    flush_once(&world.store, world.secrets.clone())
        .await
        .unwrap();
    let budget = world.store.api_budget("crm").await.unwrap();
    let used = budget.expect("Zoho's budget").device_used;
    assert!(
        used > u64::from(kept),
        "{used} after {kept}: the count went on"
    );
}

/// A request that fails as a whole (Zoho down in the middle of a round)
/// leaves the round's requests not yet sent unsent: they would fail the
/// same way, so they wait with it instead of hammering a CRM in trouble.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_failing_as_a_whole_leaves_the_rest_of_the_round_unsent() {
    let world = World::new(Config::unlimited()).await;
    zoho(
        &world,
        EndpointSettings {
            concurrency: Some(1),
            batch_size: Some(10),
            ..Default::default()
        },
    )
    .await;
    let c = connector(&world).await;
    c.probe().await.unwrap();
    let batch = outgoing(&world, &inputs(50, "Down")).await;
    world.emu.set_faults(Faults {
        error_rate: 1.0,
        error_kinds: vec![ErrorKind::Unavailable],
        ..Default::default()
    });
    let upserts = || {
        world
            .emu
            .requests()
            .iter()
            .filter(|e| e.endpoint.ends_with("/upsert"))
            .count()
    };
    let before = upserts();
    let err = c.upsert_batch(&batch).await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    assert_eq!(upserts() - before, 1, "one request of five went out");

    world.emu.clear_faults();
    let out = c.upsert_batch(&batch).await.unwrap();
    assert!(out
        .iter()
        .all(|d| matches!(d.outcome, RecordOutcome::Delivered { .. })));
    world.assert_exactly_once(&batch.iter().map(|o| o.customer.id).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_pages_past_2000_and_resumes_at_a_tied_stamp_without_its_token() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let n = 2300;
    world
        .emu
        .seed_zoho(
            "Contacts",
            (0..n)
                .map(|i| {
                    [
                        ("Last_Name".to_owned(), format!("Seed{i}")),
                        ("Email".to_owned(), format!("seed{i}@zoho.example")),
                    ]
                    .into()
                })
                .collect(),
        )
        .unwrap();
    let c = connector(&world).await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_modified_since(None, cursor.clone(), &PullFilter::default())
            .await
            .unwrap();
        for r in &page.items {
            assert!(seen.insert(r.crm_id.clone()), "read twice: {}", r.crm_id);
        }
        pages += 1;
        cursor = page.next;
        let Some(c) = &cursor else { break };
        if pages == 11 {
            // Past 2,000 on page tokens; now the token is lost (expired):
            // the pass goes on from the last row at its (tied) stamp.
            let k = Keyset::decode(c).unwrap();
            assert!(k.next.is_some() && k.id.is_some());
            assert!(world.emu.expire_zoho_page_tokens() > 0);
        }
    }
    assert_eq!(seen.len(), n, "neither skipped nor repeated");
    assert!(pages >= 12, "{pages}");

    // Deletions: one record deleted by a person is listed by its id.
    let gone = seen.iter().next().unwrap().clone();
    assert!(world
        .emu
        .delete_as_crm_user(&Target::zoho(gone.clone()).by("id"))
        .unwrap());
    let deleted = c.list_deleted_since(None, None).await.unwrap().unwrap();
    assert!(
        deleted.items.iter().any(|d| d.crm_id == gone),
        "{deleted:?}"
    );
    assert!(deleted.next.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_or_answers_none_and_hostile_values_stay_values() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let c = connector(&world).await;
    let batch = outgoing(
        &world,
        &[named("Paren", Some("O(Brien), Jr\\"), "paren@example.com")],
    )
    .await;
    c.upsert_batch(&batch).await.unwrap();
    assert!(
        c.search("nobody@nowhere.example", 10)
            .await
            .unwrap()
            .is_empty(),
        "204 is none"
    );
    let found = c.search("paren@example.com", 10).await.unwrap();
    assert_eq!(found[0].fields.last_name.as_deref(), Some("O(Brien), Jr\\"));
    for hostile in [
        "x)or(Last_Name:starts_with:O",
        "\\",
        "(Brien), Jr\\",
        "a,b)",
    ] {
        c.search(hostile, 10).await.unwrap();
    }
    // The key search goes through the criteria parser.
    let got = c.get(batch[0].customer.id).await.unwrap().unwrap();
    assert_eq!(got.key, Some(batch[0].customer.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_and_the_field_list_come_from_the_module_fields() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let c = connector(&world).await;
    let form = c.form().await.unwrap().unwrap();
    let last = form.fields.iter().find(|f| f.name == "last_name").unwrap();
    assert!(last.required && last.max_len == Some(80));
    let first = form.fields.iter().find(|f| f.name == "first_name").unwrap();
    assert_eq!(first.max_len, Some(40));
    let source = form
        .fields
        .iter()
        .find(|f| f.name == "lead_source")
        .unwrap();
    assert!(source.attribute);
    assert!(source.options.iter().any(|o| o.value == "Cold Call"));
    assert!(!source.options.iter().any(|o| o.value == "-None-"));
    let list = c.fields().await.unwrap().unwrap();
    assert!(list.get("Outpost_Key").is_some() && list.get("Mailing_Zip").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_names_each_setup_problem_in_turn() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let probe = || async { connector(&world).await.probe().await };
    probe().await.unwrap();

    assert!(world.emu.remove_zoho_field("Contacts", "Outpost_Key"));
    let w = probe().await.unwrap_err().to_string();
    assert!(w.contains("no field with the API name Outpost_Key"), "{w}");

    world
        .emu
        .define_zoho_field("Contacts", "Outpost_Key", "text", 255, false)
        .unwrap();
    let w = probe().await.unwrap_err().to_string();
    assert!(w.contains("Do not allow duplicate values"), "{w}");

    world
        .emu
        .set_zoho_field_flags("Contacts", "Outpost_Key", Some(true), None)
        .unwrap();
    probe().await.unwrap();

    world.emu.set_zoho_creatable("Contacts", false).unwrap();
    let err = probe().await.unwrap_err();
    assert!(
        err.to_string().contains("may not create and edit Contacts"),
        "{err}"
    );
    world.emu.set_zoho_creatable("Contacts", true).unwrap();

    let notes = connector(&world).await.setup_notes().await.unwrap();
    assert!(
        notes.iter().any(|n| n.contains("edition allows")),
        "{notes:?}"
    );
    assert_eq!(minted(&world), 1, "every probe reused the one token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minting_limit_is_waited_out_in_words_never_spun_on() {
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let c = connector(&world).await;
    c.probe().await.unwrap();
    // Zoho ends each token early: ten mints in ten minutes are allowed.
    for _ in 0..9 {
        world.emu.expire_tokens(None);
        c.search("Nobody", 10).await.unwrap();
    }
    assert_eq!(minted(&world), 10);
    world.emu.expire_tokens(None);
    let err = c.search("Nobody", 10).await.unwrap_err();
    assert!(
        err.to_string().contains("refuses new access tokens"),
        "{err}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    let asked = world.emu.count("POST /oauth/v2/token", 200);
    for _ in 0..5 {
        let err = c.search("Nobody", 10).await.unwrap_err();
        assert!(err.retry_after().unwrap() <= Duration::from_secs(60));
    }
    assert_eq!(
        world.emu.count("POST /oauth/v2/token", 200),
        asked,
        "no token request while the wait runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_read_merged_and_written_in_one_bulk_request() {
    use outpost_core::crm::connector::{OutgoingUpdate, UpdateOutcome};
    use outpost_core::customer::Field;
    use outpost_core::outbox::{FieldChange, UpdatePayload};
    let world = World::new(Config::unlimited()).await;
    zoho(&world, EndpointSettings::default()).await;
    let c = connector(&world).await;
    let mut batch = outgoing(
        &world,
        &[
            named("Ann", Some("One"), "ann@example.com"),
            named("Bob", Some("Two"), "bob@example.com"),
        ],
    )
    .await;
    let delivered = c.upsert_batch(&batch).await.unwrap();
    for (o, d) in batch.iter_mut().zip(delivered) {
        let RecordOutcome::Delivered { crm_id, .. } = d.outcome else {
            panic!()
        };
        o.customer.crm_id = Some(crm_id);
    }
    // A person changed Bob's last name in Zoho meanwhile.
    let bob = batch[1].customer.id.to_string();
    let fields = serde_json::Map::from_iter([("Last_Name".to_owned(), "Zwei".into())]);
    assert!(world
        .emu
        .edit_as_crm_user(&Target::zoho(bob), &fields)
        .unwrap());
    let update = |o: &Outgoing, new: &str| {
        let mut change = UpdatePayload::default();
        change.fields.insert(
            Field::LastName,
            FieldChange {
                base: o.customer.fields.last_name.clone(),
                new: Some(new.into()),
            },
        );
        OutgoingUpdate {
            customer: o.customer.clone(),
            change,
            earlier_attempts: 0,
        }
    };
    let before = world.emu.count("PUT /crm/{version}/{module}", 200);
    let out = c
        .update_batch(&[update(&batch[0], "Uno"), update(&batch[1], "Deux")])
        .await;
    assert!(
        matches!(&out[0], UpdateOutcome::Applied { version: Some(_), conflicts } if conflicts.is_empty()),
        "{out:?}"
    );
    let UpdateOutcome::Applied { conflicts, .. } = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(conflicts[0].theirs.as_deref(), Some("Zwei"));
    assert_eq!(conflicts[0].ours.as_deref(), Some("Deux"));
    let ann = batch[0].customer.id.to_string();
    let record = world
        .emu
        .records()
        .into_iter()
        .find(|r| r.api == "zoho" && r.key.as_deref() == Some(ann.as_str()))
        .unwrap();
    assert_eq!(record.record["Last_Name"], "Uno");
    assert_eq!(
        world.emu.count("PUT /crm/{version}/{module}", 200),
        before + 1,
        "one bulk write"
    );
}
