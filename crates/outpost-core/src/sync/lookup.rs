//! Lookup merged from the local store and, when it answers in time, the CRM.
//!
//! The local search answers at once; the CRM is asked in parallel with a
//! short deadline. Its results are stored (so they are found offline later)
//! and appended after the local ones, de-duplicated by Outpost's key and by
//! the CRM id. Offline, slow or failing, the CRM never turns a lookup into an
//! error: local results stand alone with a note saying why. An answer that
//! arrives after the deadline is still stored for the next search.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::crm::connector::CrmConnector;
use crate::crm::error::ConnectorError;
use crate::customer::{phone, Customer, CustomerId};
use crate::error::Result;
use crate::store::Store;

/// How long a lookup waits for the CRM before showing local results alone.
pub const DEADLINE: Duration = Duration::from_millis(1500);
/// Queries shorter than this are answered locally only (type-ahead noise).
const MIN_REMOTE_QUERY: usize = 2;
/// Phone numbers match on their last this-many digits (national and
/// international forms of one number share them).
const PHONE_TAIL: usize = 9;

/// What became of the CRM side of a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum RemoteLookup {
    /// The CRM answered in time with this many records.
    Answered {
        #[ts(type = "number")]
        count: u64,
    },
    /// Not asked: no CRM configured, a blank or one-letter query, or `--local`.
    NotAsked,
    /// The CRM is offline (known from the monitor, or the call failed).
    Offline,
    /// The CRM did not answer within the deadline.
    TimedOut,
    /// The CRM answered with an error (credentials, permissions...).
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Lookup {
    /// Local results first, then the CRM's that were not among them.
    pub customers: Vec<Customer>,
    /// The keys of `customers` that only the CRM returned.
    pub from_crm: Vec<CustomerId>,
    pub remote: RemoteLookup,
}

/// The CRM side of a lookup, when there is one to ask.
pub struct Remote {
    pub connector: Arc<dyn CrmConnector>,
    /// False when the monitor already knows the CRM is unreachable.
    pub online: bool,
}

/// Searches locally, and the CRM when `remote` is given and online.
pub async fn lookup(
    store: &Store,
    remote: Option<Remote>,
    query: &str,
    limit: u32,
    deadline: Duration,
) -> Result<Lookup> {
    // The local answer is taken first (it is instant), so the CRM's answer,
    // stored as it arrives, cannot reorder it.
    let mut customers = store.search(query, limit).await?;
    let asked = remote.filter(|_| query.trim().chars().count() >= MIN_REMOTE_QUERY);
    let pending = asked
        .as_ref()
        .filter(|r| r.online)
        .map(|r| spawn_remote_search(store.clone(), r.connector.clone(), query, limit));
    let (remote, found) = match (asked, pending) {
        (None, _) => (RemoteLookup::NotAsked, Vec::new()),
        (Some(_), None) => (RemoteLookup::Offline, Vec::new()),
        (Some(_), Some(task)) => match tokio::time::timeout(deadline, task).await {
            Err(_) => (RemoteLookup::TimedOut, Vec::new()),
            Ok(Err(join)) => (
                RemoteLookup::Failed {
                    reason: join.to_string(),
                },
                Vec::new(),
            ),
            Ok(Ok(Err(RemoteError::Connector(
                ConnectorError::Unreachable(_) | ConnectorError::Intercepted { .. },
            )))) => (RemoteLookup::Offline, Vec::new()),
            Ok(Ok(Err(e))) => (
                RemoteLookup::Failed {
                    reason: e.to_string(),
                },
                Vec::new(),
            ),
            Ok(Ok(Ok(found))) => (
                RemoteLookup::Answered {
                    count: found.len() as u64,
                },
                found,
            ),
        },
    };
    let mut from_crm = Vec::new();
    for c in found {
        let known = customers
            .iter()
            .any(|l| l.id == c.id || (l.crm_id.is_some() && l.crm_id == c.crm_id));
        if !known {
            from_crm.push(c.id);
            customers.push(c);
        }
    }
    Ok(Lookup {
        customers,
        from_crm,
        remote,
    })
}

#[derive(Debug, thiserror::Error)]
enum RemoteError {
    #[error(transparent)]
    Connector(ConnectorError),
    #[error(transparent)]
    Store(#[from] crate::error::Error),
}

/// Asks the CRM and stores what it returns. Runs as its own task, so an
/// answer that misses the deadline is still cached for the next lookup.
fn spawn_remote_search(
    store: Store,
    connector: Arc<dyn CrmConnector>,
    query: &str,
    limit: u32,
) -> tokio::task::JoinHandle<std::result::Result<Vec<Customer>, RemoteError>> {
    let query = query.trim().to_owned();
    tokio::spawn(async move {
        let items = connector
            .search(&query, limit as usize)
            .await
            .map_err(RemoteError::Connector)?;
        Ok(store.cache_remote(&items).await?)
    })
}

/// Customers that may be the one being created: the same email, or the same
/// phone number, here or (when `remote` answers in time) in the CRM. Numbers
/// are compared in E.164 where both sides have it ("0151 1234567" typed in
/// Germany is "+49 151 1234567"), else by their last digits.
pub async fn possible_duplicates(
    store: &Store,
    remote: Option<Remote>,
    email: Option<&str>,
    phone: Option<&str>,
    deadline: Duration,
) -> Result<Vec<Customer>> {
    let email = email
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.contains('@'));
    let digits = phone
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| d.len() >= 7);
    let e164 = phone.and_then(|p| phone::e164_lenient(p, store.default_region()));
    // Without an E.164 form on both sides, numbers are compared by their
    // last digits: "030 1234567" and "+49 30 1234567" are the same line.
    let tail = |d: &str| d[d.len().saturating_sub(PHONE_TAIL)..].to_owned();
    // (query, whether the CRM is asked too): the CRMs hold numbers as they
    // were typed, so they are asked by the last digits.
    let mut queries: Vec<(String, bool)> = Vec::new();
    queries.extend(email.clone().map(|e| (e, true)));
    queries.extend(e164.clone().map(|e| (e, false)));
    queries.extend(digits.as_deref().map(|d| (tail(d), true)));
    let mut found: Vec<Customer> = Vec::new();
    let same = |c: &Customer| {
        let same_email = email.is_some() && c.fields.email == email;
        let same_phone = match (&e164, &c.phone_e164) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => digits.as_deref().is_some_and(|d| {
                let theirs: String = c
                    .fields
                    .phone
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                let n = d.len().min(theirs.len()).min(PHONE_TAIL);
                n >= 7 && theirs[theirs.len() - n..] == d[d.len() - n..]
            }),
        };
        same_email || same_phone
    };
    let remote = remote.filter(|r| r.online);
    for (q, ask_crm) in queries {
        let r = remote.as_ref().filter(|_| ask_crm).map(|r| Remote {
            connector: r.connector.clone(),
            online: true,
        });
        let lookup = lookup(store, r, &q, 10, deadline).await?;
        for c in lookup.customers {
            if same(&c) && !found.iter().any(|f| f.id == c.id) {
                found.push(c);
            }
        }
    }
    Ok(found)
}
