//! Delivering edits (issue 14, part B) to the emulator's generic REST API
//! over real HTTP on loopback: two devices (two databases) edit the same
//! customer; `PATCH` with `If-Match`, 412, re-read and per-field merge.

use std::sync::Arc;

mod common;
use common::{wait_until, Local, DEADLINE};

use crm_emulator::{Config, Emulator, Faults};
use outpost_core::crm::connector::CrmConnector;
use outpost_core::customer::{CustomerEdit, Field};
use outpost_core::endpoint::secrets::SecretKind;
use outpost_core::endpoint::{EndpointKind, EndpointSettings};
use outpost_core::sync::flusher::Flusher;
use outpost_core::sync::monitor::Monitor;
use outpost_core::{CustomerId, NewCustomer, OutboxState, Sensitive};
use serde_json::Value;

/// One device: its own database, connector and flusher for the endpoint "crm".
struct Device {
    local: Local,
    connector: Arc<dyn CrmConnector>,
    flusher: Arc<Flusher>,
}

impl Device {
    async fn new(emu: &Emulator) -> Device {
        let local = Local::new().await;
        local
            .secrets
            .set(
                "crm",
                SecretKind::Token,
                &Sensitive::new(emu.token().to_owned()),
            )
            .await
            .unwrap();
        local
            .save_endpoint(
                EndpointKind::GenericRest,
                emu.crm_url(),
                EndpointSettings::default(),
            )
            .await;
        let config = local.store.endpoints().await.unwrap().remove(0);
        let connector = outpost_core::crm::build(&config, local.secrets.clone())
            .await
            .unwrap();
        let monitor = Monitor::new("crm", connector.clone());
        let flusher = Flusher::new("crm", local.store.clone(), connector.clone(), monitor, 50);
        Device {
            local,
            connector,
            flusher,
        }
    }

    /// Runs flush rounds until nothing waits (failed sends fall due again).
    async fn flush(&self) {
        wait_until("the queue to empty", DEADLINE, || async {
            self.flusher.round().await.unwrap();
            let s = self.local.store.status().await.unwrap();
            s.pending + s.in_flight == 0
        })
        .await;
    }

    /// The customer as the CRM has it, cached here as a lookup would.
    async fn fetch(&self, id: CustomerId) {
        let remote = self.connector.get(id).await.unwrap().expect("in the CRM");
        self.local.store.cache_remote(&[remote]).await.unwrap();
    }

    async fn edit(&self, id: CustomerId, field: Field, value: &str) {
        self.local
            .store
            .edit_customer(id, &CustomerEdit::default().set(field, value))
            .await
            .unwrap();
    }
}

/// A customer created on `a`, delivered, and known on `b` too.
async fn shared_customer(a: &Device, b: &Device) -> CustomerId {
    let new = NewCustomer::default()
        .with(Field::FirstName, "Ada")
        .with(Field::LastName, "Lovelace")
        .with(Field::Phone, "+49 30 5550101")
        .with(Field::Email, "ada@example.org");
    let id = a.local.store.create_customer(&new).await.unwrap().id;
    a.flush().await;
    // The create's answer carried the record's version: the first If-Match.
    let row = a.local.store.customer(id).await.unwrap().unwrap();
    assert_eq!(row.crm_version_tag.as_deref(), Some("1"));
    b.fetch(id).await;
    id
}

fn crm_record(emu: &Emulator, id: CustomerId) -> Value {
    let key = id.to_string();
    let mut found: Vec<Value> = emu
        .records()
        .into_iter()
        .filter(|r| r.key.as_deref() == Some(key.as_str()))
        .map(|r| r.record)
        .collect();
    assert_eq!(found.len(), 1, "the customer is in the CRM exactly once");
    found.remove(0)
}

async fn no_update_waits(d: &Device) {
    let waiting: Vec<_> = d
        .local
        .store
        .outbox(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.state != OutboxState::Sent)
        .collect();
    assert!(waiting.is_empty(), "{waiting:?}");
}

#[tokio::test]
async fn edits_of_different_fields_on_two_devices_both_land() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;

    a.edit(id, Field::Phone, "+49 30 5550199").await;
    b.edit(id, Field::Email, "ada@lovelace.example").await;
    a.flush().await;
    b.flush().await;

    let record = crm_record(&emu, id);
    assert_eq!(record["phone"], "+49 30 5550199");
    assert_eq!(record["email"], "ada@lovelace.example");
    assert_eq!(record["first_name"], "Ada", "untouched fields stay");
    for d in [&a, &b] {
        assert!(d.local.store.conflicts().await.unwrap().is_empty());
        no_update_waits(d).await;
    }
    // B's write answered with the CRM's new version: the next If-Match.
    let b_row = b.local.store.customer(id).await.unwrap().unwrap();
    assert_eq!(
        b_row.crm_version_tag.as_deref(),
        Some(record["version"].to_string().as_str())
    );
}

