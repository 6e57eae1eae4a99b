//! Create and lookup latency on real database files of 10k, 100k and 1M
//! customers, with a naive `LIKE '%q%'` scan measured in the same run as the
//! baseline; then edit latency (issue 14) of customers already in the CRM,
//! with creates interleaved with the edits as its baseline. Prints two
//! Markdown tables for BENCHMARKS.md.
//!
//!     cargo bench -p outpost-core --bench store [-- SIZES...]   (default: 10000 100000 1000000)

use std::time::{Duration, Instant};

use outpost_core::customer::{CustomerEdit, CustomerFields, Field};
use outpost_core::{CustomerId, NewCustomer, Store, StoreOptions};

const FIRST: &[&str] = &[
    "Ada", "Alan", "Alice", "Amara", "Ana", "Anders", "Bea", "Ben", "Carla", "Chen", "Clara",
    "Dario", "David", "Elena", "Emil", "Eva", "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines",
    "Ivan", "Jana", "Jonas", "José", "Julia", "Kai", "Lea", "Leon", "Lina", "Luca", "Maria",
    "Mario", "Marta", "Max", "Mia", "Nadia", "Noah", "Nora", "Olga", "Omar", "Paul", "Petra",
    "Rosa", "Sami", "Sara", "Sofia", "Tom", "Yuki",
];
const LAST: &[&str] = &[
    "Abbott",
    "Almeida",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brown",
    "Castro",
    "Costa",
    "Dubois",
    "Fischer",
    "Garcia",
    "Gomez",
    "Hansen",
    "Hoffmann",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Kruger",
    "Larsen",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Müller",
    "Nakamura",
    "Novak",
    "Olsen",
    "Petrov",
    "Rossi",
    "Ruiz",
    "Schmidt",
    "Schneider",
    "Silva",
    "Smith",
    "Suzuki",
    "Tanaka",
    "Weber",
    "Wagner",
    "Wong",
    "Zimmermann",
];
const CITIES: &[&str] = &[
    "Berlin", "Madrid", "Lisbon", "Paris", "Rome", "Oslo", "Vienna", "Prague", "Warsaw", "Dublin",
    "Lyon", "Porto", "Munich", "Milan", "Seville", "Ghent", "Bergen", "Malmö", "Turku", "Tallinn",
];

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn customer(rng: &mut Rng, i: u64) -> NewCustomer {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let phone = format!(
        "+49 {} {:07}",
        150 + rng.next() % 30,
        rng.next() % 10_000_000
    );
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            company: i.is_multiple_of(4).then(|| {
                format!(
                    "{} {}",
                    rng.pick(LAST),
                    ["GmbH", "Ltd", "SA", "& Co"][(i % 16 / 4) as usize]
                )
            }),
            email: Some(format!("{}.{}{}@example.com", first, last, i).to_lowercase()),
            phone: Some(phone),
            city: Some(rng.pick(CITIES).into()),
            country: Some("DE".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

struct Row {
    size: u64,
    what: String,
    p50: Duration,
    p99: Duration,
    baseline_p50: Option<Duration>,
}

async fn measure<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    out
}

/// The naive search: a substring scan with the same ranking as the real one
/// (exact email first, then name or company matches, then recency), which
/// makes it read every row.
async fn like_scan(store: &Store, q: &str) -> usize {
    let pattern = format!("%{q}%");
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM customers WHERE first_name LIKE ?1 OR last_name LIKE ?1 OR company LIKE ?1 OR email LIKE ?1
         OR phone_digits LIKE ?1 OR city LIKE ?1
         ORDER BY email = ?2 DESC, (first_name LIKE ?1 OR last_name LIKE ?1 OR company LIKE ?1) DESC, seq DESC LIMIT 20",
    )
    .bind(&pattern)
    .bind(q)
    .fetch_all(store.pool_for_tests())
    .await
    .unwrap();
    rows.len()
}

/// Edit latency against create latency, both measured in the same run.
struct EditRow {
    size: u64,
    what: &'static str,
    samples: usize,
    p50: Duration,
    p99: Duration,
    create_p50: Duration,
    create_p99: Duration,
}

// 3,000 so the p99 is the 30th-slowest edit, not the 3rd: with 300 one
// stray stall of the machine moved it by milliseconds between runs.
const EDIT_SAMPLES: usize = 3_000;

/// One or two fields of a customer, as a clerk corrects them.
fn edit(rng: &mut Rng, i: usize) -> CustomerEdit {
    let e = CustomerEdit::default();
    // Every value differs from the seed's and from earlier edits' (a street
    // numbered by the sample), so no edit is a no-op.
    match i % 3 {
        0 => e
            .set(Field::Street, format!("Hauptstraße {}", i + 1))
            .set(Field::City, rng.pick(CITIES)),
        1 => e.set(
            Field::Phone,
            format!(
                "+49 {} {:07}",
                150 + rng.next() % 30,
                rng.next() % 10_000_000
            ),
        ),
        _ => {
            let last = rng.pick(LAST);
            e.set(Field::LastName, last).set(
                Field::Email,
                format!("edited.{}{}@example.com", last, rng.next() % 1_000_000).to_lowercase(),
            )
        }
    }
}

