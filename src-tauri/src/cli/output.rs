//! Printing results for people or for scripts.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use outpost_core::customer::Field;
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
            emit(&serde_json::to_string_pretty(value).expect("output serializes"));
        } else {
            let text = human();
            if !text.is_empty() {
                emit(&text);
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

/// Writes one line to stdout. A reader that closed the pipe early
/// (`outpost status | head -1`) wants no more: the command's work is done
/// (output comes last), so it ends quietly instead of panicking as
/// `println!` does.
pub fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        panic!("writing to stdout: {e}");
    }
}

/// One line per customer: key, name, company, email, phone, sync state.
pub fn customer_line(c: &Customer) -> String {
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let f = &c.fields;
    let line = format!(
        "{}  {}  {}  {}  {}  {}",
        c.id,
        c.display_name(),
        cell(&f.company),
        cell(&f.email),
        cell(&f.phone),
        c.sync_state.as_str()
    );
    if c.crm_deleted_at.is_some() {
        format!("{line}  (deleted in the CRM)")
    } else {
        line
    }
}

pub fn customer_details(c: &Customer) -> String {
    let fields = Field::ALL.iter().map(|f| {
        (
            f.spec().label.to_lowercase(),
            c.fields.get(*f).map(str::to_owned),
        )
    });
    let rows: Vec<(String, Option<String>)> = [("key".to_owned(), Some(c.id.to_string()))]
        .into_iter()
        .chain(fields)
        .chain([
            ("crm id".to_owned(), c.crm_id.clone()),
            (
                "sync state".to_owned(),
                Some(c.sync_state.as_str().to_owned()),
            ),
            (
                "edit".to_owned(),
                c.pending_edit.then(|| "edited, not yet sent".to_owned()),
            ),
            (
                "in the crm".to_owned(),
                c.crm_deleted_at
                    .map(|t| format!("deleted in the CRM ({})", t.to_rfc3339())),
            ),
            ("created".to_owned(), Some(c.created_at.to_rfc3339())),
            ("updated".to_owned(), Some(c.updated_at.to_rfc3339())),
        ])
        .collect();
    rows.iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k:>12}: {v}")))
        .collect::<Vec<_>>()
        .join("\n")
}
