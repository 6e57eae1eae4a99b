//! An incremental pull cut off by an outage resumes at the first page it
//! had not stored: nothing is fetched twice, nothing is missed.

use crm_emulator::{ErrorKind, Faults};
use outpost_core::crm;
use outpost_core::crm::error::ConnectorError;
use outpost_core::sync::pull::{pull_pass, PullError, PullReport, PullScope};

use crate::common::Local;
use crate::crm::connect;
use crate::{Crm, Skip};

async fn local_count(local: &Local) -> u64 {
    local
        .store
        .working_set(Some("crm"))
        .await
        .unwrap()
        .total_local
}

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    crm.seed(crm.pull_size()).await;
    let total = crm.total_records().await as u64;
    let settings = crm.sign_in(&*local.secrets).await;
    connect(crm, local, settings).await;
    let config = local.store.endpoint("crm").await.unwrap().unwrap();
    let connector = crm::build(&config, local.secrets.clone()).await.unwrap();

    // The connection drops for good after the second page is stored (the
    // third, requested while the second was stored, has already arrived).
    let cut = |r: &PullReport| {
        if r.pages == 2 {
            crm.set_faults(Faults {
                error_rate: 1.0,
                error_kinds: vec![ErrorKind::Reset],
                ..Faults::default()
            });
        }
    };
    let err = pull_pass(
        &local.store,
        connector.as_ref(),
        "crm",
        PullScope::default(),
        &cut,
    )
    .await
    .unwrap_err();
    let PullError::Connector { error, report } = err else {
        panic!("expected a connector error")
    };
    assert!(matches!(error, ConnectorError::Unreachable(_)), "{error}");
    assert_eq!(report.fetched, 3 * crm.pull_page() as u64);
    let state = local.store.pull_state("crm").await.unwrap();
    assert!(state.in_pass() && state.cursor.is_some());
    assert!(state.last_error.is_some());
    assert_eq!(local_count(local).await, report.fetched);

    crm.set_faults(Faults::default());
    let resumed = pull_pass(
        &local.store,
        connector.as_ref(),
        "crm",
        PullScope::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        resumed.fetched,
        total - report.fetched,
        "only the pages not stored yet"
    );
    assert_eq!(local_count(local).await, total);
    let state = local.store.pull_state("crm").await.unwrap();
    assert!(!state.in_pass() && state.last_error.is_none());
    Ok(())
}
