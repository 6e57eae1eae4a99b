//! `outpost pull [--endpoint NAME]`: one incremental working-set pull.

use outpost_core::Outpost;

use super::output::Output;
use crate::error::IpcError;

pub async fn run(app: &Outpost, endpoint: Option<String>, out: &Output) -> Result<(), IpcError> {
    let summary = app.pull_once(endpoint.as_deref()).await?;
    out.print(&summary, || {
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
