//! Loopback throughput of the emulator: ~32 concurrent keep-alive clients
//! against `GET /health` and `PUT /customers/{key}`, rate limit off.
//!
//! Run with `cargo bench -p crm-emulator` (set `BENCH_SECS` to change the
//! measuring time per scenario; default 5).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_emulator::{Config, Emulator};

const CLIENTS: usize = 32;

struct Outcome {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

async fn run<F>(emu: &Emulator, secs: f64, make: F) -> Outcome
where
    F: Fn(&reqwest::Client, &str, usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let make = Arc::new(make);
    let base = emu.crm_url();
    let errors = Arc::new(AtomicU64::new(0));
    let warmup = Duration::from_millis(500);
    let measure = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|worker| {
            let (client, make, base, errors) =
                (client.clone(), make.clone(), base.clone(), errors.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut n = 0u64;
                loop {
                    let now = Instant::now();
                    if now.duration_since(start) >= warmup + measure {
                        break;
                    }
                    let measuring = now.duration_since(start) >= warmup;
                    let ok = match make(&client, &base, worker, n).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if measuring {
                        lat.push(now.elapsed().as_micros() as u64);
                        if !ok {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    n += 1;
                }
                lat
            })
        })
        .collect();
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.expect("worker"));
    }
    latencies_us.sort_unstable();
    Outcome {
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        elapsed: measure,
        latencies_us,
    }
}

fn report(name: &str, o: &Outcome) {
    let pct = |p: f64| {
        let i = ((o.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        o.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    println!(
        "{name:<28} {:>9.0} req/s  ({} requests in {:.1}s, {} errors)  p50 {:.2} ms  p99 {:.2} ms",
        o.requests as f64 / o.elapsed.as_secs_f64(),
        o.requests,
        o.elapsed.as_secs_f64(),
        o.errors,
        pct(0.50),
        pct(0.99),
    );
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let emu = Emulator::start(Config::unlimited()).await.expect("emulator");
        println!(
            "crm-emulator throughput: {CLIENTS} keep-alive clients, loopback, rate limit off, {} cores",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let health = run(&emu, secs, |c, base, _, _| c.get(format!("{base}/health"))).await;
        report("GET /health", &health);

        let token = emu.token().to_string();
        let put = run(&emu, secs, move |c, base, worker, n| {
            // 1,000 keys per worker: a mix of creates, changed updates and no-op repeats.
            c.put(format!("{base}/customers/w{worker}-k{}", n % 1000))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "first_name": "Bench",
                    "last_name": format!("Worker {worker}"),
                    "email": "bench@example.com",
                    "notes": format!("rev {}", n / 1000 % 2),
                }))
        })
        .await;
        report("PUT /customers/{key}", &put);
        println!("records stored: {}", emu.records().len());
        emu.shutdown().await;
    });
}
