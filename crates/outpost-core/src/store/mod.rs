//! The local SQLite store: one file, opened with explicit pragmas, migrated at
//! start-up, shared by the app and the CLI.

mod app_settings;
mod checkpoint;
mod conflicts;
mod customers;
mod deletions;
mod delivery;
mod device_usage;
mod edits;
mod endpoints;
mod form_cache;
mod indexer;
mod outbox;
mod phone_backfill;
mod probe;
pub(crate) mod time;
mod working_set;
mod writer;

pub use conflicts::{Conflict, Resolution};
pub use deletions::{DeletionsApplied, DeletionsState, DELETED_IN_CRM};
pub use delivery::{AuditEntry, Claimed, RoundOutcomes, UpdatedRecord};
pub use probe::APPLICATION_ID;
pub use working_set::{PullState, Reconciled, WorkingSet};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::customer::phone::Region;
use crate::customer::validation;
use crate::customer::{Customer, CustomerId, NewCustomer};
use crate::error::{Error, Result};
use crate::keys::{KeyGenerator, KeySource, UuidV7Keys};
use crate::outbox::{OutboxMessage, OutboxState, KIND_CUSTOMER_CREATE};
use crate::status::{ConnectionState, StatusSnapshot};
use writer::{WriteTx, Writer};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Something changed in the store, told once per transaction; the app turns
/// these into UI events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// Customers stored, changed or removed by one transaction (a create, an
    /// import, a flush round, a chunk of a pulled page).
    CustomersChanged(CustomersChanged),
    OutboxChanged,
    EndpointsChanged,
    /// Customers arrived from the CRM, or the pull's progress changed.
    WorkingSetChanged,
    /// The CRM's form metadata was fetched.
    FormChanged,
}

#[derive(Clone)]
pub struct StoreOptions {
    /// Readers run concurrently under WAL; SQLite has one writer at a time
    /// whatever the pool size, so a few connections are plenty.
    pub max_connections: u32,
    /// How long a writer waits for another writer before giving up.
    pub busy_timeout: Duration,
    pub keys: Arc<dyn KeyGenerator>,
    /// Index single creates in the background (see `indexer`). Off in tests
    /// that check what the search finds before the indexer has run.
    pub background_indexing: bool,
    /// The OS locale's region: the default region for phone numbers when
    /// none is set (see `app_settings`). Tests set it to be independent of
    /// the machine's `LANG`.
    pub locale_region: Option<Region>,
    /// Give stored phones their E.164 form in the background at open, when
    /// the default region changed since the last pass (`phone_backfill`).
    /// Off in tests that run the pass themselves.
    pub background_backfill: bool,
    /// Load libphonenumber's metadata in the background at open (about
    /// 0.1 s of CPU and 5 MB), so a one-shot command's first phone is read
    /// at once. The window leaves it to the first phone typed: the metadata
    /// would otherwise compete with WebKit for the CPU while the window
    /// paints, and stay in memory on a till that only looks customers up.
    pub warm_up_phones: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 4,
            busy_timeout: Duration::from_secs(5),
            keys: Arc::new(UuidV7Keys),
            background_indexing: true,
            locale_region: Region::from_os_locale(),
            background_backfill: true,
            warm_up_phones: true,
        }
    }
}

/// Which customers one transaction touched, and how: the window refreshes
/// just those rows when only their sync state moved, or searches again
/// (once) when what a search finds may have changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CustomersChanged {
    pub change: CustomerChange,
    pub ids: Vec<CustomerId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CustomerChange {
    /// Created on this device (one create or an import), their messages queued.
    Created,
    /// Received from the CRM: new on this device, or the CRM's newer fields.
    Received,
    /// Edited on this device (the edit form, `customers edit`, "Fix and
    /// resend"), their change queued.
    Edited,
    /// Removed from this device (a refused customer discarded, or one
    /// deleted in the CRM).
    Removed,
    /// Only where they stand with the CRM: delivered, refused, queued again,
    /// linked, or the CRM's version kept beside an unsent change.
    Synced,
}

/// Cheap to clone: all clones share one pool, one writer turn and one event
/// channel.
#[derive(Clone)]
pub struct Store {
    /// For reads; every write goes through `writer`.
    pool: SqlitePool,
    writer: Writer,
    path: PathBuf,
    keys: Arc<KeySource>,
    events: broadcast::Sender<StoreEvent>,
    /// The current creation form, read once and dropped when it may change.
    form: Arc<std::sync::RwLock<Option<crate::crm::form::FormMetadata>>>,
    /// Creates waiting for their search-index entries (see `indexer`).
    index_queue: Arc<indexer::IndexQueue>,
    /// The default region for phone numbers (see `app_settings`).
    regions: Arc<app_settings::Regions>,
}

