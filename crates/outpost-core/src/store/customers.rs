//! Customer rows and their full-text index entries.

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};

use std::sync::LazyLock;

use sqlx::sqlite::SqliteRow;

use super::time;
use crate::customer::phone::Region;
use crate::customer::validation::ValidCustomer;
use crate::customer::{Attributes, Customer, CustomerFields, CustomerId, Field, Origin, SyncState};
use crate::error::{Error, Result};
use crate::search::{self, SearchFields, Tier};

/// The customer fields' columns, in [`Field::ALL`] order.
fn field_columns() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns a [`Customer`] is read from besides its key and fields.
const OTHER_COLUMNS: [&str; 11] = [
    "phone_e164",
    "crm_id",
    "sync_state",
    "created_at",
    "updated_at",
    "origin",
    "attributes",
    "crm_updated_at",
    "crm_version",
    "crm_version_tag",
    "crm_deleted_at",
];

/// Whether an edit of the customer in `table` waits for delivery: derived
/// from the outbox, so the badge can never disagree with the queue.
fn pending_edit(table: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM outbox pe WHERE pe.customer_id = {table}.id AND pe.kind = '{}'
                 AND pe.state != 'sent') AS pending_edit",
        crate::outbox::KIND_CUSTOMER_UPDATE
    )
}

/// The columns a [`Customer`] is read from.
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "id, {}, {}, {}",
        field_columns(),
        OTHER_COLUMNS.join(", "),
        pending_edit("customers")
    )
});

/// [`COLUMNS`] of the customers table under `alias` in a join, named as
/// [`CustomerRow`] reads them.
pub(super) fn columns_of(alias: &str) -> String {
    std::iter::once("id")
        .chain(Field::ALL.iter().map(|f| f.name()))
        .chain(OTHER_COLUMNS)
        .map(|c| format!("{alias}.{c} AS {c}"))
        .chain([pending_edit(alias)])
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parameter numbers of [`INSERT_CUSTOMER`]: the key is ?1 and the fields
/// follow in [`Field::ALL`] order; these come after them.
mod param {
    use crate::customer::Field;
    const FIELDS: usize = Field::ALL.len();
    pub const PHONE_DIGITS: usize = FIELDS + 2;
    pub const PHONE_E164: usize = FIELDS + 3;
    pub const STAMP: usize = FIELDS + 4;
    pub const SYNC_STATE: usize = FIELDS + 5;
    pub const ORIGIN: usize = FIELDS + 6;
    pub const ATTRIBUTES: usize = FIELDS + 7;
    pub const CRM_ID: usize = FIELDS + 8;
    pub const CRM_UPDATED_AT: usize = FIELDS + 9;
    /// The outbox message's kind and payload (a create only).
    pub const KIND: usize = FIELDS + 10;
    pub const PAYLOAD: usize = FIELDS + 11;
    /// An edit's batch (`commit_edit`): after `UPDATE_CUSTOMER_ROW`'s
    /// parameters (the stamp, then the attributes at STAMP + 1), the row's
    /// seq, the kind of a new update, then each message write's id and
    /// payload.
    pub const SEQ: usize = STAMP + 2;
    pub const UPDATE_KIND: usize = STAMP + 3;
    pub const WRITES: usize = STAMP + 4;
}

fn field_params() -> String {
    (2..2 + Field::ALL.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

static INSERT_CUSTOMER: LazyLock<String> = LazyLock::new(|| {
    use param::*;
    format!(
        "INSERT INTO customers (id, {}, phone_digits, phone_e164, sync_state, created_at, updated_at,
                                origin, attributes, crm_id, crm_updated_at)
         VALUES (?1, {}, ?{PHONE_DIGITS}, ?{PHONE_E164}, ?{SYNC_STATE}, ?{STAMP}, ?{STAMP}, ?{ORIGIN},
                 ?{ATTRIBUTES}, ?{CRM_ID}, ?{CRM_UPDATED_AT})",
        field_columns(),
        field_params()
    )
});

static UPDATE_CUSTOMER: LazyLock<String> =
    LazyLock::new(|| format!("{} RETURNING seq", *UPDATE_CUSTOMER_ROW));

/// Rewrites the row of the customer whose key is ?1 (parameters bound by
/// [`bind_fields`], then the stamp and the attributes).
static UPDATE_CUSTOMER_ROW: LazyLock<String> = LazyLock::new(|| {
    use param::*;
    let sets: Vec<String> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} = ?{}", f.name(), i + 2))
        .collect();
    format!(
        "UPDATE customers SET {}, phone_digits = ?{PHONE_DIGITS}, phone_e164 = ?{PHONE_E164},
                updated_at = ?{STAMP},
                attributes = ?{}
         WHERE id = ?1",
        sets.join(", "),
        STAMP + 1
    )
});

/// The create's five statements, sent as one batch (see `create_with_message`).
static CREATE_WITH_MESSAGE: LazyLock<String> = LazyLock::new(|| {
    use param::*;
    format!(
        "BEGIN IMMEDIATE;
         {};
         {QUEUE_FOR_INDEX};
         {};
         COMMIT",
        *INSERT_CUSTOMER,
        super::outbox::insert_pending_sql(1, KIND, PAYLOAD, STAMP)
    )
});

/// Where a new row comes from: created here (pending its delivery), or
/// received from the CRM (already there).
#[derive(Debug, Clone, Default)]
pub(super) struct Provenance {
    pub crm_id: Option<String>,
    pub crm_updated_at: Option<DateTime<Utc>>,
}

impl Provenance {
    fn origin(&self) -> Origin {
        if self.crm_id.is_some() {
            Origin::Crm
        } else {
            Origin::Local
        }
    }
}

/// Inserts a row with its search-index entries (batches: imports, pulled
/// pages, where one index segment serves many rows).
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    id: CustomerId,
    c: &ValidCustomer,
    now: DateTime<Utc>,
    from: Provenance,
) -> Result<Customer> {
    let customer = new_row(id, c, now, from);
    let key = id.to_string();
    let stamp = time::to_db(now);
    let attributes = attributes_to_db(&c.attributes);
    let crm_updated_at = customer.crm_updated_at.map(time::to_db);
    let bound = |sql| {
        bind_row(
            sqlx::query(sql),
            &key,
            c,
            &stamp,
            &customer,
            &attributes,
            &crm_updated_at,
        )
    };
    let sql = format!("{} RETURNING seq", *INSERT_CUSTOMER);
    let seq: i64 = bound(&sql).fetch_one(&mut *conn).await?.get(0);
    index(conn, seq, c.into()).await?;
    Ok(customer)
}

