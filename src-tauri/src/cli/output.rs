//! Printing results for people or for scripts.

use std::process::ExitCode;

use outpost_core::Customer;
use serde::Serialize;

use crate::error::IpcError;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or `human` for a person.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("output serializes")
            );
        } else {
            let text = human();
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }

    pub fn fail(&self, e: &IpcError) -> ExitCode {
        if self.json {
            eprintln!("{}", serde_json::to_string(e).expect("errors serialize"));
        } else {
            eprintln!("error: {}", e.message);
        }
        ExitCode::from(e.exit_code())
    }
}

/// One line per customer: key, name, company, email, phone, sync state.
pub fn customer_line(c: &Customer) -> String {
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "{}  {}  {}  {}  {}  {}",
        c.id,
        c.display_name(),
        cell(&c.company),
        cell(&c.email),
        cell(&c.phone),
        c.sync_state.as_str()
    )
}

pub fn customer_details(c: &Customer) -> String {
    let rows: [(&str, Option<String>); 16] = [
        ("key", Some(c.id.to_string())),
        ("first name", c.first_name.clone()),
        ("last name", c.last_name.clone()),
        ("company", c.company.clone()),
        ("email", c.email.clone()),
        ("phone", c.phone.clone()),
        ("street", c.street.clone()),
        ("postal code", c.postal_code.clone()),
        ("city", c.city.clone()),
        ("country", c.country.clone()),
        ("tax id", c.tax_id.clone()),
        ("notes", c.notes.clone()),
        ("crm id", c.crm_id.clone()),
        ("sync state", Some(c.sync_state.as_str().to_owned())),
        ("created", Some(c.created_at.to_rfc3339())),
        ("updated", Some(c.updated_at.to_rfc3339())),
    ];
    rows.iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k:>12}: {v}")))
        .collect::<Vec<_>>()
        .join("\n")
}
