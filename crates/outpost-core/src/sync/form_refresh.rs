//! Fetches the CRM's form metadata whenever the primary endpoint comes online
//! (and every few hours while it stays online), so the cached form is as fresh
//! as the last connection.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::monitor::Monitor;
use crate::crm::connector::CrmConnector;
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
        match connector.form().await {
            Ok(Some(form)) => {
                if let Err(e) = store.save_form_metadata(&endpoint, &form).await {
                    tracing::warn!(%endpoint, error = %e, "could not cache the CRM's form");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(%endpoint, error = %e, "could not fetch the CRM's form"),
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
