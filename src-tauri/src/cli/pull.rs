//! `outpost pull [--endpoint NAME]`: one incremental working-set pull.

use outpost_core::Outpost;

use super::output::Output;
use crate::error::IpcError;

pub async fn run(app: &Outpost, endpoint: Option<String>, out: &Output) -> Result<(), IpcError> {
    let summary = app.pull_once(endpoint.as_deref()).await?;
    out.print(&summary, || {
        if let Some(holder) = &summary.other_deliverer {
            return format!(
                "{holder} (it pulls too): this run fetched nothing\n{} customers on this device",
                summary.total_local
            );
        }
        format!(
            "fetched {} changed customers ({} new, {} updated, {} linked to ones created here, {} with a local change kept)\n{} customers on this device",
            summary.fetched,
            summary.inserted,
            summary.updated,
            summary.linked,
            summary.conflicts,
            summary.total_local
        )
    });
    Ok(())
}