/// A create at the till in one round trip to SQLite's worker thread (each
/// one costs a thread wake-up, which on a busy or virtual machine was most
/// of a create's time): BEGIN IMMEDIATE; the row; its place in the indexer's
/// queue; its outbox message (`payload_of` the new customer, the row
/// `outbox::enqueue` writes); COMMIT. The caller holds the writer turn. On an error the transaction is rolled
/// back before the connection goes back to the pool, or the connection is
/// closed.
pub(super) async fn create_with_message(
    conn: &mut PoolConnection<Sqlite>,
    id: CustomerId,
    c: &ValidCustomer,
    now: DateTime<Utc>,
    kind: &str,
    payload_of: impl FnOnce(&Customer) -> String,
) -> Result<Customer> {
    let customer = new_row(id, c, now, Provenance::default());
    let key = id.to_string();
    let stamp = time::to_db(now);
    let attributes = attributes_to_db(&c.attributes);
    let crm_updated_at = None;
    let payload = payload_of(&customer);
    let done = bind_row(
        sqlx::query(&CREATE_WITH_MESSAGE),
        &key,
        c,
        &stamp,
        &customer,
        &attributes,
        &crm_updated_at,
    )
    .bind(kind)
    .bind(&payload)
    .execute(&mut **conn)
    .await;
    if let Err(e) = done {
        roll_back(conn).await;
        return Err(e.into());
    }
    Ok(customer)
}

/// Ends a transaction a batch began itself (`BEGIN IMMEDIATE` in its SQL,
/// which sqlx does not track). A failed ROLLBACK (none was open, or the
/// connection broke): never hand a connection in an unknown state back to
/// the pool.
pub(super) async fn roll_back(conn: &mut PoolConnection<Sqlite>) {
    if sqlx::query("ROLLBACK").execute(&mut **conn).await.is_err() {
        conn.close_on_drop();
    }
}

/// The customer an edit starts from, read as its transaction begins.
pub(super) struct EditStart {
    pub customer: Customer,
    /// The row's place in the search index.
    pub seq: i64,
    /// Its messages the CRM has not confirmed, oldest first.
    pub unsent: Vec<super::outbox::Unsent>,
}

