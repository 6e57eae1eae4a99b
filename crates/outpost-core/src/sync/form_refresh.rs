//! Fetches the CRM's form metadata and field list whenever the primary
//! endpoint comes online (and every few hours while it stays online), so the
//! cached form is as fresh as the last connection, and a mapped field the CRM
//! no longer has is reported then (in the log, in Settings and in `outpost
//! endpoints test`), not when customers start bouncing.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::monitor::Monitor;
use crate::crm::connector::CrmConnector;
use crate::crm::field_check;
use crate::status::ConnectionState;
use crate::store::Store;

const REFRESH: Duration = Duration::from_secs(6 * 3600);

pub async fn run(
    endpoint: String,
    store: Store,
    connector: Arc<dyn CrmConnector>,
    monitor: Arc<Monitor>,
    cancel: CancellationToken,
) {
    let mut status = monitor.subscribe();
    loop {
        while monitor.state() != ConnectionState::Online {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = status.changed() => if changed.is_err() { return },
            }
        }
        if let Err(e) = fetch_and_cache(&store, &endpoint, connector.as_ref()).await {
            tracing::warn!(%endpoint, error = %e, "could not cache the CRM's form");
        }
        // Again after a while, or after the next outage ends.
        let went_offline = async {
            loop {
                if status.changed().await.is_err() {
                    return;
                }
                if monitor.state() != ConnectionState::Online {
                    return;
                }
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(REFRESH) => {}
            _ = went_offline => {}
        }
    }
}

/// Fetches the CRM's form and field list and caches them, then logs what of
/// the endpoint's field map does not fit the list. A CRM that does not
/// answer is logged and leaves the cache as it was; a field list that could
/// not be fetched keeps the one cached before.
pub async fn fetch_and_cache(
    store: &Store,
    endpoint: &str,
    connector: &dyn CrmConnector,
) -> crate::error::Result<()> {
    let form = match connector.form().await {
        Ok(form) => form,
        Err(e) => {
            tracing::warn!(%endpoint, error = %e, "could not fetch the CRM's form");
            return Ok(());
        }
    };
    let fields = match connector.fields().await {
        Ok(fields) => fields,
        Err(e) => {
            tracing::warn!(%endpoint, error = %e, "could not fetch the CRM's field list");
            store.cached_field_list(endpoint).await?.map(|(_, f)| f)
        }
    };
    if form.is_none() && fields.is_none() {
        return Ok(());
    }
    store
        .save_crm_metadata(endpoint, &form.unwrap_or_default(), fields.as_ref())
        .await?;
    if let (Some(config), Some(fields)) = (store.endpoint(endpoint).await?, &fields) {
        let map = crate::crm::field_map(&config);
        for p in field_check::check(&map, &config.settings.form_extra, fields) {
            tracing::warn!(%endpoint, subject = %p.subject, "field map: {}", p.message);
        }
    }
    Ok(())
}
