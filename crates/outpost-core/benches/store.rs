//! Create and lookup latency on real database files of 10k, 100k and 1M
//! customers, with a naive `LIKE '%q%'` scan measured in the same run as the
//! baseline. Prints a Markdown table for BENCHMARKS.md.
//!
//!     cargo bench -p outpost-core --bench store [-- SIZES...]   (default: 10000 100000 1000000)

use std::time::{Duration, Instant};

use outpost_core::customer::CustomerFields;
use outpost_core::{NewCustomer, Store, StoreOptions};

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

async fn bench_size(size: u64, rows: &mut Vec<Row>) {
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
    let mut rows = Vec::new();
    for size in sizes {
        bench_size(size, &mut rows).await;
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
}
