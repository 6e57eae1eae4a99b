//! The scenarios, one module each, every one a `run(crm, local)` that any
//! connector's [`Crm`](crate::Crm) can drive. A scenario asks the connector
//! for what it needs first, so a skip costs nothing.

pub mod edits;
pub mod form;
pub mod limit;
pub mod lost_answers;
pub mod mapping;
pub mod offline;
pub mod portal;
pub mod pull;
pub mod refusal;
pub mod token;
pub mod truncated_answers;

use crate::{Crm, Skip};

/// Says loudly that a connector skipped a scenario, and why.
pub fn report<C: Crm>(scenario: &str, outcome: Result<(), Skip>) {
    match outcome {
        Ok(()) => {}
        Err(Skip::Cannot(why)) => {
            eprintln!(
                "SKIPPED {}/{scenario}: the connector cannot: {why}",
                C::NAME
            )
        }
    }
}
