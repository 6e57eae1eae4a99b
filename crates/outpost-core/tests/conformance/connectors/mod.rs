//! One module per connector, each implementing [`Crm`](crate::Crm) for its
//! server.

pub mod bottlecrm;
pub mod generic_rest;
pub mod hubspot;

use std::collections::HashMap;

use crm_emulator::Emulator;

/// The emulator's records per Outpost key (REST path key, HubSpot `outpost_key`).
pub fn emulated_records_per_key(emu: &Emulator) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    for r in emu.records() {
        if let Some(k) = r.key {
            *per.entry(k).or_default() += 1;
        }
    }
    per
}
