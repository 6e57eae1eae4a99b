//! Customer rows and their full-text index entries.

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};

use super::time;
use crate::customer::{Attributes, Customer, CustomerId, Origin, SyncState};
use crate::error::{Error, Result};
use crate::search::{self, SearchFields, Tier};
use crate::validation::ValidCustomer;

const COLUMNS: &str =
    "id, first_name, last_name, company, email, phone, street, city, postal_code, \
     country, tax_id, notes, crm_id, sync_state, created_at, updated_at, origin, attributes, \
     crm_updated_at, crm_version";

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
    let sql = format!("{INSERT_CUSTOMER} RETURNING seq");
    let seq: i64 = bound(&sql).fetch_one(&mut *conn).await?.get(0);
    index(conn, seq, c.into()).await?;
    Ok(customer)
}

/// A create at the till in one round trip to SQLite's worker thread (each
/// one costs a thread wake-up, which on a busy or virtual machine was most
/// of a create's time): BEGIN IMMEDIATE; the row; its place in the indexer's
/// queue; its outbox message (`payload_of` the new customer, the row
/// `outbox::enqueue` writes); COMMIT. On an error the transaction is rolled
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
    let sql = format!(
        "BEGIN IMMEDIATE;
         {INSERT_CUSTOMER};
         {QUEUE_FOR_INDEX};
         INSERT INTO outbox (customer_id, kind, payload, state, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?20, ?21, 'pending', 0, ?14, ?14, ?14);
         COMMIT"
    );
    let done = bind_row(
        sqlx::query(&sql),
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
        // A failed ROLLBACK (none was open, or the connection broke): never
        // hand a connection in an unknown state back to the pool.
        if sqlx::query("ROLLBACK").execute(&mut **conn).await.is_err() {
            conn.close_on_drop();
        }
        return Err(e.into());
    }
    Ok(customer)
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
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company: c.company.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        street: c.street.clone(),
        city: c.city.clone(),
        postal_code: c.postal_code.clone(),
        country: c.country.clone(),
        tax_id: c.tax_id.clone(),
        notes: c.notes.clone(),
        crm_id: from.crm_id,
        sync_state,
        created_at: now,
        updated_at: now,
        origin,
        attributes: c.attributes.clone(),
        crm_updated_at: from.crm_updated_at,
        crm_version: None,
    }
}

/// Binds `INSERT_CUSTOMER`'s parameters ?1 to ?19.
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

/// Binds a customer's fields as parameters ?2 to ?13 (after its key), in the
/// column order `INSERT_CUSTOMER` and `update` share.
fn bind_fields<'q>(
    q: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    c: &'q ValidCustomer,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    q.bind(&c.first_name)
        .bind(&c.last_name)
        .bind(&c.company)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.phone_digits)
        .bind(&c.street)
        .bind(&c.city)
        .bind(&c.postal_code)
        .bind(&c.country)
        .bind(&c.tax_id)
        .bind(&c.notes)
}

const QUEUE_FOR_INDEX: &str = "INSERT INTO search_pending (seq) VALUES (last_insert_rowid())";

const INSERT_CUSTOMER: &str =
    "INSERT INTO customers (id, first_name, last_name, company, email, phone, phone_digits, street, city,
                            postal_code, country, tax_id, notes, sync_state, created_at, updated_at,
                            origin, attributes, crm_id, crm_updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?14, ?14, ?16, ?17, ?18, ?19)";

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
    let query = sqlx::query(
        "UPDATE customers SET first_name = ?2, last_name = ?3, company = ?4, email = ?5, phone = ?6,
                phone_digits = ?7, street = ?8, city = ?9, postal_code = ?10, country = ?11, tax_id = ?12,
                notes = ?13, updated_at = ?14, attributes = ?15
         WHERE id = ?1 RETURNING seq",
    );
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

