//! One conformance suite for every connector. Each scenario is written once
//! (`scenarios/`, one module each) against the [`Crm`] trait; each connector
//! implements it for its server (`connectors/`: the CRM emulator in-process
//! for generic REST and HubSpot, the real BottleCRM server behind a fault
//! proxy) and answers [`Skip`] where it cannot do a scenario, with the
//! reason. `conformance!` stamps every scenario for every connector:
//! `cargo test -p outpost-core --test conformance hubspot::` runs one CRM.
//!
//! Adding a connector: a module in `connectors/` implementing `Crm`, and one
//! line below.

#[path = "../common/mod.rs"]
mod common;
mod connectors;
mod crm;
mod scenarios;

pub(crate) use crm::{Crm, Skip};

/// Every scenario, as `test name => scenario module`.
macro_rules! scenarios {
    ($crm:ty) => {
        scenario!($crm, customers_created_offline_arrive_exactly_once, offline);
        scenario!(
            $crm,
            lost_answers_after_commit_never_duplicate,
            lost_answers
        );
        scenario!($crm, truncated_answers_never_duplicate, truncated_answers);
        scenario!(
            $crm,
            the_limit_answer_is_honoured_and_nothing_dropped,
            limit
        );
        scenario!(
            $crm,
            an_expired_token_is_renewed_and_the_queue_continues,
            token
        );
        scenario!($crm, one_refused_record_holds_up_no_other, refusal);
        scenario!($crm, a_pull_cut_off_mid_pass_resumes_where_it_stopped, pull);
        scenario!($crm, the_form_is_cached_and_enforced_offline, form);
        scenario!($crm, a_custom_field_mapping_travels_both_ways, mapping);
        scenario!(
            $crm,
            edits_merge_per_field_and_conflicts_wait_for_a_person,
            edits
        );
        scenario!(
            $crm,
            a_captive_portal_is_intercepted_and_nothing_is_believed,
            portal
        );
    };
}

macro_rules! scenario {
    ($crm:ty, $test:ident, $module:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            // `None`: this machine cannot run the CRM; `start` said so loudly.
            let Some(crm) = <$crm as $crate::Crm>::start().await else {
                return;
            };
            let local = $crate::common::Local::new().await;
            let outcome = $crate::scenarios::$module::run(&crm, &local).await;
            $crate::scenarios::report::<$crm>(stringify!($module), outcome);
        }
    };
}

macro_rules! conformance {
    ($($connector:ident => $crm:ty),+ $(,)?) => {$(
        mod $connector {
            scenarios!($crm);
        }
    )+};
}

conformance! {
    generic_rest => crate::connectors::generic_rest::GenericRest,
    hubspot => crate::connectors::hubspot::HubSpot,
    bottlecrm => crate::connectors::bottlecrm::BottleCrm,
    salesforce => crate::connectors::salesforce::Salesforce,
    dynamics => crate::connectors::dynamics::Dynamics,
    zoho => crate::connectors::zoho::Zoho,
}
