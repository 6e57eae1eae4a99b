//! The CRM stores a write and its success answer arrives cut short (status
//! and headers, half the body): the connector cannot read it, tries again,
//! and the CRM still holds one record.

use crm_emulator::Faults;

use super::lost_answers::deliver_through;
use crate::common::Local;
use crate::{Crm, Skip};

pub async fn run<C: Crm>(crm: &C, local: &Local) -> Result<(), Skip> {
    deliver_through(
        crm,
        local,
        Faults {
            truncate_body_rate: 0.2,
            seed: Some(11),
            ..Faults::default()
        },
        "truncated_body",
        "Truncated",
    )
    .await;
    Ok(())
}
