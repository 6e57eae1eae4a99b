//! Customers: create (with the online-only rule), search, lookup, the
//! duplicate check, one customer, edits, corrections and discarding.

use super::error::{AppError, AppResult};
use super::input::{duplicate_args, parse_key, search_args};
use super::{Mode, Outpost};
use crate::crm::form::FormMetadata;
use crate::customer::validation::CustomerCheck;
use crate::customer::{Customer, CustomerEdit, NewCustomer};
use crate::endpoint::{Connectivity, EndpointConfig};
use crate::error::Error;
use crate::status::ConnectionState;
use crate::sync::lookup::{self, Lookup};
use crate::sync::monitor::EndpointStatus;
use crate::sync::once::{cli_remote, probe_primary};

/// Whether a lookup may ask the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// This device only (`--local`).
    Local,
    /// This device, merged with the primary CRM's answer when it comes in time.
    WithCrm,
}

impl Outpost {
    /// Stores a customer and queues it for the CRM, unless the primary
    /// endpoint works online only and its CRM is unreachable.
    pub async fn create_customer(&self, input: &NewCustomer) -> AppResult<Customer> {
        self.check_can_create().await?;
        if matches!(self.mode, Mode::OneShot) {
            // The running engine keeps the primary's key generator current.
            crate::sync::once::use_primary_keys(&self.store).await?;
        }
        Ok(self.store.create_customer(input).await?)
    }

    /// What [`Outpost::create_customer`] would say about `input` (validation
    /// and the cached CRM form), storing nothing: the form's as-you-type check.
    pub async fn check_customer(&self, input: &NewCustomer) -> AppResult<CustomerCheck> {
        Ok(self.store.check_customer(input).await?)
    }

    /// Ranked search of this device; a blank query lists the most recent.
    pub async fn search(&self, query: &str, limit: Option<u32>) -> AppResult<Vec<Customer>> {
        let limit = search_args(query, limit)?;
        Ok(self.store.search(query, limit).await?)
    }

    /// Local results at once, merged with the primary CRM's when it answers
    /// within the lookup deadline.
    pub async fn lookup(&self, query: &str, limit: Option<u32>, reach: Reach) -> AppResult<Lookup> {
        let limit = search_args(query, limit)?;
        match (&self.mode, reach) {
            (Mode::Running(engine), Reach::WithCrm) => Ok(engine.lookup(query, limit).await?),
            (_, Reach::Local) => {
                Ok(lookup::lookup(&self.store, None, query, limit, lookup::DEADLINE).await?)
            }
            (Mode::OneShot, Reach::WithCrm) => {
                let remote = cli_remote(&self.store, self.secrets.clone()).await?;
                Ok(lookup::lookup(&self.store, remote, query, limit, lookup::DEADLINE).await?)
            }
        }
    }