/// Edits of customers that are in the CRM (their creates recorded as
/// delivered), so each first edit queues a `customer.update` and every
/// fifth edit is a second one of an earlier customer, merged into its
/// pending update. Creates alternate with the edits: the baseline sees the
/// same store, cache and machine load.
async fn bench_edits(store: &Store, size: u64, rng: &mut Rng, rows: &mut Vec<EditRow>) {
    // Every create so far delivered, each customer with a CRM id and version
    // (what a flush would record; one statement instead of a CRM).
    let t = Instant::now();
    sqlx::query("UPDATE outbox SET state = 'sent' WHERE state != 'sent'")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE customers SET sync_state = 'synced', crm_id = CAST(seq + 1000000000 AS TEXT),
           crm_version_tag = '2026-12-01T09:00:00.000Z'",
    )
    .execute(store.pool_for_tests())
    .await
    .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool_for_tests())
        .await
        .unwrap();
    eprintln!(
        "marked every create delivered in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // Targets drawn before the clock starts: a random seeded customer, or
    // (every fifth) one edited before.
    let mut targets: Vec<(CustomerId, bool)> = Vec::with_capacity(EDIT_SAMPLES);
    for i in 0..EDIT_SAMPLES {
        if i % 5 == 4 {
            let (earlier, _) = targets[(rng.next() % targets.len() as u64) as usize];
            targets.push((earlier, true));
            continue;
        }
        loop {
            let seq = 1 + (rng.next() % size) as i64;
            let id: String = sqlx::query_scalar("SELECT id FROM customers WHERE seq = ?1")
                .bind(seq)
                .fetch_one(store.pool_for_tests())
                .await
                .unwrap();
            let id: CustomerId = id.parse().unwrap();
            if !targets.iter().any(|(t, _)| *t == id) {
                targets.push((id, false));
                break;
            }
        }
    }
    let edits: Vec<CustomerEdit> = (0..EDIT_SAMPLES).map(|i| edit(rng, i)).collect();
    let news: Vec<NewCustomer> = (0..EDIT_SAMPLES)
        .map(|i| customer(rng, size + 2000 + i as u64))
        .collect();

    let (mut first, mut merged, mut create) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..EDIT_SAMPLES {
        let (id, again) = targets[i];
        let t = Instant::now();
        store.edit_customer(id, &edits[i]).await.unwrap();
        let took = t.elapsed();
        if again {
            merged.push(took);
        } else {
            first.push(took);
        }
        let t = Instant::now();
        store.create_customer(&news[i]).await.unwrap();
        create.push(t.elapsed());
    }
    // Each edited customer has exactly one update waiting: second edits merged.
    let (updates, customers): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT customer_id) FROM outbox
         WHERE kind = 'customer.update' AND state = 'pending'",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(
        updates as usize,
        first.len(),
        "one update per edited customer"
    );
    assert_eq!(customers, updates);
    store.flush_search_index().await.unwrap();

    let mut all: Vec<Duration> = first.iter().chain(&merged).copied().collect();
    {
        let mut e = all.clone();
        eprintln!(
            "edit p90 {} p95 {} p99 {} max {}",
            ms(percentile(&mut e, 0.9)),
            ms(percentile(&mut e, 0.95)),
            ms(percentile(&mut e, 0.99)),
            ms(percentile(&mut e, 1.0))
        );
    }
    let (create_p50, create_p99) = (percentile(&mut create, 0.5), percentile(&mut create, 0.99));
    for (what, samples) in [
        ("edit (update + index queue + enqueue)", &mut all),
        ("first edit: a new customer.update", &mut first),
        ("second edit: merged into the pending update", &mut merged),
    ] {
        rows.push(EditRow {
            size,
            what,
            samples: samples.len(),
            p50: percentile(samples, 0.5),
            p99: percentile(samples, 0.99),
            create_p50,
            create_p99,
        });
    }
}