static BEGIN_EDIT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE;
         SELECT {}, c.seq AS seq, {} AS unsent FROM customers c WHERE c.id = ?1",
        columns_of("c"),
        super::outbox::unsent_json_of("c")
    )
});

/// An edit costs two round trips to SQLite's worker thread (why that matters:
/// [`create_with_message`]): this one begins the transaction and reads the
/// row with its unsent messages; [`commit_edit`] writes and commits. `None`
/// for an unknown key. The transaction stays open whatever the outcome: the
/// caller commits it with `commit_edit` or ends it with [`roll_back`].
pub(super) async fn begin_edit(
    conn: &mut PoolConnection<Sqlite>,
    id: CustomerId,
) -> Result<Option<EditStart>> {
    let Some(row) = sqlx::query(&BEGIN_EDIT)
        .bind(id.to_string())
        .fetch_optional(&mut **conn)
        .await?
    else {
        return Ok(None);
    };
    let customer = Customer::try_from(<CustomerRow as sqlx::FromRow<SqliteRow>>::from_row(&row)?)?;
    let unsent: String = row.try_get("unsent")?;
    let mut unsent: Vec<super::outbox::Unsent> = serde_json::from_str(&unsent)
        .map_err(|e| Error::Corrupt(format!("unsent messages of {id}: {e}")))?;
    unsent.sort_by_key(|m| m.id);
    Ok(Some(EditStart {
        customer,
        seq: row.try_get("seq")?,
        unsent,
    }))
}

/// The edit's writes and `COMMIT` in one batch, inside the transaction
/// [`begin_edit`] opened: the row; its place in the indexer's queue; the
/// message writes. The search entries are the background indexer's, old
/// and new: deleting FTS5 entries here wrote an index segment per edit,
/// and its merges were the edit's tail (p99 2.5 ms against 1.3 without
/// them, BENCHMARKS.md "Edits"). Until the indexer runs, a search skips
/// the row's old entries and matches its current values
/// ([`NOT_QUEUED`], [`unindexed_matches`]). The caller tells the indexer
/// after it returns.
pub(super) async fn commit_edit(
    conn: &mut PoolConnection<Sqlite>,
    start: &EditStart,
    c: &ValidCustomer,
    now: DateTime<Utc>,
    writes: &[super::outbox::MessageWrite],
) -> Result<()> {
    use param::*;
    let mut sql = format!(
        "{};
         INSERT OR IGNORE INTO search_pending (seq) VALUES (?{SEQ});",
        *UPDATE_CUSTOMER_ROW
    );
    for (i, w) in writes.iter().enumerate() {
        let p = super::outbox::MessageParams {
            customer: 1,
            id: WRITES + 2 * i,
            payload: WRITES + 2 * i + 1,
            kind: UPDATE_KIND,
            now: STAMP,
        };
        sql.push_str(&w.sql(&p));
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT");
    let statements = 2 + writes.len();
    let key = start.customer.id.to_string();
    let mut query = bind_fields(sqlx::query(&sql).bind(&key), c)
        .bind(time::to_db(now))
        .bind(attributes_to_db(&c.attributes))
        .bind(start.seq)
        .bind(crate::outbox::KIND_CUSTOMER_UPDATE);
    for w in writes {
        let (id, payload) = w.values();
        query = query.bind(id).bind(payload);
    }
    // sqlx binds a slot a statement does not name (below its highest ?N) as
    // a positional parameter, counting them across the batch's statements,
    // and stops binding the statement (its later ?N stay NULL) once that
    // count passes the arguments given. Spare NULLs keep it binding.
    let highest = WRITES + 2 * writes.len();
    for _ in 0..statements * highest {
        query = query.bind(None::<i64>);
    }
    query.execute(&mut **conn).await?;
    Ok(())
}

/// The stored row of a new customer, as the caller gets it back.
fn new_row(id: CustomerId, c: &ValidCustomer, now: DateTime<Utc>, from: Provenance) -> Customer {
    let origin = from.origin();
    let sync_state = match origin {
        Origin::Local => SyncState::Pending,
        Origin::Crm => SyncState::Synced,
    };
    Customer {
        id,
        fields: c.fields.clone(),
        phone_e164: c.phone_e164.clone(),
        crm_id: from.crm_id,
        sync_state,
        created_at: now,
        updated_at: now,
        origin,
        attributes: c.attributes.clone(),
        crm_updated_at: from.crm_updated_at,
        crm_version: None,
        crm_version_tag: None,
        pending_edit: false,
        crm_deleted_at: None,
    }
}

/// Binds `INSERT_CUSTOMER`'s parameters ?1 to [`param::CRM_UPDATED_AT`].
fn bind_row<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    key: &'q str,
    c: &'q ValidCustomer,
    stamp: &'q str,
    row: &'q Customer,
    attributes: &'q Option<String>,
    crm_updated_at: &'q Option<String>,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    bind_fields(q.bind(key), c)
        .bind(stamp)
        .bind(row.sync_state.as_str())
        .bind(row.origin.as_str())
        .bind(attributes)
        .bind(&row.crm_id)
        .bind(crm_updated_at)
}