    /// The create form's duplicate check: customers with this email or
    /// phone, here or in the primary CRM.
    pub async fn possible_duplicates(
        &self,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> AppResult<Vec<Customer>> {
        duplicate_args(email, phone)?;
        let found = match &self.mode {
            Mode::Running(engine) => engine.possible_duplicates(email, phone).await?,
            Mode::OneShot => {
                let remote = cli_remote(&self.store, self.secrets.clone()).await?;
                lookup::possible_duplicates(&self.store, remote, email, phone, lookup::DEADLINE)
                    .await?
            }
        };
        Ok(found)
    }

    pub async fn customer(&self, key: &str) -> AppResult<Customer> {
        let id = parse_key(key)?;
        self.store
            .customer(id)
            .await?
            .ok_or_else(|| Error::CustomerNotFound(key.to_owned()).into())
    }

    /// Corrects a customer the CRM has not accepted yet (e.g. the field it
    /// refused); the next delivery sends the corrected row.
    pub async fn update_unsent_customer(
        &self,
        key: &str,
        input: &NewCustomer,
    ) -> AppResult<Customer> {
        let id = parse_key(key)?;
        Ok(self.store.update_unsent_customer(id, input).await?)
    }

    /// Edits any customer (created here or pulled from the CRM): stored at
    /// once with its `customer.update` message (see `Store::edit_customer`),
    /// unless the primary endpoint works online only and its CRM is
    /// unreachable, as for a creation.
    pub async fn edit_customer(&self, key: &str, edit: &CustomerEdit) -> AppResult<Customer> {
        let id = parse_key(key)?;
        self.check_can_create().await?;
        Ok(self.store.edit_customer(id, edit).await?)
    }

    /// Gives up on a customer the CRM refused (after a person confirmed).
    pub async fn discard(&self, key: &str) -> AppResult<()> {
        let id = parse_key(key)?;
        // A customer deleted in the CRM is given up the same way.
        if let Some(c) = self.store.customer(id).await? {
            if c.crm_deleted_at.is_some() {
                return Ok(self.store.discard_deleted_customer(id).await?);
            }
        }
        Ok(self.store.discard_refused_customer(id).await?)
    }

    /// "Discard" for a customer deleted in the CRM: removed from this
    /// device with its unsent edit.
    pub async fn discard_deleted(&self, key: &str) -> AppResult<()> {
        let id = parse_key(key)?;
        Ok(self.store.discard_deleted_customer(id).await?)
    }

    /// "Create again as new" for a customer deleted in the CRM: a new
    /// customer with the same fields (and the unsent edit), queued as a
    /// creation; the old one goes.
    pub async fn recreate_deleted(&self, key: &str) -> AppResult<Customer> {
        let id = parse_key(key)?;
        if matches!(self.mode, Mode::OneShot) {
            crate::sync::once::use_primary_keys(&self.store).await?;
        }
        Ok(self.store.recreate_deleted_customer(id).await?)
    }

    /// The creation form: the CRM's cached metadata, or the built-in form.
    pub async fn form(&self) -> AppResult<FormMetadata> {
        Ok(self.store.current_form().await?)
    }

    /// The running engine knows the primary's state; one-shot, the CRM is
    /// probed, and only when the rule could refuse.
    async fn check_can_create(&self) -> AppResult<()> {
        let primary = match &self.mode {
            Mode::Running(engine) => engine.primary_status().await,
            Mode::OneShot => match self.primary_config().await? {
                Some(c) if c.connectivity == Connectivity::OnlineOnly => {
                    probe_primary(&self.store, self.secrets.clone()).await?
                }
                _ => None,
            },
        };
        match primary {
            Some((config, status)) => online_only(&config, &status),
            None => Ok(()),
        }
    }
}

/// Openbravo's online-only connectivity: no creation while the CRM is away.
fn online_only(config: &EndpointConfig, status: &EndpointStatus) -> AppResult<()> {
    if config.connectivity != Connectivity::OnlineOnly || status.state == ConnectionState::Online {
        return Ok(());
    }
    let why = status
        .last_error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    Err(AppError::refused(format!(
        "The CRM ({}) is unreachable and this till is set to work online only, so the customer was not saved{why}. Try again when the connection is back.",
        config.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn config(connectivity: Connectivity) -> EndpointConfig {
        EndpointConfig {
            name: "till".into(),
            kind: crate::endpoint::EndpointKind::GenericRest,
            base_url: "http://127.0.0.1:9".into(),
            connectivity,
            priority: 1,
            settings: Default::default(),
        }
    }

    fn status(state: ConnectionState, last_error: Option<&str>) -> EndpointStatus {
        EndpointStatus {
            endpoint: "till".into(),
            state,
            since: Utc::now(),
            last_error: last_error.map(str::to_owned),
            interception: None,
        }
    }

    #[test]
    fn online_only_refuses_unless_online_and_says_why() {
        let only = config(Connectivity::OnlineOnly);
        assert!(online_only(&only, &status(ConnectionState::Online, None)).is_ok());
        let e = online_only(
            &only,
            &status(ConnectionState::Offline, Some("cannot connect")),
        )
        .unwrap_err();
        assert!(matches!(e, AppError::Core(Error::Refused(_))));
        assert_eq!(
            e.to_string(),
            "The CRM (till) is unreachable and this till is set to work online only, so the customer was not saved (cannot connect). Try again when the connection is back."
        );
        assert!(online_only(&only, &status(ConnectionState::Unauthorized, None)).is_err());

        let queues = config(Connectivity::OnlineOffline);
        assert!(online_only(&queues, &status(ConnectionState::Offline, None)).is_ok());
    }
}
