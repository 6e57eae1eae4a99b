//! What the conformance suite does not ask of every CRM but a Salesforce
//! org does: Leads and their required Company, an org duplicate rule and
//! the admin's way past it, edits of pulled records under
//! `If-Unmodified-Since`, the recycle bin, and values with quotes in
//! filters and searches reaching the strict SOQL parser as values.

mod common;

use std::collections::BTreeMap;

use common::World;
use crm_emulator::crm_user::Target;
use crm_emulator::Config;
use outpost_core::crm::connector::{CrmConnector, PullFilter};
use outpost_core::customer::{CustomerEdit, Field};
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{AuthMethod, CrmObject, EndpointKind, EndpointSettings};
use outpost_core::sync::once::flush_once;
use outpost_core::sync::pull::{pull_pass, PullScope};
use outpost_core::{crm, NewCustomer, OutboxState, Sensitive, SyncState};

async fn salesforce(world: &World, settings: EndpointSettings) {
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
        token_url: Some(format!("{}/services/oauth2/token", world.emu.crm_url())),
        ..settings
    };
    world.endpoint(EndpointKind::Salesforce, settings).await;
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
        .find(|r| r.key.as_deref() == Some(&key))
        .expect("in Salesforce")
        .record
}

async fn flush(world: &World) {
    flush_once(&world.store, world.secrets.clone())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_get_a_company_and_the_form_says_what_salesforce_requires() {
    let world = World::new(Config::unlimited()).await;
    salesforce(
        &world,
        EndpointSettings {
            crm_object: Some(CrmObject::Lead),
            ..Default::default()
        },
    )
    .await;
    let walk_in = NewCustomer::default()
        .with(Field::FirstName, "Walk")
        .with(Field::LastName, "In");
    let with_company = walk_in.clone().with(Field::Company, "Acme GmbH");
    let a = world.store.create_customer(&walk_in).await.unwrap();
    let b = world.store.create_customer(&with_company).await.unwrap();
    flush(&world).await;
    let a_record = record(&world, a.id);
    assert_eq!(a_record["attributes"]["type"], "Lead");
    assert_eq!(a_record["Company"], "[not provided]");
    assert_eq!(record(&world, b.id)["Company"], "Acme GmbH");
    let stored = world.store.customer(a.id).await.unwrap().unwrap();
    assert!(stored.crm_id.unwrap().starts_with("00Q"), "a Lead id");

    let form = connector(&world).await.form().await.unwrap().unwrap();
    let last = form.fields.iter().find(|f| f.name == "last_name").unwrap();
    assert!(last.required && !last.attribute, "{form:?}");
    assert!(
        !form
            .fields
            .iter()
            .any(|f| f.name == "company" && f.required),
        "a Lead's company is always filled"
    );
    // Salesforce's FirstName takes 40 characters, Outpost's 100: a longer
    // one is refused on the field before it is queued.
    let first = form.fields.iter().find(|f| f.name == "first_name").unwrap();
    assert_eq!((first.max_len, first.attribute), (Some(40), false));
    let rules = outpost_core::crm::form::FormMetadata::from_crm("crm", "now".into(), form.clone());
    let long = NewCustomer::default()
        .with(Field::FirstName, "A".repeat(41))
        .with(Field::LastName, "Long");
    let errors = rules.check(&long).unwrap_err().0;
    assert_eq!(errors[0].field, "first_name", "{errors:?}");
    assert!(errors[0].message.contains("at most 40"), "{errors:?}");
    rules.check(&walk_in).unwrap();
    let source = form.fields.iter().find(|f| f.name == "leadsource").unwrap();
    assert!(source.attribute && source.options.iter().any(|o| o.value == "Web"));
    assert!(
        !source.options.iter().any(|o| o.value == "Trade Show"),
        "inactive values are not offered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_rule_refusal_is_explained_and_an_admin_can_let_it_through() {
    let world = World::new(Config::unlimited()).await;
    world.emu.seed_salesforce(
        "Contact",
        vec![BTreeMap::from([
            ("LastName".to_owned(), "Hand".to_owned()),
            ("Email".to_owned(), "ada@example.com".to_owned()),
        ])],
    );
    world.emu.set_salesforce_duplicate_rule(true);
    salesforce(&world, EndpointSettings::default()).await;
    let ada = NewCustomer::default()
        .with(Field::LastName, "Lovelace")
        .with(Field::Email, "ada@example.com");
    let ada = world.store.create_customer(&ada).await.unwrap();
    flush(&world).await;
    let attention = world
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    let reason = attention[0].last_error.as_deref().unwrap();
    assert!(
        reason.contains("may already exist in Salesforce"),
        "{reason}"
    );

    let mut config = world.store.endpoint("crm").await.unwrap().unwrap();
    config.settings.allow_duplicates = Some(true);
    world.store.save_endpoint(&config).await.unwrap();
    world.store.retry_customer(ada.id).await.unwrap();
    flush(&world).await;
    let stored = world.store.customer(ada.id).await.unwrap().unwrap();
    assert_eq!(stored.sync_state, SyncState::Synced);
    assert_eq!(record(&world, ada.id)["LastName"], "Lovelace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_pulled_contact_is_written_under_its_stamp_and_merged_on_412() {
    let world = World::new(Config::unlimited()).await;
    world.emu.seed_salesforce(
        "Contact",
        vec![BTreeMap::from([
            ("FirstName".to_owned(), "Grace".to_owned()),
            ("LastName".to_owned(), "Hopper".to_owned()),
            ("MailingCity".to_owned(), "Arlington".to_owned()),
            (
                "Outpost_Key__c".to_owned(),
                uuid::Uuid::now_v7().to_string(),
            ),
        ])],
    );
    salesforce(&world, EndpointSettings::default()).await;
    let sf = connector(&world).await;
    pull_pass(
        &world.store,
        sf.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    let grace = world.store.search("Hopper", 5).await.unwrap().remove(0);
    let key = grace.id.to_string();

    // A clean edit goes in one PATCH under the pulled stamp.
    let edit = CustomerEdit::default().set(Field::City, "New York");
    world.store.edit_customer(grace.id, &edit).await.unwrap();
    flush(&world).await;
    let label = "PATCH /services/data/{version}/sobjects/{object}/{id}";
    assert_eq!(world.emu.count(label, 204), 1);
    assert_eq!(record(&world, &key)["MailingCity"], "New York");

    // Pulled again; then a person changes the first name in Salesforce
    // while the rep edits the last name here: the stamp no longer holds
    // (412), the record is read and only our field is written.
    pull_pass(
        &world.store,
        sf.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    let edit = CustomerEdit::default().set(Field::LastName, "Murray Hopper");
    world.store.edit_customer(grace.id, &edit).await.unwrap();
    let target = Target::salesforce(key.clone());
    let change = serde_json::Map::from_iter([("FirstName".to_owned(), "Amazing".into())]);
    assert!(world.emu.edit_as_crm_user(&target, &change).unwrap());
    flush(&world).await;
    assert_eq!(
        world.emu.count(label, 412),
        1,
        "the stamp caught the change"
    );
    let now = record(&world, &key);
    assert_eq!(now["LastName"], "Murray Hopper", "ours landed");
    assert_eq!(now["FirstName"], "Amazing", "theirs is not reverted");
    assert!(world.store.conflicts().await.unwrap().is_empty());
    let stored = world.store.customer(grace.id).await.unwrap().unwrap();
    assert!(!stored.pending_edit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recycle_bin_empties_the_working_set_and_quotes_stay_values() {
    let world = World::new(Config::unlimited()).await;
    world.emu.seed_salesforce(
        "Contact",
        vec![
            BTreeMap::from([
                ("FirstName".to_owned(), "Seán".to_owned()),
                ("LastName".to_owned(), "O'Brien".to_owned()),
                (
                    "Outpost_Key__c".to_owned(),
                    uuid::Uuid::now_v7().to_string(),
                ),
            ]),
            BTreeMap::from([
                ("LastName".to_owned(), "Other".to_owned()),
                (
                    "Outpost_Key__c".to_owned(),
                    uuid::Uuid::now_v7().to_string(),
                ),
            ]),
        ],
    );
    salesforce(&world, EndpointSettings::default()).await;
    let sf = connector(&world).await;

    // A quote in a filter value is a value: no record has this owner.
    let hostile = PullFilter {
        owner: Some("005' OR OwnerId != '".into()),
        country: Some("Cote d'Ivoire\\".into()),
    };
    let page = sf.list_modified_since(None, None, &hostile).await.unwrap();
    assert!(page.items.is_empty(), "{page:?}");
    let found = sf.search("O'Brien", 10).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].fields.last_name.as_deref(), Some("O'Brien"));

    pull_pass(
        &world.store,
        sf.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    let obrien = world.store.search("Brien", 5).await.unwrap().remove(0);
    assert!(world
        .emu
        .delete_as_crm_user(&Target::salesforce(obrien.id.to_string()))
        .unwrap());
    let report = pull_pass(
        &world.store,
        sf.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.removed, 1, "{report:?}");
    assert!(world.store.customer(obrien.id).await.unwrap().is_none());
    assert_eq!(world.store.search("Other", 5).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_names_each_setup_problem_an_admin_can_fix() {
    use outpost_core::endpoint::diagnose::{test_connection, TestOutcome};

    let world = World::new(Config::unlimited()).await;
    salesforce(&world, EndpointSettings::default()).await;
    let config = world.store.endpoint("crm").await.unwrap().unwrap();
    let test = || test_connection(&config, world.secrets.clone());
    assert_eq!(test().await.outcome, TestOutcome::Ok);

    let key = "Outpost_Key__c";
    assert!(world
        .emu
        .set_salesforce_field_flags("Contact", key, true, false));
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::Misconfigured);
    assert!(r.message.contains("is not marked Unique"), "{}", r.message);

    assert!(world
        .emu
        .set_salesforce_field_flags("Contact", key, false, true));
    let r = test().await;
    assert!(
        r.message.contains("is not marked External ID"),
        "{}",
        r.message
    );

    assert!(world.emu.remove_salesforce_field("Contact", key));
    let r = test().await;
    assert_eq!(r.outcome, TestOutcome::Misconfigured);
    assert!(
        r.message.contains("has no field Outpost_Key__c")
            && r.message.contains("field-level security"),
        "{}",
        r.message
    );

    // A wrong secret is the credentials, in words, not a setup problem.
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devices_daily_share_goes_on_counting_after_a_restart() {
    let world = World::new(Config::unlimited()).await;
    let cap = |n| EndpointSettings {
        daily_request_cap: Some(n),
        batch_size: Some(1),
        ..Default::default()
    };
    salesforce(&world, cap(1000)).await;
    for i in 0..3 {
        let c = NewCustomer::default().with(Field::LastName, format!("Counted{i}"));
        world.store.create_customer(&c).await.unwrap();
    }
    flush(&world).await;
    assert_eq!(world.store.status().await.unwrap().pending, 0);
    let used = world.store.device_usage("crm").await.unwrap().total();
    assert!(used >= 3, "three upserts at least were counted: {used}");

    // A new process (a new connector) with the cap at what was used: the
    // day's share is spent, so nothing is sent and the customer waits.
    salesforce(&world, cap(used)).await;
    let later = NewCustomer::default().with(Field::LastName, "Waits");
    let waiting = world.store.create_customer(&later).await.unwrap();
    let err = flush_once(&world.store, world.secrets.clone())
        .await
        .expect_err("the device's share is spent");
    assert!(err.to_string().contains("daily_request_cap"), "{err}");
    let key = waiting.id.to_string();
    assert!(
        world
            .emu
            .records()
            .iter()
            .all(|r| r.key.as_deref() != Some(&key)),
        "not sent"
    );
    let shown = world.store.customer(waiting.id).await.unwrap().unwrap();
    assert_eq!(shown.sync_state, SyncState::Pending);
}
