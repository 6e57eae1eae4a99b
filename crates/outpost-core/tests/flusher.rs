//! The flusher and monitor against a scripted connector: what happens to each
//! message for each kind of answer, without a network.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use outpost_core::crm::connector::{
    CallInfo, Capabilities, CrmConnector, Delivery, Outgoing, Page, RecordOutcome, RemoteCustomer,
};
use outpost_core::crm::error::{ConnectorError, QueueProblem, RecordError};
use outpost_core::customer::CustomerFields;
use outpost_core::sync::flusher::Flusher;
use outpost_core::sync::monitor::Monitor;
use outpost_core::{
    ConnectionState, Customer, CustomerChange, CustomerId, CustomersChanged, NewCustomer,
    OutboxState, Store, StoreEvent, SyncState,
};
use tempfile::TempDir;

/// What the fake CRM answers to the next upsert call.
#[derive(Clone)]
enum Answer {
    /// Every record delivered.
    Ok,
    /// Reject records whose last name is this.
    RejectLastName(&'static str),
    Fail(ConnectorError),
}

#[derive(Default)]
struct Fake {
    answers: Mutex<VecDeque<Answer>>,
    /// Every record key sent, in order, per call.
    calls: Mutex<Vec<Vec<CustomerId>>>,
}

#[async_trait]
impl CrmConnector for Fake {
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            requests_at_once: 1,
            max_batch: 10,
            upsert_by_external_id: true,
            rate_limit: None,
            updates: false,
        }
    }
    async fn probe(&self) -> Result<(), ConnectorError> {
        Ok(())
    }
    async fn upsert_batch(&self, batch: &[Outgoing]) -> Result<Vec<Delivery>, ConnectorError> {
        let batch: Vec<Customer> = batch.iter().map(|o| o.customer.clone()).collect();
        self.calls
            .lock()
            .unwrap()
            .push(batch.iter().map(|c| c.id).collect());
        let answer = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Answer::Ok);
        let call = CallInfo {
            status: Some(200),
            duration: Duration::from_millis(1),
            request_id: Some("req-1".into()),
        };
        match answer {
            Answer::Fail(e) => Err(e),
            Answer::Ok | Answer::RejectLastName(_) => Ok(batch
                .iter()
                .map(|c| {
                    let outcome = match &answer {
                        Answer::RejectLastName(n) if c.fields.last_name.as_deref() == Some(n) => {
                            RecordOutcome::Rejected(RecordError {
                                message: "Enter a valid phone number.".into(),
                                field: Some("phone".into()),
                            })
                        }
                        _ => RecordOutcome::Delivered {
                            crm_id: format!("crm-{}", c.id),
                            version: None,
                        },
                    };
                    Delivery {
                        outcome,
                        call: call.clone(),
                    }
                })
                .collect()),
        }
    }
    async fn get(&self, _: CustomerId) -> Result<Option<RemoteCustomer>, ConnectorError> {
        Ok(None)
    }
    async fn search(&self, _: &str, _: usize) -> Result<Vec<RemoteCustomer>, ConnectorError> {
        Ok(vec![])
    }
    async fn list_modified_since(
        &self,
        _: Option<DateTime<Utc>>,
        _: Option<String>,
        _: &outpost_core::crm::connector::PullFilter,
    ) -> Result<Page, ConnectorError> {
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
}

struct Setup {
    _dir: TempDir,
    store: Store,
    fake: Arc<Fake>,
    monitor: Arc<Monitor>,
    flusher: Arc<Flusher>,
}

async fn setup(answers: Vec<Answer>) -> Setup {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path().join("o.db")).await.unwrap();
    let fake = Arc::new(Fake::default());
    fake.answers.lock().unwrap().extend(answers);
    let monitor = Monitor::new("crm", fake.clone());
    monitor.report_success();
    let flusher = Flusher::new("crm", store.clone(), fake.clone(), monitor.clone(), 10);
    Setup {
        _dir: dir,
        store,
        fake,
        monitor,
        flusher,
    }
}

