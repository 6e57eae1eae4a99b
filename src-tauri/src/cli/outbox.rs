//! `outpost outbox list` and `outpost status`.

use clap::Subcommand;
use outpost_core::{OutboxState, Outpost};

use super::output::Output;
use crate::error::IpcError;

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List outbox messages in delivery order.
    List {
        #[arg(long, value_parser = parse_state, value_name = "pending|in-flight|needs-attention|sent")]
        state: Option<OutboxState>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// Send a customer whose delivery needs attention again (after a fix).
    Retry {
        /// The customer's key.
        key: String,
    },
}

fn parse_state(s: &str) -> Result<OutboxState, String> {
    OutboxState::parse(s)
        .ok_or_else(|| "expected one of pending, in-flight, needs-attention, sent".into())
}

pub async fn run(app: &Outpost, command: OutboxCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        OutboxCommand::List { state, limit } => {
            let messages = app.outbox(state, Some(limit)).await?;
            out.print(&messages, || {
                messages
                    .iter()
                    .map(|m| {
                        format!(
                            "{:>6}  {}  {}  {}  attempts={}  next={}{}",
                            m.id,
                            m.customer_id,
                            m.kind,
                            m.state.as_str(),
                            m.attempts,
                            m.next_attempt_at.to_rfc3339(),
                            m.last_error
                                .as_deref()
                                .map(|e| format!("  error={e}"))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        OutboxCommand::Retry { key } => {
            let requeued = app.retry(&key).await?;
            #[derive(serde::Serialize)]
            struct Retried {
                requeued: u64,
            }
            out.print(&Retried { requeued }, || match requeued {
                0 => format!("{key} has nothing waiting for attention"),
                n => format!("{n} message(s) of {key} queued again"),
            });
        }
    }
    Ok(())
}

/// Counts from the store, with the primary CRM probed once for its state.
pub async fn status(app: &Outpost, out: &Output) -> Result<(), IpcError> {
    let s = app.status().await?;
    out.print(&s, || {
        let state = serde_json::to_value(s.connection)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
            .replace('_', " ");
        // Who answered instead of the CRM, in the window's words.
        let state = match (&s.interception, &s.last_error) {
            (Some(_), Some(why)) => format!("{state} — {why}"),
            _ => state,
        };
        format!(
            "CRM: {}\npending: {}\nin flight: {}\nneeds attention: {}\nsent: {}\ncustomers: {}\nconflicts: {}\ndeleted in the CRM: {}",
            state,
            s.pending,
            s.in_flight,
            s.needs_attention,
            s.sent,
            s.customers,
            s.conflicts.unwrap_or(0),
            s.deleted_in_crm.unwrap_or(0)
        )
    });
    Ok(())
}