/// Binds a customer's fields as parameters ?2 onwards (after its key), in
/// [`Field::ALL`] order, then the phone's digits and E.164 form: the order
/// `INSERT_CUSTOMER` and `UPDATE_CUSTOMER` share.
fn bind_fields<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    c: &'q ValidCustomer,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    Field::ALL
        .iter()
        .fold(q, |q, &f| q.bind(c.fields.get(f)))
        .bind(&c.phone_digits)
        .bind(&c.phone_e164)
}

const QUEUE_FOR_INDEX: &str = "INSERT INTO search_pending (seq) VALUES (last_insert_rowid())";

fn attributes_to_db(a: &Attributes) -> Option<String> {
    (!a.is_empty()).then(|| serde_json::to_string(a).expect("string maps always serialize"))
}

/// Rewrites a customer's fields and its search entry. `None` if unknown.
pub(super) async fn update(
    conn: &mut SqliteConnection,
    id: CustomerId,
    c: &ValidCustomer,
    now: DateTime<Utc>,
) -> Result<Option<Customer>> {
    let key = id.to_string();
    let query = sqlx::query(&UPDATE_CUSTOMER);
    let seq: Option<i64> = bind_fields(query.bind(&key), c)
        .bind(time::to_db(now))
        .bind(attributes_to_db(&c.attributes))
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.get(0));
    let Some(seq) = seq else { return Ok(None) };
    unindex(conn, seq).await?;
    index(conn, seq, c.into()).await?;
    get(&mut *conn, id).await
}