/// Writes the index entries of many rows in a few multi-row statements.
async fn index_many(conn: &mut SqliteConnection, rows: &[(i64, SearchFields<'_>)]) -> Result<()> {
    for chunk in rows.chunks(100) {
        let mut names = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO customers_names_fts (rowid, first_name, last_name, company, city) ",
        );
        names.push_values(chunk, |mut b, (seq, f)| {
            let [first, last, company, city] = search::name_columns(*f);
            b.push_bind(*seq)
                .push_bind(first)
                .push_bind(last)
                .push_bind(company)
                .push_bind(city);
        });
        names.build().execute(&mut *conn).await?;
        let mut contact = sqlx::QueryBuilder::<Sqlite>::new(
            "INSERT INTO customers_contact_fts (rowid, email, phone) ",
        );
        contact.push_values(chunk, |mut b, (seq, f)| {
            let [email, phone] = search::contact_columns(*f);
            b.push_bind(*seq).push_bind(email).push_bind(phone);
        });
        contact.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Removes a row's index entries, or its place in the indexer's queue if it
/// was never indexed.
pub(super) async fn unindex(conn: &mut SqliteConnection, seq: i64) -> Result<()> {
    let queued: Option<i64> =
        sqlx::query_scalar("DELETE FROM search_pending WHERE seq = ?1 RETURNING seq")
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?;
    if queued.is_none() {
        sqlx::query(
            "DELETE FROM customers_names_fts WHERE rowid = ?1;
             DELETE FROM customers_contact_fts WHERE rowid = ?1",
        )
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

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

/// Indexes up to [`INDEX_BATCH`] queued rows, none newer than `up_to`, in one
/// transaction; returns how many were taken (0 when none is left). The bound
/// keeps a drain from chasing the creates that arrive while it runs, which
/// would index them one by one again.
pub(super) async fn index_queued(pool: &SqlitePool, up_to: i64) -> Result<usize> {
    // IMMEDIATE: two processes (the app and a CLI) never index the same rows.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let rows: Vec<QueuedRow> = sqlx::query_as(
        "SELECT p.seq, c.seq IS NOT NULL AS present, c.first_name, c.last_name, c.company, c.city, c.email, c.phone_digits
         FROM search_pending p LEFT JOIN customers c ON c.seq = p.seq
         WHERE p.seq <= ?2
         ORDER BY p.seq LIMIT ?1",
    )
    .bind(INDEX_BATCH)
    .bind(up_to)
    .fetch_all(&mut *tx)
    .await?;
    let present: Vec<(i64, SearchFields)> = rows
        .iter()
        .filter(|r| r.present)
        .map(|r| (r.seq, r.fields()))
        .collect();
    index_many(&mut tx, &present).await?;
    if let Some(last) = rows.last() {
        sqlx::query("DELETE FROM search_pending WHERE seq <= ?1")
            .bind(last.seq)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

#[derive(sqlx::FromRow)]
struct QueuedRow {
    seq: i64,
    present: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    city: Option<String>,
    email: Option<String>,
    phone_digits: Option<String>,
}

impl QueuedRow {
    fn fields(&self) -> SearchFields<'_> {
        SearchFields {
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            company: self.company.as_deref(),
            city: self.city.as_deref(),
            email: self.email.as_deref(),
            phone_digits: self.phone_digits.as_deref(),
        }
    }
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
    let row: Option<CustomerRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(exec)
            .await?;
    row.map(Customer::try_from).transpose()
}

pub(super) async fn get_by_crm_id(
    conn: &mut SqliteConnection,
    crm_id: &str,
) -> Result<Option<Customer>> {
    let row: Option<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers WHERE crm_id = ?1 ORDER BY seq LIMIT 1"
    ))
    .bind(crm_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Customer::try_from).transpose()
}

pub(super) async fn search(pool: &SqlitePool, raw: &str, limit: u32) -> Result<Vec<Customer>> {
    let Some(query) = search::parse(raw) else {
        return recent(pool, limit).await;
    };
    let mut conn = pool.acquire().await?;
    let mut found: Vec<Customer> = Vec::with_capacity(limit as usize);

    if let Some(email) = &query.exact_email {
        let rows = fetch(
            &mut conn,
            &format!("SELECT {COLUMNS} FROM customers WHERE email = ?1 ORDER BY seq DESC LIMIT ?2"),
            email,
            limit,
        )
        .await?;
        extend_unique(&mut found, rows, limit);
    }
    if let Some(digits) = &query.exact_phone {
        let rows = fetch(&mut conn, &format!("SELECT {COLUMNS} FROM customers WHERE phone_digits = ?1 ORDER BY seq DESC LIMIT ?2"), digits, limit).await?;
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
            "SELECT {COLUMNS} FROM customers WHERE seq IN
               (SELECT rowid FROM {table} WHERE {table} MATCH ?1 ORDER BY rowid DESC LIMIT ?2)
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
    let queued: Vec<QueuedRow> = sqlx::query_as(
        "SELECT seq, 1 AS present, first_name, last_name, company, city, email, phone_digits
         FROM (SELECT c.*, lower(concat_ws(' ', c.first_name, c.last_name, c.company, c.city, c.email, c.phone_digits)) AS text
               FROM search_pending p CROSS JOIN customers c ON c.seq = p.seq
               ORDER BY p.seq DESC LIMIT ?1)
         WHERE instr(text, ?2) > 0 OR text GLOB '*[^ -~]*'
         ORDER BY seq DESC",
    )
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
        "SELECT seq, {COLUMNS} FROM customers WHERE seq IN (SELECT value FROM json_each(?1)) ORDER BY seq DESC"
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
            && sqlx::query_scalar::<_, i64>(
                "SELECT rowid FROM customers_names_fts WHERE customers_names_fts MATCH ?1 LIMIT 1",
            )
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
        "SELECT {COLUMNS} FROM customers WHERE seq IN (
           SELECT n.rowid FROM (SELECT rowid FROM customers_names_fts WHERE customers_names_fts MATCH ?1
                                ORDER BY rowid DESC LIMIT {MIXED_DRIVER_ROWS}) n
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
    let rows: Vec<CustomerRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers ORDER BY seq DESC LIMIT ?1"
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

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    street: Option<String>,
    city: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    tax_id: Option<String>,
    notes: Option<String>,
    crm_id: Option<String>,
    sync_state: String,
    created_at: String,
    updated_at: String,
    origin: String,
    attributes: Option<String>,
    crm_updated_at: Option<String>,
    crm_version: Option<String>,
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
            first_name: r.first_name,
            last_name: r.last_name,
            company: r.company,
            email: r.email,
            phone: r.phone,
            street: r.street,
            city: r.city,
            postal_code: r.postal_code,
            country: r.country,
            tax_id: r.tax_id,
            notes: r.notes,
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
        })
    }
}