async fn add(store: &Store, last: &str) -> CustomerId {
    store
        .create_customer(&NewCustomer {
            fields: CustomerFields {
                last_name: Some(last.into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn delivers_in_creation_order_and_marks_customers_synced() {
    let s = setup(vec![]).await;
    let mut keys = Vec::new();
    for i in 0..25 {
        keys.push(add(&s.store, &format!("N{i}")).await);
    }
    let mut delivered = 0;
    loop {
        let r = s.flusher.round().await.unwrap();
        if r.delivered == 0 {
            break;
        }
        delivered += r.delivered;
    }
    assert_eq!(delivered, 25);
    let sent: Vec<CustomerId> = s.fake.calls.lock().unwrap().concat();
    assert_eq!(sent, keys, "creation order is kept");
    assert_eq!(
        s.fake.calls.lock().unwrap()[0].len(),
        10,
        "batches are bounded"
    );
    for k in &keys {
        let c = s.store.customer(*k).await.unwrap().unwrap();
        assert_eq!(c.sync_state, SyncState::Synced);
        assert_eq!(c.crm_id, Some(format!("crm-{k}")));
    }
    let status = s.store.status().await.unwrap();
    assert_eq!((status.pending, status.sent), (0, 25));
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sync_audit WHERE outcome = '200 delivered' AND request_id = 'req-1'",
    )
    .fetch_one(s.store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(audit, 25);
}

#[tokio::test]
async fn a_rejected_record_waits_for_a_person_and_never_blocks_the_others() {
    let s = setup(vec![Answer::RejectLastName("Bad")]).await;
    let good1 = add(&s.store, "Good1").await;
    let bad = add(&s.store, "Bad").await;
    let good2 = add(&s.store, "Good2").await;
    let r = s.flusher.round().await.unwrap();
    assert_eq!((r.delivered, r.rejected), (2, 1));
    let bad_c = s.store.customer(bad).await.unwrap().unwrap();
    assert_eq!(bad_c.sync_state, SyncState::NeedsAttention);
    let attention = s
        .store
        .outbox(Some(OutboxState::NeedsAttention), 10)
        .await
        .unwrap();
    assert_eq!(attention.len(), 1);
    assert_eq!(attention[0].customer_id, bad);
    assert_eq!(
        attention[0].last_error.as_deref(),
        Some("phone: Enter a valid phone number.")
    );
    for k in [good1, good2] {
        assert_eq!(
            s.store.customer(k).await.unwrap().unwrap().sync_state,
            SyncState::Synced
        );
    }
    // Nothing else is due: the rejected one is not retried on its own.
    assert_eq!(s.flusher.round().await.unwrap().delivered, 0);
    // After a fix, a person resubmits it.
    assert_eq!(s.store.retry_customer(bad).await.unwrap(), 1);
    assert_eq!(s.flusher.round().await.unwrap().delivered, 1);
    assert_eq!(
        s.store.customer(bad).await.unwrap().unwrap().sync_state,
        SyncState::Synced
    );
}

#[tokio::test]
async fn unreachable_turns_the_monitor_offline_and_keeps_messages_due() {
    let s = setup(vec![Answer::Fail(ConnectorError::Unreachable(
        "connection refused".into(),
    ))])
    .await;
    let k = add(&s.store, "Offline").await;
    let r = s.flusher.round().await.unwrap();
    assert_eq!((r.delivered, r.deferred), (0, 1));
    assert_eq!(s.monitor.state(), ConnectionState::Offline);
    let m = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(m.state, OutboxState::Pending);
    assert_eq!(m.attempts, 1);
    assert!(m.last_error.as_deref().unwrap().contains("unreachable"));
    assert!(
        m.next_attempt_at <= Utc::now(),
        "due again as soon as the CRM is back"
    );
    assert_eq!(
        s.store.customer(k).await.unwrap().unwrap().sync_state,
        SyncState::Pending
    );
}

#[tokio::test]
async fn busy_crm_delays_the_retry_by_at_least_retry_after() {
    let s = setup(vec![Answer::Fail(ConnectorError::Transient {
        reason: "HTTP 429".into(),
        retry_after: Some(Duration::from_secs(7)),
    })])
    .await;
    add(&s.store, "Busy").await;
    let before = Utc::now();
    s.flusher.round().await.unwrap();
    assert_eq!(
        s.monitor.state(),
        ConnectionState::Online,
        "a 429 proves the CRM is there"
    );
    let m = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(m.state, OutboxState::Pending);
    // Stored times have millisecond precision.
    assert!(
        m.next_attempt_at
            >= before + chrono::Duration::seconds(7) - chrono::Duration::milliseconds(1)
    );
    assert_eq!(
        s.flusher.round().await.unwrap().delivered,
        0,
        "not due before Retry-After"
    );
}

#[tokio::test]
async fn rejected_credentials_pause_the_queue_without_failing_anything() {
    let s = setup(vec![Answer::Fail(ConnectorError::Queue(
        QueueProblem::Unauthorized("HTTP 401".into()),
    ))])
    .await;
    let k = add(&s.store, "Paused").await;
    s.flusher.round().await.unwrap();
    assert_eq!(s.monitor.state(), ConnectionState::Unauthorized);
    let m = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(m.state, OutboxState::Pending);
    assert_eq!(
        s.store.customer(k).await.unwrap().unwrap().sync_state,
        SyncState::Pending
    );
    assert_eq!(s.store.status().await.unwrap().needs_attention, 0);
}

#[tokio::test]
async fn messages_left_in_flight_by_a_crash_are_due_again() {
    let s = setup(vec![]).await;
    add(&s.store, "Crash").await;
    let claimed = s.store.claim_due("crm", 10, Utc::now()).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // The process dies here. A new run recovers.
    assert_eq!(s.store.recover_in_flight().await.unwrap(), 1);
    assert_eq!(s.flusher.round().await.unwrap().delivered, 1);
}

#[tokio::test]
async fn the_running_flusher_delivers_as_soon_as_the_monitor_is_online() {
    let s = setup(vec![]).await;
    s.monitor
        .report_failure(&ConnectorError::Unreachable("down".into()));
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(s.flusher.clone().run(cancel.clone()));
    let k = add(&s.store, "Later").await;
    s.flusher.wake();
    tokio::task::yield_now().await;
    assert_eq!(
        s.store.customer(k).await.unwrap().unwrap().sync_state,
        SyncState::Pending
    );
    s.monitor.report_success();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.store.customer(k).await.unwrap().unwrap().sync_state != SyncState::Synced {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered after the monitor came online"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_refused_customer_can_be_corrected_and_resent_or_discarded() {
    let s = setup(vec![
        Answer::RejectLastName("Bad"),
        Answer::Ok,
        Answer::RejectLastName("Worse"),
    ])
    .await;
    let fixable = add(&s.store, "Bad").await;
    s.flusher.round().await.unwrap();
    assert_eq!(
        s.store.customer(fixable).await.unwrap().unwrap().sync_state,
        SyncState::NeedsAttention
    );

    // A person corrects the field the CRM named and resubmits.
    let fixed = s
        .store
        .update_unsent_customer(
            fixable,
            &NewCustomer {
                fields: CustomerFields {
                    last_name: Some("Fixed".into()),
                    phone: Some("+49 30 1234567".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(fixed.fields.last_name.as_deref(), Some("Fixed"));
    assert_eq!(
        s.store.search("fixed", 5).await.unwrap().len(),
        1,
        "the search index follows the edit"
    );
    assert!(s.store.search("bad", 5).await.unwrap().is_empty());
    s.store.retry_customer(fixable).await.unwrap();
    assert_eq!(s.flusher.round().await.unwrap().delivered, 1);
    let sent = s.fake.calls.lock().unwrap().last().unwrap().clone();
    assert_eq!(sent, vec![fixable], "the corrected customer was sent");
    assert!(
        s.store
            .update_unsent_customer(
                fixable,
                &NewCustomer {
                    fields: CustomerFields {
                        last_name: Some("Late".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                }
            )
            .await
            .is_err(),
        "a delivered customer is not edited locally"
    );

    // Another is a mistake: discarded after confirmation.
    let mistake = add(&s.store, "Worse").await;
    s.flusher.round().await.unwrap();
    s.store.discard_refused_customer(mistake).await.unwrap();
    assert!(s.store.customer(mistake).await.unwrap().is_none());
    assert!(s.store.search("worse", 5).await.unwrap().is_empty());
    let status = s.store.status().await.unwrap();
    assert_eq!((status.needs_attention, status.pending), (0, 0));
    // Queued or delivered customers cannot be discarded.
    assert!(s.store.discard_refused_customer(fixable).await.is_err());
}

/// Every event the store has sent since `rx` subscribed.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<StoreEvent>) -> Vec<StoreEvent> {
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    events
}

fn customer_events(events: &[StoreEvent]) -> Vec<CustomersChanged> {
    events
        .iter()
        .filter_map(|e| match e {
            StoreEvent::CustomersChanged(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_round_tells_its_customers_in_one_event() {
    let s = setup(vec![Answer::RejectLastName("Bad")]).await;
    let good1 = add(&s.store, "Good1").await;
    let bad = add(&s.store, "Bad").await;
    let good2 = add(&s.store, "Good2").await;
    let mut rx = s.store.subscribe();
    let r = s.flusher.round().await.unwrap();
    assert_eq!((r.delivered, r.rejected), (2, 1));
    let changed = customer_events(&drain(&mut rx));
    assert_eq!(changed.len(), 1, "one event for the round: {changed:?}");
    assert_eq!(changed[0].change, CustomerChange::Synced);
    let mut ids = changed[0].ids.clone();
    ids.sort();
    let mut expected = vec![good1, bad, good2];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn the_refused_field_is_kept_apart_until_the_customer_is_sent_again() {
    let s = setup(vec![Answer::RejectLastName("Bad")]).await;
    let bad = add(&s.store, "Bad").await;
    s.flusher.round().await.unwrap();
    let refused = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(refused.state, OutboxState::NeedsAttention);
    assert_eq!(refused.refused_field.as_deref(), Some("phone"));
    assert_eq!(
        refused.refusal_message.as_deref(),
        Some("Enter a valid phone number.")
    );
    // What people read (the CLI, the Sync screen) names the field, as before.
    assert_eq!(
        refused.last_error.as_deref(),
        Some("phone: Enter a valid phone number.")
    );

    // Fix and resend: the refusal is over, its words stay as the last error.
    s.store
        .update_unsent_customer(
            bad,
            &NewCustomer {
                fields: CustomerFields {
                    last_name: Some("Fixed".into()),
                    phone: Some("+49 30 1234567".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(s.store.retry_customer(bad).await.unwrap(), 1);
    let requeued = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(requeued.state, OutboxState::Pending);
    assert_eq!(requeued.refused_field, None);
    assert_eq!(requeued.refusal_message, None);
    assert_eq!(
        requeued.last_error.as_deref(),
        Some("phone: Enter a valid phone number.")
    );

    // Delivered: nothing of the refusal is left.
    assert_eq!(s.flusher.round().await.unwrap().delivered, 1);
    let sent = &s.store.outbox(None, 10).await.unwrap()[0];
    assert_eq!(sent.state, OutboxState::Sent);
    assert_eq!(
        (
            sent.refused_field.as_deref(),
            sent.refusal_message.as_deref(),
            sent.last_error.as_deref()
        ),
        (None, None, None)
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT refused_field FROM outbox WHERE customer_id = ?1")
            .bind(bad.to_string())
            .fetch_one(s.store.pool_for_tests())
            .await
            .unwrap();
    assert_eq!(stored, None);
}

#[tokio::test]
async fn a_round_records_all_its_outcomes_or_none() {
    let s = setup(vec![Answer::RejectLastName("Bad")]).await;
    let good = add(&s.store, "Good").await;
    let bad = add(&s.store, "Bad").await;
    // The round's last write (its audit entries) fails, as a full disk would.
    sqlx::query(
        "CREATE TRIGGER fail_audit BEFORE INSERT ON sync_audit
         BEGIN SELECT RAISE(ABORT, 'simulated audit failure'); END",
    )
    .execute(s.store.pool_for_tests())
    .await
    .unwrap();
    let mut rx = s.store.subscribe();
    let err = s.flusher.round().await.unwrap_err();
    assert!(err.to_string().contains("simulated audit failure"), "{err}");
    // Nothing of the round was recorded: both still in flight, as after a crash.
    let messages = s.store.outbox(None, 10).await.unwrap();
    assert!(
        messages.iter().all(|m| m.state == OutboxState::InFlight),
        "{messages:?}"
    );
    for k in [good, bad] {
        let c = s.store.customer(k).await.unwrap().unwrap();
        assert_eq!((c.sync_state, c.crm_id), (SyncState::Pending, None));
    }
    assert!(s.store.last_success("crm").await.unwrap().is_none());
    assert!(customer_events(&drain(&mut rx)).is_empty());

    sqlx::query("DROP TRIGGER fail_audit")
        .execute(s.store.pool_for_tests())
        .await
        .unwrap();
    assert_eq!(s.store.recover_in_flight().await.unwrap(), 2);
    let r = s.flusher.round().await.unwrap();
    assert_eq!((r.delivered, r.rejected), (2, 0), "resent, answered anew");
    assert!(s.store.last_success("crm").await.unwrap().is_some());
}