/// Sets where these customers stand with the CRM.
pub(super) async fn set_sync_state(
    conn: &mut SqliteConnection,
    ids: &[CustomerId],
    state: SyncState,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = ids.iter().map(CustomerId::to_string).collect();
    sqlx::query(
        "UPDATE customers SET sync_state = ?2 WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(serde_json::to_string(&keys).expect("strings always serialize"))
    .bind(state.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn delete(conn: &mut SqliteConnection, id: CustomerId) -> Result<()> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM customers WHERE id = ?1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(seq) = seq {
        unindex(conn, seq).await?;
        sqlx::query("DELETE FROM customers WHERE seq = ?1")
            .bind(seq)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn index(
    conn: &mut SqliteConnection,
    seq: i64,
    f: SearchFields<'_>,
) -> Result<()> {
    index_many(conn, &[(seq, f)]).await
}

static INSERT_NAMES_FTS: LazyLock<String> =
    LazyLock::new(|| fts_insert("customers_names_fts", search::name_index_fields()));
static INSERT_CONTACT_FTS: LazyLock<String> =
    LazyLock::new(|| fts_insert("customers_contact_fts", search::contact_index_fields()));

fn fts_insert(table: &str, fields: impl Iterator<Item = Field>) -> String {
    let columns: Vec<&str> = fields.map(Field::name).collect();
    format!("INSERT INTO {table} (rowid, {}) ", columns.join(", "))
}

/// The columns a search reads to index (or match) a row.
static INDEXED_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    search::name_index_fields()
        .chain(search::contact_index_fields())
        .map(|f| f.name().to_owned())
        .chain(["phone_digits".to_owned(), "phone_e164".to_owned()])
        .collect::<Vec<_>>()
        .join(", ")
});

/// Writes the index entries of many rows in a few multi-row statements.
pub(super) async fn index_many(
    conn: &mut SqliteConnection,
    rows: &[(i64, SearchFields<'_>)],
) -> Result<()> {
    for chunk in rows.chunks(100) {
        let mut names = sqlx::QueryBuilder::<Sqlite>::new(&*INSERT_NAMES_FTS);
        names.push_values(chunk, |mut b, (seq, f)| {
            b.push_bind(*seq);
            for text in search::name_columns(*f) {
                b.push_bind(text);
            }
        });
        names.build().execute(&mut *conn).await?;
        let mut contact = sqlx::QueryBuilder::<Sqlite>::new(&*INSERT_CONTACT_FTS);
        contact.push_values(chunk, |mut b, (seq, f)| {
            b.push_bind(*seq);
            for text in search::contact_columns(*f) {
                b.push_bind(text);
            }
        });
        contact.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes a row's index entries and its place in the indexer's queue (an
/// edited row waiting there still has its old entries).
pub(super) async fn unindex(conn: &mut SqliteConnection, seq: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM search_pending WHERE seq = ?1;
         DELETE FROM customers_names_fts WHERE rowid = ?1;
         DELETE FROM customers_contact_fts WHERE rowid = ?1",
    )
    .bind(seq)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An FTS5 hit is believed only if its row is not waiting for the indexer:
/// a waiting row's entries, if any, are of its values before an edit (the
/// search matches its current values in [`unindexed_matches`]).
const NOT_QUEUED: &str = "rowid NOT IN (SELECT seq FROM search_pending)";

/// Whether a word matches any indexed name (a mixed query's split).
static IS_A_NAME: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT rowid FROM customers_names_fts WHERE customers_names_fts MATCH ?1 AND {NOT_QUEUED} LIMIT 1")
});

/// Rows the background indexer takes in one transaction. The indexer runs
/// when the till is quiet, so a large batch (one index segment for all) costs
/// a create nothing; at worst one create waits for one batch (a few ms).
const INDEX_BATCH: i64 = 500;

/// The newest row waiting for its index entries, if any (read without the
/// write lock: most sweeps find nothing).
pub(super) async fn newest_queued(pool: &SqlitePool) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT max(seq) FROM search_pending")
        .fetch_one(pool)
        .await?)
}

/// Indexes up to [`INDEX_BATCH`] queued rows, none newer than `up_to`, in
/// the caller's write transaction; returns how many were taken (0 when none
/// is left). The bound keeps a drain from chasing the creates that arrive
/// while it runs, which would index them one by one again.
pub(super) async fn index_queued(tx: &mut SqliteConnection, up_to: i64) -> Result<usize> {
    let rows: Vec<QueuedRow> = sqlx::query_as(&format!(
        "SELECT p.seq, c.seq IS NOT NULL AS present, {}
         FROM search_pending p LEFT JOIN customers c ON c.seq = p.seq
         WHERE p.seq <= ?2
         ORDER BY p.seq LIMIT ?1",
        *INDEXED_COLUMNS
    ))
    .bind(INDEX_BATCH)
    .bind(up_to)
    .fetch_all(&mut *tx)
    .await?;
    let present: Vec<(i64, SearchFields)> = rows
        .iter()
        .filter(|r| r.present)
        .map(|r| (r.seq, r.fields()))
        .collect();
    // An edited row's entries from before the edit go first (a create has
    // none: its deletes find nothing).
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    sqlx::query(
        "DELETE FROM customers_names_fts WHERE rowid IN (SELECT value FROM json_each(?1));
         DELETE FROM customers_contact_fts WHERE rowid IN (SELECT value FROM json_each(?1))",
    )
    .bind(serde_json::to_string(&seqs).expect("integers always serialize"))
    .execute(&mut *tx)
    .await?;
    index_many(tx, &present).await?;
    if let Some(last) = rows.last() {
        sqlx::query("DELETE FROM search_pending WHERE seq <= ?1")
            .bind(last.seq)
            .execute(&mut *tx)
            .await?;
    }
    Ok(rows.len())
}

/// A row waiting for its index entries: only the indexed columns are read.
pub(super) struct QueuedRow {
    pub seq: i64,
    present: bool,
    fields: CustomerFields,
    phone_digits: Option<String>,
    pub phone_e164: Option<String>,
}

impl<'r> sqlx::FromRow<'r, SqliteRow> for QueuedRow {
    fn from_row(row: &'r SqliteRow) -> sqlx::Result<Self> {
        let mut fields = CustomerFields::default();
        for f in search::name_index_fields().chain(search::contact_index_fields()) {
            *fields.slot(f) = row.try_get(f.name())?;
        }
        Ok(QueuedRow {
            seq: row.try_get("seq")?,
            present: row.try_get("present")?,
            fields,
            phone_digits: row.try_get("phone_digits")?,
            phone_e164: row.try_get("phone_e164")?,
        })
    }
}

impl QueuedRow {
    pub fn fields(&self) -> SearchFields<'_> {
        SearchFields {
            fields: &self.fields,
            phone_digits: self.phone_digits.as_deref(),
            phone_e164: self.phone_e164.as_deref(),
        }
    }

    /// The phone as typed (the indexed columns include it).
    pub fn phone(&self) -> Option<&str> {
        self.fields.phone.as_deref()
    }
}

/// The indexed columns of rows after `after` whose phone has no E.164 form
/// yet, in `seq` order (the phone backfill's batches).
pub(super) async fn phones_without_e164(
    conn: &mut SqliteConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<QueuedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT seq, 1 AS present, {} FROM customers
         WHERE seq > ?1 AND phone IS NOT NULL AND phone_e164 IS NULL
         ORDER BY seq LIMIT ?2",
        *INDEXED_COLUMNS
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

pub(super) async fn queued_for_index(pool: &SqlitePool) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM search_pending")
        .fetch_one(pool)
        .await?;
    Ok(n as u64)
}

pub(super) async fn get<'e, E>(exec: E, id: CustomerId) -> Result<Option<Customer>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let columns = &*COLUMNS;
    let row: Option<CustomerRow> =
        sqlx::query_as(&format!("SELECT {columns} FROM customers WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(exec)
            .await?;
    row.map(Customer::try_from).transpose()
}

pub(super) async fn get_by_crm_id(
    conn: &mut SqliteConnection,
    crm_id: &str,
) -> Result<Option<Customer>> {
    let columns = &*COLUMNS;
    let row: Option<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {columns} FROM customers WHERE crm_id = ?1 ORDER BY seq LIMIT 1"
    ))
    .bind(crm_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Customer::try_from).transpose()
}

pub(super) async fn search(
    pool: &SqlitePool,
    raw: &str,
    limit: u32,
    region: Option<Region>,
) -> Result<Vec<Customer>> {
    let columns = &*COLUMNS;
    let Some(query) = search::parse(raw, region) else {
        return recent(pool, limit).await;
    };
    let mut conn = pool.acquire().await?;
    let mut found: Vec<Customer> = Vec::with_capacity(limit as usize);

    if let Some(email) = &query.exact_email {
        let rows = fetch(
            &mut conn,
            &format!("SELECT {columns} FROM customers WHERE email = ?1 ORDER BY seq DESC LIMIT ?2"),
            email,
            limit,
        )
        .await?;
        extend_unique(&mut found, rows, limit);
    }
    if let Some(digits) = &query.exact_phone {
        let rows = fetch(&mut conn, &format!("SELECT {columns} FROM customers WHERE phone_digits = ?1 ORDER BY seq DESC LIMIT ?2"), digits, limit).await?;
        extend_unique(&mut found, rows, limit);
    }
    if let Some(e164) = &query.exact_e164 {
        let rows = fetch(
            &mut conn,
            &format!(
                "SELECT {columns} FROM customers WHERE phone_e164 = ?1 ORDER BY seq DESC LIMIT ?2"
            ),
            e164,
            limit,
        )
        .await?;
        extend_unique(&mut found, rows, limit);
    }
    let mut unindexed = unindexed_matches(&mut conn, &query, limit).await?;
    let mut take_unindexed = |tier: Tier, found: &mut Vec<Customer>| {
        let (now, later) = std::mem::take(&mut unindexed)
            .into_iter()
            .partition(|(t, _)| *t == tier);
        unindexed = later;
        extend_unique(found, now.into_iter().map(|(_, c)| c).collect(), limit);
    };
    let tiers = [
        (Tier::Names, "customers_names_fts", &query.names),
        (Tier::NamesOrCity, "customers_names_fts", &query.any),
        (Tier::Contact, "customers_contact_fts", &query.any),
    ];
    for (tier, table, expr) in tiers {
        // Rows created moments ago are the most recent of their tier.
        take_unindexed(tier, &mut found);
        if found.len() >= limit as usize {
            return Ok(found);
        }
        // Fetch a few more than needed: some may already be in an earlier tier.
        let want = limit + found.len() as u32;
        let sql = format!(
            "SELECT {columns} FROM customers WHERE seq IN
               (SELECT rowid FROM {table} WHERE {table} MATCH ?1 AND {NOT_QUEUED}
                ORDER BY rowid DESC LIMIT ?2)
             ORDER BY seq DESC"
        );
        let rows = fetch(&mut conn, &sql, expr, want).await?;
        extend_unique(&mut found, rows, limit);
    }
    take_unindexed(Tier::Mixed, &mut found);
    if found.len() < limit as usize && query.terms.len() > 1 {
        let rows =
            words_across_indexes(&mut conn, &query.terms, limit + found.len() as u32).await?;
        extend_unique(&mut found, rows, limit);
    }
    Ok(found)
}

/// Most rows of the indexer's queue a search scans. The queue holds the
/// creates since the till last paused for 100 ms, and the indexer empties it
/// when it reaches this length.
pub(super) const UNINDEXED_SCAN: i64 = 250;

/// The customers not indexed yet that match the query, each with its tier,
/// most recent first.
async fn unindexed_matches(
    conn: &mut SqliteConnection,
    query: &search::Query,
    limit: u32,
) -> Result<Vec<(Tier, Customer)>> {
    let columns = &*COLUMNS;
    // CROSS JOIN keeps the queue as the outer loop (SQLite has no statistics
    // on it and could otherwise scan every customer). SQLite narrows the scan
    // to rows whose text contains the longest word (its lower() folds ASCII
    // only, so rows with other letters always come through); the tokens are
    // then matched here.
    let needle = query
        .words
        .iter()
        .filter(|w| w.is_ascii())
        .max_by_key(|w| w.len())
        .cloned()
        .unwrap_or_default();
    let queued: Vec<QueuedRow> = sqlx::query_as(&format!(
        "SELECT seq, 1 AS present, {cols}
         FROM (SELECT c.*, lower(concat_ws(' ', {cols})) AS text
               FROM search_pending p CROSS JOIN customers c ON c.seq = p.seq
               ORDER BY p.seq DESC LIMIT ?1)
         WHERE instr(text, ?2) > 0 OR text GLOB '*[^ -~]*'
         ORDER BY seq DESC",
        cols = *INDEXED_COLUMNS
    ))
    .bind(UNINDEXED_SCAN)
    .bind(needle)
    .fetch_all(&mut *conn)
    .await?;
    // At most `limit` of each tier can be shown.
    let mut per_tier = std::collections::HashMap::<Tier, u32>::new();
    let tiers: Vec<(i64, Tier)> = queued
        .iter()
        .filter_map(|r| search::unindexed_tier(query, r.fields()).map(|t| (r.seq, t)))
        .filter(|(_, t)| {
            let n = per_tier.entry(*t).or_default();
            *n += 1;
            *n <= limit
        })
        .collect();
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = tiers.iter().map(|(seq, _)| *seq).collect();
    let rows: Vec<(i64, CustomerRow)> = sqlx::query_as::<_, SeqRow>(&format!(
        "SELECT seq, {columns} FROM customers WHERE seq IN (SELECT value FROM json_each(?1)) ORDER BY seq DESC"
    ))
    .bind(serde_json::to_string(&seqs).expect("integers always serialize"))
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.seq, r.row))
    .collect();
    rows.into_iter()
        .filter_map(|(seq, row)| {
            let tier = tiers.iter().find(|(s, _)| *s == seq)?.1;
            Some(Customer::try_from(row).map(|c| (tier, c)))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct SeqRow {
    seq: i64,
    #[sqlx(flatten)]
    row: CustomerRow,
}

/// Most recent name matches a mixed query checks for its contact words: a
/// bound on the one tier that combines both indexes.
const MIXED_DRIVER_ROWS: u32 = 5000;

/// Customers whose name matches some words and whose contact details match
/// the others ("ada 0151", "smith sam@exa"). A word goes to the contact side
/// if it has a digit or matches no name at all; the most recent name matches
/// (at most [`MIXED_DRIVER_ROWS`]) are then checked for the contact words one
/// by one, which never materialises a large contact match.
async fn words_across_indexes(
    conn: &mut SqliteConnection,
    terms: &[String],
    limit: u32,
) -> Result<Vec<Customer>> {
    let columns = &*COLUMNS;
    if terms
        .iter()
        .any(|t| t.chars().filter(|c| c.is_alphanumeric()).count() < 2)
    {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    let mut contact = Vec::new();
    for t in terms {
        let in_names = !t.chars().any(|c| c.is_ascii_digit())
            && sqlx::query_scalar::<_, i64>(&IS_A_NAME)
                .bind(t)
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
        if in_names {
            names.push(t.as_str());
        } else {
            contact.push(t.as_str());
        }
    }
    if names.is_empty() || contact.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {columns} FROM customers WHERE seq IN (
           SELECT n.rowid FROM (SELECT rowid FROM customers_names_fts WHERE customers_names_fts MATCH ?1
                                AND {NOT_QUEUED} ORDER BY rowid DESC LIMIT {MIXED_DRIVER_ROWS}) n
           WHERE EXISTS (SELECT 1 FROM customers_contact_fts
                         WHERE customers_contact_fts MATCH ?2 AND rowid = n.rowid)
           ORDER BY n.rowid DESC LIMIT ?3)
         ORDER BY seq DESC"
    );
    let rows: Vec<CustomerRow> = sqlx::query_as(&sql)
        .bind(names.join(" "))
        .bind(contact.join(" "))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Customer::try_from).collect()
}

async fn recent(pool: &SqlitePool, limit: u32) -> Result<Vec<Customer>> {
    let columns = &*COLUMNS;
    let rows: Vec<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {columns} FROM customers ORDER BY seq DESC LIMIT ?1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Customer::try_from).collect()
}