#[tokio::test]
async fn the_same_field_edited_on_two_devices_is_one_conflict_with_both_values() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;

    a.edit(id, Field::Phone, "+49 30 5550111").await;
    b.edit(id, Field::Phone, "+49 30 5550222").await;
    a.flush().await;
    b.flush().await;

    // The CRM keeps the value that reached it first; B's is kept visible.
    assert_eq!(crm_record(&emu, id)["phone"], "+49 30 5550111");
    assert!(a.local.store.conflicts().await.unwrap().is_empty());
    let conflicts = b.local.store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0];
    assert_eq!(c.customer_id, id);
    assert_eq!(c.field, "phone");
    assert_eq!(c.ours.as_deref(), Some("+49 30 5550222"));
    assert_eq!(c.theirs.as_deref(), Some("+49 30 5550111"));
    assert_eq!(c.base.as_deref(), Some("+49 30 5550101"));
    assert_eq!(b.local.store.conflict_count().await.unwrap(), 1);
    // Settled: not refused, not waiting.
    no_update_waits(&b).await;
}

#[tokio::test]
async fn an_update_whose_answer_was_lost_is_applied_exactly_once() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;
    let before = crm_record(&emu, id)["version"].as_u64().unwrap();

    a.edit(id, Field::Phone, "+49 30 5550199").await;
    // The CRM commits the PATCH, then the connection drops.
    emu.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    a.flusher.round().await.unwrap();
    emu.clear_faults();
    let r = crm_record(&emu, id);
    assert_eq!(
        r["phone"], "+49 30 5550199",
        "the first try reached the CRM"
    );
    // The retry's If-Match no longer holds; the re-read shows our value.
    a.flush().await;
    let after = crm_record(&emu, id);
    assert_eq!(after["phone"], "+49 30 5550199");
    assert_eq!(
        after["version"].as_u64().unwrap(),
        before + 1,
        "written once"
    );
    assert!(a.local.store.conflicts().await.unwrap().is_empty());
    no_update_waits(&a).await;
}

#[tokio::test]
async fn an_update_of_a_customer_deleted_in_the_crm_needs_attention() {
    // A record the CRM no longer has: a PATCH answers 404, a permanent
    // refusal with its reason, not a retry loop.
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;
    emu.reset().await;
    a.edit(id, Field::City, "London").await;
    a.flusher.round().await.unwrap();
    let status = a.local.store.status().await.unwrap();
    assert_eq!(status.needs_attention, 1, "{status:?}");
    let refused = a
        .local
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    assert!(
        refused[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no longer in the CRM")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn use_mine_after_a_conflict_reaches_the_crm() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;
    a.edit(id, Field::Phone, "+49 30 5550111").await;
    b.edit(id, Field::Phone, "+49 30 5550222").await;
    a.flush().await;
    b.flush().await;
    assert_eq!(b.local.store.conflict_count().await.unwrap(), 1);

    b.local
        .store
        .resolve_conflict(id, "phone", outpost_core::store::Resolution::Mine)
        .await
        .unwrap();
    b.flush().await;
    assert_eq!(crm_record(&emu, id)["phone"], "+49 30 5550222");
    assert!(b.local.store.conflicts().await.unwrap().is_empty());
    no_update_waits(&b).await;
}

/// A person's change in the CRM (the emulator's control API).
fn edit_in_crm(emu: &Emulator, id: CustomerId, field: &str, value: &str) {
    let target = crm_emulator::crm_user::Target::rest(id.to_string());
    let fields = serde_json::Map::from_iter([(field.to_owned(), value.into())]);
    assert!(emu.edit_as_crm_user(&target, &fields).unwrap());
}

#[tokio::test]
async fn a_pull_takes_the_crms_other_fields_and_keeps_an_unsent_edit() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;

    // Edited here, not yet sent; meanwhile the CRM changes another field.
    a.edit(id, Field::City, "Köln").await;
    edit_in_crm(&emu, id, "first_name", "Augusta");
    a.fetch(id).await;
    let row = a.local.store.customer(id).await.unwrap().unwrap();
    assert_eq!(
        row.fields.first_name.as_deref(),
        Some("Augusta"),
        "the CRM's change"
    );
    assert_eq!(
        row.fields.city.as_deref(),
        Some("Köln"),
        "the unsent edit stays"
    );
    assert!(row.pending_edit);
    let version = crm_record(&emu, id)["version"].to_string();
    assert_eq!(
        row.crm_version_tag.as_deref(),
        Some(version.as_str()),
        "the pulled version"
    );

    a.flush().await;
    let record = crm_record(&emu, id);
    assert_eq!(record["city"], "Köln");
    assert_eq!(record["first_name"], "Augusta", "not reverted by our write");
    assert!(a.local.store.conflicts().await.unwrap().is_empty());
    no_update_waits(&a).await;
}

#[tokio::test]
async fn a_field_changed_in_the_crm_and_here_while_offline_is_a_conflict_after_a_pull() {
    let emu = Emulator::start(Config::unlimited()).await.unwrap();
    let (a, b) = (Device::new(&emu).await, Device::new(&emu).await);
    let id = shared_customer(&a, &b).await;

    a.edit(id, Field::Phone, "+49 30 5550123").await;
    edit_in_crm(&emu, id, "phone", "+49 30 5550999");
    a.fetch(id).await;
    let row = a.local.store.customer(id).await.unwrap().unwrap();
    assert_eq!(
        row.fields.phone.as_deref(),
        Some("+49 30 5550123"),
        "ours is not overwritten"
    );

    a.flush().await;
    assert_eq!(
        crm_record(&emu, id)["phone"],
        "+49 30 5550999",
        "the CRM's is kept"
    );
    let conflicts = a.local.store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].ours.as_deref(), Some("+49 30 5550123"));
    assert_eq!(conflicts[0].theirs.as_deref(), Some("+49 30 5550999"));
    no_update_waits(&a).await;
}