impl Store {
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, StoreOptions::default()).await
    }

    pub async fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        // Before anything writes: a file that is not Outpost's stays as it is.
        probe::check(&path, &MIGRATOR).await?;
        create_private_file(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::StorageFull => Error::DiskFull,
            _ => Error::Open {
                path: path.display().to_string(),
                source,
            },
        })?;
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes under WAL; only a
            // power cut can lose the last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .optimize_on_close(true, None)
            // Checkpoints run in the background (see `checkpoint`), not inside
            // whichever create happens to cross the threshold: that kept
            // create latency's p99 at 5 ms instead of under 2.
            .pragma("wal_autocheckpoint", "0")
            // 16 MiB of page cache per connection (SQLite's default is 2 MiB):
            // the search indexes' interior pages stay cached at a million
            // customers, so an insert's index updates rarely read the file.
            .pragma("cache_size", "-16384");
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(1)
            .connect_with(connect)
            .await?;
        MIGRATOR.run(&pool).await?;
        checkpoint::spawn(pool.clone());
        let writer = Writer::new(pool.clone());
        let index_queue = Arc::new(indexer::IndexQueue::default());
        if options.background_indexing {
            indexer::spawn(pool.clone(), writer.clone(), index_queue.clone());
        }
        let (events, _) = broadcast::channel(256);
        let regions = Arc::new(app_settings::Regions::load(&pool, options.locale_region).await?);
        let store = Store {
            pool,
            writer,
            path,
            keys: Arc::new(KeySource::new(options.keys)),
            events,
            form: Default::default(),
            index_queue,
            regions,
        };
        if options.background_backfill {
            store.spawn_phone_backfill().await?;
        }
        if options.warm_up_phones {
            drop(tokio::task::spawn_blocking(crate::customer::phone::warm_up));
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every write transaction of the store: `BEGIN IMMEDIATE` in this
    /// process's writer turn (see `writer`).
    async fn write_tx(&self) -> Result<WriteTx> {
        self.writer.begin().await
    }

    /// Keys for new customers from this generator (the primary endpoint's
    /// connector supplies it), or from the default again with `None`.
    pub fn use_key_generator(&self, keys: Option<Arc<dyn KeyGenerator>>) {
        self.keys.set(keys);
    }

    /// Tests and benches only: the pool itself, for SQL around the store's
    /// rules (injected faults, index internals). The app and the CLI never
    /// use it; writes through it bypass the writer turn.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &SqlitePool {
        &self.pool
    }

    /// Tells listeners about customers one transaction touched (none: nothing).
    fn customers_changed(&self, change: CustomerChange, ids: Vec<CustomerId>) {
        if !ids.is_empty() {
            // Nobody listening is fine: the CLI has no subscribers.
            let _ = self
                .events
                .send(StoreEvent::CustomersChanged(CustomersChanged {
                    change,
                    ids,
                }));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StoreEvent> {
        self.events.subscribe()
    }

    /// What [`Store::create_customer`] would say about `input`, storing
    /// nothing: the create form's as-you-type check.
    pub async fn check_customer(&self, input: &NewCustomer) -> Result<validation::CustomerCheck> {
        let form = self.current_form().await?;
        Ok(validation::CustomerCheck::of(validation::check(
            input,
            &form,
            self.default_region(),
        )))
    }

    /// Validates, then stores the customer and its `customer.create` outbox
    /// message in one transaction: both or neither.
    pub async fn create_customer(&self, input: &NewCustomer) -> Result<Customer> {
        let valid = validation::check(input, &self.current_form().await?, self.default_region())?;
        let id = self.keys.generate();
        let now = time::now();
        let mut write = self.writer.connection().await?;
        let customer = customers::create_with_message(
            &mut write.conn,
            id,
            &valid,
            now,
            KIND_CUSTOMER_CREATE,
            |c| serde_json::to_string(c).expect("a customer always serializes"),
        )
        .await?;
        drop(write);
        self.index_queue.queued();
        self.customers_changed(CustomerChange::Created, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        tracing::info!(customer = %id, "customer created and queued for the CRM");
        Ok(customer)
    }

    /// Creates many customers in one transaction (imports, seeding): each is
    /// validated first, and one invalid input stores none of them.
    pub async fn create_customers(&self, inputs: &[NewCustomer]) -> Result<Vec<CustomerId>> {
        let region = self.default_region();
        let valid = inputs
            .iter()
            .map(|i| validation::validate(i, region))
            .collect::<Result<Vec<_>, _>>()?;
        let now = time::now();
        let mut ids = Vec::with_capacity(valid.len());
        let mut tx = self.write_tx().await?;
        for v in &valid {
            let id = self.keys.generate();
            let customer = customers::insert(&mut tx, id, v, now, Default::default()).await?;
            let payload = serde_json::to_value(&customer).expect("a customer always serializes");
            outbox::enqueue(&mut tx, id, KIND_CUSTOMER_CREATE, &payload, now).await?;
            ids.push(id);
        }
        tx.commit().await?;
        self.customers_changed(CustomerChange::Created, ids.clone());
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(ids)
    }

    /// Corrects a customer the CRM has not accepted yet (pending, or refused
    /// and waiting for attention): the next delivery sends the corrected row.
    /// A customer already in the CRM is refused: editing synced customers
    /// needs an update message, which this version does not send.
    pub async fn update_unsent_customer(
        &self,
        id: CustomerId,
        input: &NewCustomer,
    ) -> Result<Customer> {
        let valid = validation::validate(input, self.default_region())?;
        let mut tx = self.write_tx().await?;
        if outbox::any_sent(&mut tx, id).await? {
            return Err(Error::Refused(
                "This customer is already in the CRM; change it there (editing synced customers comes in a later version)."
                    .into(),
            ));
        }
        let customer = customers::update(&mut tx, id, &valid, time::now())
            .await?
            .ok_or_else(|| Error::CustomerNotFound(id.to_string()))?;
        tx.commit().await?;
        self.customers_changed(CustomerChange::Edited, vec![id]);
        Ok(customer)
    }

    /// Gives up on delivering a customer the CRM refused: after a person
    /// confirmed it, the customer and its undelivered messages are removed
    /// from this device (the CRM never had it).
    pub async fn discard_refused_customer(&self, id: CustomerId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let states = outbox::states_of(&mut tx, id).await?;
        if states.is_empty() && customers::get(&mut *tx, id).await?.is_none() {
            return Err(Error::CustomerNotFound(id.to_string()));
        }
        if states.iter().any(|s| *s != OutboxState::NeedsAttention) {
            return Err(Error::Refused(
                "Only a customer the CRM refused can be discarded; this one is queued or already delivered.".into(),
            ));
        }
        outbox::delete_of(&mut tx, id).await?;
        customers::delete(&mut tx, id).await?;
        tx.commit().await?;
        tracing::info!(customer = %id, "refused customer discarded by a person");
        self.customers_changed(CustomerChange::Removed, vec![id]);
        let _ = self.events.send(StoreEvent::OutboxChanged);
        Ok(())
    }

    pub async fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        customers::get(&self.pool, id).await
    }

    /// The customer a CRM record is linked to, if any.
    pub async fn customer_by_crm_id(&self, crm_id: &str) -> Result<Option<Customer>> {
        let mut conn = self.pool.acquire().await?;
        customers::get_by_crm_id(&mut conn, crm_id).await
    }

    /// Ranked type-ahead search; a blank query lists the most recent customers.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Customer>> {
        customers::search(
            &self.pool,
            query,
            limit.clamp(1, 500),
            self.default_region(),
        )
        .await
    }

    pub async fn outbox(
        &self,
        state: Option<OutboxState>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        outbox::list(&self.pool, state, limit).await
    }

    pub async fn status(&self) -> Result<StatusSnapshot> {
        let counts = outbox::counts(&self.pool).await?;
        let count = |s: OutboxState| {
            counts
                .iter()
                .find(|(st, _)| *st == s)
                .map_or(0, |(_, n)| *n)
        };
        let customers: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
            .fetch_one(&self.pool)
            .await?;
        Ok(StatusSnapshot {
            pending: count(OutboxState::Pending) + count(OutboxState::InFlight),
            in_flight: count(OutboxState::InFlight),
            needs_attention: count(OutboxState::NeedsAttention),
            sent: count(OutboxState::Sent),
            customers: customers as u64,
            connection: ConnectionState::NotConfigured,
            last_success_at: None,
            last_error: None,
            interception: None,
            other_deliverer: None,
            conflicts: Some(self.conflict_count().await?),
            deleted_in_crm: Some(self.deleted_in_crm_count().await?),
            api_budget: None,
        })
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM app_settings WHERE key = ?1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO app_settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Indexes the customers created here or by another process that the
    /// background indexer has not reached yet (they are found meanwhile, by a
    /// scan of the short queue).
    pub async fn flush_search_index(&self) -> Result<()> {
        self.index_queue.drain(&self.pool, &self.writer).await
    }

    /// How many customers wait for their search-index entries.
    pub async fn unindexed_customers(&self) -> Result<u64> {
        customers::queued_for_index(&self.pool).await
    }

    /// Indexes what is still queued, then closes every connection,
    /// checkpointing the WAL: a CLI process leaves a fully indexed store.
    pub async fn close(&self) {
        if !self.pool.is_closed() {
            if let Err(e) = self.flush_search_index().await {
                tracing::warn!(error = %e, "search indexing before close failed; the next start does it");
            }
        }
        self.pool.close().await;
    }
}

/// Creates the database file (and its directory) readable by the owner only,
/// before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    Ok(())
}