async fn fetch(
    conn: &mut SqliteConnection,
    sql: &str,
    arg: &str,
    limit: u32,
) -> Result<Vec<Customer>> {
    let rows: Vec<CustomerRow> = sqlx::query_as::<Sqlite, CustomerRow>(sql)
        .bind(arg)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(Customer::try_from).collect()
}

fn extend_unique(found: &mut Vec<Customer>, rows: Vec<Customer>, limit: u32) {
    for c in rows {
        if found.len() >= limit as usize {
            return;
        }
        if !found.iter().any(|f| f.id == c.id) {
            found.push(c);
        }
    }
}

/// A `customers` row as [`COLUMNS`] selects it.
pub(super) struct CustomerRow {
    id: String,
    fields: CustomerFields,
    phone_e164: Option<String>,
    crm_id: Option<String>,
    sync_state: String,
    created_at: String,
    updated_at: String,
    origin: String,
    attributes: Option<String>,
    crm_updated_at: Option<String>,
    crm_version: Option<String>,
    crm_version_tag: Option<String>,
    crm_deleted_at: Option<String>,
    pending_edit: bool,
}

impl<'r> sqlx::FromRow<'r, SqliteRow> for CustomerRow {
    fn from_row(row: &'r SqliteRow) -> sqlx::Result<Self> {
        let mut fields = CustomerFields::default();
        for &f in Field::ALL {
            *fields.slot(f) = row.try_get(f.name())?;
        }
        Ok(CustomerRow {
            id: row.try_get("id")?,
            fields,
            phone_e164: row.try_get("phone_e164")?,
            crm_id: row.try_get("crm_id")?,
            sync_state: row.try_get("sync_state")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            origin: row.try_get("origin")?,
            attributes: row.try_get("attributes")?,
            crm_updated_at: row.try_get("crm_updated_at")?,
            crm_version: row.try_get("crm_version")?,
            crm_version_tag: row.try_get("crm_version_tag")?,
            crm_deleted_at: row.try_get("crm_deleted_at")?,
            pending_edit: row.try_get("pending_edit")?,
        })
    }
}

