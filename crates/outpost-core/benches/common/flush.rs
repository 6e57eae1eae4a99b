//! What the connector benches' flushes share: the customers they queue
//! and the emulator's requests they count.

use std::collections::BTreeMap;

use crm_emulator::{Emulator, StatsSnapshot};
use outpost_core::customer::CustomerFields;
use outpost_core::NewCustomer;

/// `n` customers to queue, each with a name, an email and a phone.
pub fn customers(n: usize) -> Vec<NewCustomer> {
    (0..n)
        .map(|i| NewCustomer {
            fields: CustomerFields {
                first_name: Some(format!("Flush{i}")),
                last_name: Some("Bench".into()),
                email: Some(format!("flush.{i}@example.com")),
                phone: Some(format!("+49 30 {:07}", i)),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect()
}

/// Requests per "label → outcome" since `before`.
pub fn requests_since(emu: &Emulator, before: &StatsSnapshot) -> BTreeMap<String, u64> {
    let now = emu.stats();
    let mut by_outcome = BTreeMap::new();
    for (label, outcomes) in &now.endpoints {
        for (outcome, &k) in outcomes {
            let was = before
                .endpoints
                .get(label)
                .and_then(|m| m.get(outcome))
                .copied()
                .unwrap_or(0);
            if k > was {
                *by_outcome
                    .entry(format!("{label} → {outcome}"))
                    .or_insert(0) += k - was;
            }
        }
    }
    by_outcome
}

/// With `OUTPOST_BENCH_TRACE` set, prints the emulator's request log (ms
/// from the first answer, label, outcome): where the time between
/// requests goes.
pub fn trace_requests(emu: &Emulator) {
    if std::env::var_os("OUTPOST_BENCH_TRACE").is_none() {
        return;
    }
    let log = emu.requests();
    let Some(t0) = log.first().map(|e| e.at) else {
        return;
    };
    for e in &log {
        eprintln!(
            "TRACE {:>6} {} {}",
            (e.at - t0).num_milliseconds(),
            e.endpoint,
            e.outcome
        );
    }
}
