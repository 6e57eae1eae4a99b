//! `outpost outbox list` and `outpost status`.

use clap::Subcommand;
use outpost_core::{OutboxState, Store};

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
}

fn parse_state(s: &str) -> Result<OutboxState, String> {
    OutboxState::parse(s)
        .ok_or_else(|| "expected one of pending, in-flight, needs-attention, sent".into())
}

pub async fn run(store: &Store, command: OutboxCommand, out: &Output) -> Result<(), IpcError> {
    match command {
        OutboxCommand::List { state, limit } => {
            let messages = store.outbox(state, limit).await?;
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
    }
    Ok(())
}

pub async fn status(store: &Store, out: &Output) -> Result<(), IpcError> {
    let s = store.status().await?;
    out.print(&s, || {
        format!(
            "CRM: {}\npending: {}\nin flight: {}\nneeds attention: {}\nsent: {}\ncustomers: {}",
            serde_json::to_value(s.connection)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
                .replace('_', " "),
            s.pending,
            s.in_flight,
            s.needs_attention,
            s.sent,
            s.customers
        )
    });
    Ok(())
}
