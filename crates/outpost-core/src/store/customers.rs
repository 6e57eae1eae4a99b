//! Customer rows and their full-text index entries.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use super::time;
use crate::customer::{Attributes, Customer, CustomerId, Origin, SyncState};
use crate::error::{Error, Result};
use crate::search;
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

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    id: CustomerId,
    c: &ValidCustomer,
    now: DateTime<Utc>,
    from: Provenance,
) -> Result<Customer> {
    let stamp = time::to_db(now);
    let origin = from.origin();
    let sync_state = match origin {
        Origin::Local => SyncState::Pending,
        Origin::Crm => SyncState::Synced,
    };
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO customers (id, first_name, last_name, company, email, phone, phone_digits, street, city,
                                postal_code, country, tax_id, notes, sync_state, created_at, updated_at,
                                origin, attributes, crm_id, crm_updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15, ?14, ?14, ?16, ?17, ?18, ?19)
         RETURNING seq",
    )
    .bind(id.to_string())
    .bind(&c.first_name)
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
    .bind(&stamp)
    .bind(sync_state.as_str())
    .bind(origin.as_str())
    .bind(attributes_to_db(&c.attributes))
    .bind(&from.crm_id)
    .bind(from.crm_updated_at.map(time::to_db))
    .fetch_one(&mut *conn)
    .await?;

    index(conn, seq, c).await?;

    Ok(Customer {
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
    })
}

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
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE customers SET first_name = ?2, last_name = ?3, company = ?4, email = ?5, phone = ?6,
                phone_digits = ?7, street = ?8, city = ?9, postal_code = ?10, country = ?11, tax_id = ?12,
                notes = ?13, updated_at = ?14, attributes = ?15
         WHERE id = ?1 RETURNING seq",
    )
    .bind(id.to_string())
    .bind(&c.first_name)
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
    .bind(time::to_db(now))
    .bind(attributes_to_db(&c.attributes))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(seq) = seq else { return Ok(None) };
    unindex(conn, seq).await?;
    index(conn, seq, c).await?;
    get(&mut *conn, id).await
}

pub(super) async fn delete(conn: &mut SqliteConnection, id: CustomerId) -> Result<()> {
    let seq: Option<i64> = sqlx::query_scalar("DELETE FROM customers WHERE id = ?1 RETURNING seq")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(seq) = seq {
        unindex(conn, seq).await?;
    }
    Ok(())
}

pub(super) async fn index(conn: &mut SqliteConnection, seq: i64, c: &ValidCustomer) -> Result<()> {
    let [first, last, company, city] = search::name_columns(c);
    sqlx::query(
        "INSERT INTO customers_names_fts (rowid, first_name, last_name, company, city)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(seq)
    .bind(first)
    .bind(last)
    .bind(company)
    .bind(city)
    .execute(&mut *conn)
    .await?;
    let [email, phone] = search::contact_columns(c);
    sqlx::query("INSERT INTO customers_contact_fts (rowid, email, phone) VALUES (?1, ?2, ?3)")
        .bind(seq)
        .bind(email)
        .bind(phone)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn unindex(conn: &mut SqliteConnection, seq: i64) -> Result<()> {
    for table in ["customers_names_fts", "customers_contact_fts"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE rowid = ?1"))
            .bind(seq)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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
    let tiers = [
        ("customers_names_fts", &query.names),
        ("customers_names_fts", &query.any),
        ("customers_contact_fts", &query.any),
    ];
    for (table, expr) in tiers {
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
    if found.len() < limit as usize && query.terms.len() > 1 {
        let rows =
            words_across_indexes(&mut conn, &query.terms, limit + found.len() as u32).await?;
        extend_unique(&mut found, rows, limit);
    }
    Ok(found)
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