impl TryFrom<CustomerRow> for Customer {
    type Error = Error;
    fn try_from(r: CustomerRow) -> Result<Self> {
        Ok(Customer {
            id: r
                .id
                .parse()
                .map_err(|_| Error::Corrupt(format!("customer key {:?}", r.id)))?,
            sync_state: SyncState::parse(&r.sync_state)
                .ok_or_else(|| Error::Corrupt(format!("sync state {:?}", r.sync_state)))?,
            created_at: time::from_db(&r.created_at)?,
            updated_at: time::from_db(&r.updated_at)?,
            fields: r.fields,
            phone_e164: r.phone_e164,
            crm_id: r.crm_id,
            origin: Origin::parse(&r.origin)
                .ok_or_else(|| Error::Corrupt(format!("origin {:?}", r.origin)))?,
            attributes: r
                .attributes
                .map(|a| serde_json::from_str(&a))
                .transpose()
                .map_err(|e| Error::Corrupt(format!("attributes: {e}")))?
                .unwrap_or_default(),
            crm_updated_at: r.crm_updated_at.as_deref().map(time::from_db).transpose()?,
            crm_version: r
                .crm_version
                .map(|v| serde_json::from_str(&v))
                .transpose()
                .map_err(|e| Error::Corrupt(format!("crm version: {e}")))?,
            crm_version_tag: r.crm_version_tag,
            pending_edit: r.pending_edit,
            crm_deleted_at: r.crm_deleted_at.as_deref().map(time::from_db).transpose()?,
        })
    }
}
