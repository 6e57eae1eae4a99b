//! The connector a delivering or pulling process uses: built from the
//! endpoint's settings, with what earlier processes on this device spent of
//! the CRM's budget, so a restart does not reset a device's daily share.

use std::sync::Arc;

use crate::crm::{self, ConnectorError, CrmConnector};
use crate::endpoint::secrets::SecretStore;
use crate::endpoint::EndpointConfig;
use crate::Store;

pub async fn build(
    store: &Store,
    config: &EndpointConfig,
    secrets: Arc<dyn SecretStore>,
) -> Result<Arc<dyn CrmConnector>, ConnectorError> {
    let connector = crm::build(config, secrets).await?;
    match store.device_usage(&config.name).await {
        Ok(usage) => connector.restore_device_usage(&usage),
        // The cap then counts from zero, as before it was kept: the CRM's
        // own budget still stops the device.
        Err(e) => {
            tracing::warn!(endpoint = %config.name, error = %e, "could not read this device's API usage")
        }
    }
    Ok(connector)
}
