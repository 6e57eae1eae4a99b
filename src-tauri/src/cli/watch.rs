//! `outpost sync --watch`: the sync engine without a window (kiosks,
//! back-office machines, a systemd user service). Runs the monitor, the
//! flusher and the working-set pull until SIGTERM or Ctrl-C, then stops
//! within [`STOP_TIMEOUT`] and exits 0. Logs go to stderr; stdout gets one
//! line per state change (`--json`: one JSON object per line, see README).

use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use outpost_core::endpoint::secrets::KeyringSecrets;
use outpost_core::status::StatusSnapshot;
use outpost_core::{Outpost, Store};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::output::{emit, Output};
use crate::error::IpcError;

/// How long a stop waits for requests in flight to finish and be recorded;
/// what is still being sent then stays in flight and is recovered by the
/// next deliverer.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// One line of `sync --watch --json`. Names are part of the CLI contract.
#[derive(Debug, Serialize)]
struct WatchLine<'a> {
    /// `started`, `changed` or `stopped`.
    event: &'a str,
    /// When the line was written (RFC 3339, UTC).
    at: String,
    /// Whether this process holds the delivery lease (delivers and pulls).
    delivering: bool,
    #[serde(flatten)]
    status: &'a StatusSnapshot,
}

/// Runs the engine until `stop` (from [`stop_requested`], made before the
/// database was opened, so a signal that came meanwhile counts) completes.
pub async fn run(
    store: Store,
    stop: impl std::future::Future<Output = ()>,
    out: &Output,
) -> Result<(), IpcError> {
    let app = Outpost::start(store, Arc::new(KeyringSecrets::default())).await?;
    tracing::info!(db = %app.store().path().display(), "sync service started");
    let mut signals = app
        .status_signals()
        .expect("a started app has a running engine");
    tokio::pin!(stop);
    let mut last = None;
    report(&app, "started", &mut last, out).await;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            signal = signals.recv() => match signal {
                Ok(()) | Err(RecvError::Lagged(_)) => {
                    // Several changes at once are one line.
                    while signals.try_recv().is_ok() {}
                    report(&app, "changed", &mut last, out).await;
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    tracing::info!("stopping: requests in flight finish or are left for recovery");
    app.stop(STOP_TIMEOUT).await;
    last = None;
    report(&app, "stopped", &mut last, out).await;
    app.close().await;
    tracing::info!("sync service stopped");
    Ok(())
}

/// Prints a line when the status differs from the last one printed.
async fn report(app: &Outpost, event: &str, last: &mut Option<StatusSnapshot>, out: &Output) {
    let status = match app.status().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "the status could not be read");
            return;
        }
    };
    if last.as_ref() == Some(&status) {
        return;
    }
    let line = WatchLine {
        event,
        at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        delivering: app.delivers(),
        status: &status,
    };
    if out.json {
        emit(&serde_json::to_string(&line).expect("a status serializes"));
    } else {
        emit(&human(&line));
    }
    *last = Some(status);
}

fn human(line: &WatchLine<'_>) -> String {
    let s = line.status;
    let connection = serde_json::to_value(s.connection)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let who = match &s.other_deliverer {
        Some(holder) => holder.clone(),
        None => "this process delivers".to_owned(),
    };
    format!(
        "{} {}: CRM {connection}; pending {}, in flight {}, needs attention {}, sent {}; {who}",
        line.at, line.event, s.pending, s.in_flight, s.needs_attention, s.sent
    )
}

/// SIGTERM (systemd's stop) or Ctrl-C. The handlers are installed before
/// this returns, so a signal that comes before the future is first polled
/// (while the database opens, the engine starts) counts.
#[cfg(unix)]
pub(super) fn stop_requested() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "signals cannot be caught; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(not(unix))]
pub(super) fn stop_requested() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
