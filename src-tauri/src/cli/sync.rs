//! `outpost sync --once`: deliver what is due to the primary CRM and report.

use outpost_core::Outpost;

use super::output::Output;
use crate::error::IpcError;

pub async fn once(app: &Outpost, out: &Output) -> Result<(), IpcError> {
    let report = app.sync_once().await?;
    out.print(&report, || {
        let counts = format!(
            "delivered: {}\nneeds attention: {}\nstill pending: {}",
            report.delivered, report.needs_attention, report.pending
        );
        match &report.other_deliverer {
            Some(holder) => format!("{holder}: this run sent nothing\n{counts}"),
            None => counts,
        }
    });
    Ok(())
}