async fn bench_size(size: u64, rows: &mut Vec<Row>, edit_rows: &mut Vec<EditRow>) {
    let dir = tempfile::TempDir::new().unwrap();
    let store = Store::open(dir.path().join("bench.db")).await.unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ size);
    let t = Instant::now();
    let mut i = 0;
    while i < size {
        let batch: Vec<_> = (i..(i + 5000).min(size))
            .map(|j| customer(&mut rng, j))
            .collect();
        store.create_customers(&batch).await.unwrap();
        i += batch.len() as u64;
    }
    eprintln!(
        "seeded {size} customers in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    // A till's steady state: the seed's WAL copied back (the background
    // checkpointer would take a while after a million-row import).
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool_for_tests())
        .await
        .unwrap();

    // Create: validate + insert + outbox message, one transaction each, back
    // to back (the search-index entries are written by the background
    // indexer once the loop pauses, and timed just below).
    let mut create = measure(1000, |i| {
        let c = customer(&mut rng, size + i as u64);
        let store = &store;
        async move {
            store.create_customer(&c).await.unwrap();
        }
    })
    .await;
    {
        let mut c = create.clone();
        eprintln!(
            "create p90 {} p95 {} p99 {} max {}",
            ms(percentile(&mut c, 0.9)),
            ms(percentile(&mut c, 0.95)),
            ms(percentile(&mut c, 0.99)),
            ms(percentile(&mut c, 1.0))
        );
    }
    rows.push(Row {
        size,
        what: "create (insert + enqueue)".into(),
        p50: percentile(&mut create, 0.5),
        p99: percentile(&mut create, 0.99),
        baseline_p50: None,
    });
    let t = Instant::now();
    let unindexed = store.unindexed_customers().await.unwrap();
    store.flush_search_index().await.unwrap();
    eprintln!(
        "indexed {unindexed} queued creates in {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );

    let mut qrng = Rng(42);
    let queries: Vec<(&str, Vec<String>)> = vec![
        (
            "1-char prefix",
            (0..100)
                .map(|_| qrng.pick(FIRST)[..1].to_lowercase())
                .collect(),
        ),
        (
            "3-char prefix",
            (0..100)
                .map(|_| {
                    qrng.pick(LAST)
                        .chars()
                        .take(3)
                        .collect::<String>()
                        .to_lowercase()
                })
                .collect(),
        ),
        (
            "6-char prefix",
            (0..100)
                .map(|_| {
                    qrng.pick(LAST)
                        .chars()
                        .take(6)
                        .collect::<String>()
                        .to_lowercase()
                })
                .collect(),
        ),
        (
            "email fragment",
            (0..100)
                .map(|_| {
                    format!(
                        "{}{}@exa",
                        qrng.pick(LAST).to_lowercase(),
                        qrng.next() % size
                    )
                })
                .collect(),
        ),
        (
            "phone fragment",
            (0..100)
                .map(|_| format!("{:04}", qrng.next() % 10_000))
                .collect(),
        ),
    ];
    for (what, qs) in queries {
        // Warm the page cache once, as a till that has been open a while would be.
        for q in &qs {
            store.search(q, 20).await.unwrap();
        }
        let mut fts = measure(qs.len() * 3, |i| {
            let q = qs[i % qs.len()].clone();
            let store = &store;
            async move {
                store.search(&q, 20).await.unwrap();
            }
        })
        .await;
        let mut like = measure(qs.len().min(if size >= 1_000_000 { 20 } else { 50 }), |i| {
            let q = qs[i].clone();
            let store = &store;
            async move {
                like_scan(store, &q).await;
            }
        })
        .await;
        rows.push(Row {
            size,
            what: format!("lookup, {what}"),
            p50: percentile(&mut fts, 0.5),
            p99: percentile(&mut fts, 0.99),
            baseline_p50: Some(percentile(&mut like, 0.5)),
        });
    }
    let bytes = std::fs::metadata(dir.path().join("bench.db"))
        .unwrap()
        .len();
    eprintln!(
        "database file: {:.1} MiB for {} customers",
        bytes as f64 / 1048576.0,
        size + 1000
    );
    bench_edits(&store, size, &mut rng, edit_rows).await;
    store.close().await;

    // The worst case of deferred indexing: a burst of creates with no pause,
    // just under the length at which the indexer steps in; every lookup also
    // scans them.
    let store = Store::open_with(
        dir.path().join("bench.db"),
        StoreOptions {
            background_indexing: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for i in 0..249 {
        store
            .create_customer(&customer(&mut rng, size + 1000 + i))
            .await
            .unwrap();
    }
    assert_eq!(store.unindexed_customers().await.unwrap(), 249);
    for (what, q) in [("3-char prefix", "sch"), ("phone fragment", "0199")] {
        let mut fts = measure(300, |_| {
            let store = &store;
            async move {
                store.search(q, 20).await.unwrap();
            }
        })
        .await;
        rows.push(Row {
            size,
            what: format!("lookup, {what}, 249 creates not indexed yet"),
            p50: percentile(&mut fts, 0.5),
            p99: percentile(&mut fts, 0.99),
            baseline_p50: None,
        });
    }
    store.close().await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect::<Vec<_>>();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    let (mut rows, mut edit_rows) = (Vec::new(), Vec::new());
    for size in sizes {
        bench_size(size, &mut rows, &mut edit_rows).await;
    }
    println!("| customers | operation | p50 ms | p99 ms | LIKE scan p50 ms | FTS speed-up (p50) |");
    println!("|---:|---|---:|---:|---:|---:|");
    for r in rows {
        let (base, ratio) = match r.baseline_p50 {
            Some(b) => (
                ms(b),
                format!("{:.0}x", b.as_secs_f64() / r.p50.as_secs_f64().max(1e-9)),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.size,
            r.what,
            ms(r.p50),
            ms(r.p99),
            base,
            ratio
        );
    }
    println!();
    println!("| customers | operation | samples | p50 ms | p99 ms | create p50 ms | create p99 ms | edit p99 / create p99 |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in edit_rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.size,
            r.what,
            r.samples,
            ms(r.p50),
            ms(r.p99),
            ms(r.create_p50),
            ms(r.create_p99),
            r.p99.as_secs_f64() / r.create_p99.as_secs_f64().max(1e-9)
        );
    }
}
