//! The footprint and start-up bench (issue 13 section 7): Outpost's release
//! app, idle with an empty database and with 100,000 customers, against a
//! blank Tauri v2 window built the same way, in one run on one machine.
//!
//!   footprint --outpost PATH --blank PATH [--runs N] [--customers N]
//!
//! (`scripts/bench-footprint` builds both and runs this.) For each start it
//! measures the time from spawning the process to the first painted frame
//! (the window's pixels are no longer one colour) and the idle PSS of the
//! app and its WebKit processes once it has settled, then prints medians and
//! the ratios against the baseline.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use outpost_core::customer::CustomerFields;
use outpost_core::{NewCustomer, Store};

/// How long one start may take to paint, and to settle once painted.
const PAINT_DEADLINE: Duration = Duration::from_secs(60);
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);
/// Idle means: total PSS moved by less than 1 % over this many samples.
const SETTLE_SAMPLES: usize = 6;
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

struct Args {
    outpost: PathBuf,
    blank: PathBuf,
    runs: usize,
    customers: u64,
}

fn args() -> Result<Args> {
    let mut outpost = None;
    let mut blank = None;
    let mut runs = 5;
    let mut customers = 100_000;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--outpost" => outpost = Some(PathBuf::from(value()?)),
            "--blank" => blank = Some(PathBuf::from(value()?)),
            "--runs" => runs = value()?.parse()?,
            "--customers" => customers = value()?.parse()?,
            "--bench" => {} // passed by `cargo bench`-style runners
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Args {
        outpost: outpost.context("--outpost PATH is required")?,
        blank: blank.context("--blank PATH is required")?,
        runs,
        customers,
    })
}

/// One start of one subject.
#[derive(Clone, Copy, Default)]
struct Sample {
    paint: Duration,
    main_kb: u64,
    web_kb: u64,
    network_kb: u64,
    other_kb: u64,
}

impl Sample {
    fn total_kb(&self) -> u64 {
        self.main_kb + self.web_kb + self.network_kb + self.other_kb
    }
}

struct Subject {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    title: &'static str,
    samples: Vec<Sample>,
}

/// A private X server; killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Self> {
        let display = format!(":{}", 600 + std::process::id() % 300);
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("Xvfb is missing (scripts/setup --test installs it)")?;
        let x = Xvfb { child, display };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !x
            .run("xdpyinfo", &[])
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            if Instant::now() > deadline {
                bail!("Xvfb {} did not start within 10 s", x.display);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(x)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<std::process::Output> {
        Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stderr(Stdio::null())
            .output()
            .with_context(|| format!("{program} is missing (scripts/setup --test installs it)"))
    }

    /// The id of the mapped top-level window with this title, if any.
    fn window(&self, title: &str) -> Option<String> {
        let out = self.run("xwininfo", &["-root", "-tree"]).ok()?;
        let needle = format!("\"{title}\"");
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains(&needle))?
            .split_whitespace()
            .next()?
            .to_string();
        let info = self.run("xwininfo", &["-id", &id]).ok()?;
        String::from_utf8_lossy(&info.stdout)
            .contains("Map State: IsViewable")
            .then_some(id)
    }

    /// Whether the window shows more than one colour (something was painted).
    fn painted(&self, id: &str) -> bool {
        self.run("import", &["-window", id, "-format", "%k", "info:"])
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .is_some_and(|colours| colours > 1)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A started subject; killed (with its WebKit processes) on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let pids = descendants(self.0.id());
        let _ = self.0.kill();
        let _ = self.0.wait();
        for pid in pids {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    }
}

/// The process and all its descendants, by walking /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The command may hold spaces and parentheses: the ppid follows the last ')'.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![];
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == p {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

fn pss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn memory(root: u32) -> Sample {
    let mut s = Sample {
        main_kb: pss_kb(root),
        ..Sample::default()
    };
    for pid in descendants(root) {
        let kb = pss_kb(pid);
        match comm(pid).as_str() {
            c if c.starts_with("WebKitWebProces") => s.web_kb += kb,
            c if c.starts_with("WebKitNetworkPr") => s.network_kb += kb,
            _ => s.other_kb += kb,
        }
    }
    s
}

fn start_once(x: &Xvfb, subject: &Subject) -> Result<Sample> {
    let home = tempfile::TempDir::new()?;
    let t0 = Instant::now();
    let child = Command::new(&subject.program)
        .args(&subject.args)
        .env("DISPLAY", &x.display)
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", subject.program.display()))?;
    let mut running = Running(child);
    let deadline = t0 + PAINT_DEADLINE;
    let paint = loop {
        if let Some(status) = running.0.try_wait()? {
            bail!(
                "{} exited ({status}) before its window painted",
                subject.name
            );
        }
        if let Some(id) = x.window(subject.title) {
            if x.painted(&id) {
                break t0.elapsed();
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{}: no painted window within {PAINT_DEADLINE:?}",
                subject.name
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Idle: sample until the total stops moving (a measurement, not a wait for state).
    let settle = Instant::now() + SETTLE_DEADLINE;
    let mut window: Vec<Sample> = vec![];
    let mem = loop {
        std::thread::sleep(SAMPLE_EVERY);
        window.push(memory(running.0.id()));
        if window.len() > SETTLE_SAMPLES {
            window.remove(0);
        }
        let totals: Vec<u64> = window.iter().map(Sample::total_kb).collect();
        let (lo, hi) = (totals.iter().min(), totals.iter().max());
        if window.len() == SETTLE_SAMPLES && hi.zip(lo).is_some_and(|(h, l)| (h - l) * 100 <= *l)
            || Instant::now() > settle
        {
            break *window.last().expect("sampled");
        }
    };
    drop(running);
    Ok(Sample { paint, ..mem })
}

fn median<T: Copy + Ord>(mut xs: Vec<T>) -> T {
    xs.sort();
    xs[xs.len() / 2]
}

fn mb(kb: u64) -> String {
    format!("{:.0}", kb as f64 / 1024.0)
}

fn seed(path: &Path, n: u64) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let store = Store::open(path).await?;
        let mut i = 0;
        while i < n {
            let batch: Vec<_> = (i..(i + 5000).min(n)).map(customer).collect();
            store.create_customers(&batch).await?;
            i += batch.len() as u64;
        }
        store.close().await;
        anyhow::Ok(())
    })
}

/// Deterministic customers of the kind a shop has.
fn customer(i: u64) -> NewCustomer {
    const FIRST: &[&str] = &[
        "Ana", "Jonas", "Mia", "Luca", "Sofia", "Noah", "Emma", "Liam",
    ];
    const LAST: &[&str] = &[
        "Garcia", "Novak", "Schmidt", "Rossi", "Silva", "Dubois", "Berg",
    ];
    const CITIES: &[&str] = &[
        "Berlin", "Madrid", "Lisbon", "Paris", "Rome", "Oslo", "Vienna",
    ];
    let pick = |xs: &[&'static str], k: u64| xs[(k % xs.len() as u64) as usize];
    let (first, last) = (pick(FIRST, i), pick(LAST, i / 7));
    NewCustomer {
        fields: CustomerFields {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: Some(format!("{first}.{last}{i}@example.com").to_lowercase()),
            phone: Some(format!("+49 151 {:07}", i * 7919 % 10_000_000)),
            city: Some(pick(CITIES, i / 3).into()),
            country: Some("DE".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn main() -> Result<()> {
    let args = args()?;
    let dir = tempfile::TempDir::new()?;
    let empty_db = dir.path().join("empty.db");
    let full_db = dir.path().join("full.db");
    let t = Instant::now();
    seed(&full_db, args.customers)?;
    eprintln!(
        "seeded {} customers in {:.1} s",
        args.customers,
        t.elapsed().as_secs_f64()
    );
    let db_arg = |p: &Path| vec!["--db".to_string(), p.display().to_string()];
    let mut subjects = [
        Subject {
            name: "blank Tauri v2 window",
            program: args.blank.clone(),
            args: vec![],
            title: "Blank window",
            samples: vec![],
        },
        Subject {
            name: "blank window, software rendering",
            program: args.blank.clone(),
            args: vec!["--software".into()],
            title: "Blank window",
            samples: vec![],
        },
        Subject {
            name: "Outpost, empty database",
            program: args.outpost.clone(),
            args: db_arg(&empty_db),
            title: "Outpost",
            samples: vec![],
        },
        Subject {
            name: "Outpost, 100k customers",
            program: args.outpost.clone(),
            args: db_arg(&full_db),
            title: "Outpost",
            samples: vec![],
        },
    ];
    let x = Xvfb::start()?;
    // Interleaved, so drift on the machine touches every subject alike; the
    // first start of each warms the page cache and is not counted.
    for round in 0..=args.runs {
        for s in subjects.iter_mut() {
            let sample = start_once(&x, s)?;
            if round > 0 {
                s.samples.push(sample);
            }
        }
        eprintln!("round {round} of {} done", args.runs);
    }
    // Against the default blank window (what a Tauri app costs anyway) and
    // against one rendering in software as Outpost does (what Outpost's own
    // code and UI cost).
    let base = |s: &Subject| {
        (
            median(s.samples.iter().map(Sample::total_kb).collect()),
            median(s.samples.iter().map(|x| x.paint).collect()),
        )
    };
    let bases = [base(&subjects[0]), base(&subjects[1])];
    println!(
        "{} starts each, medians; PSS in MB (main + WebKitWebProcess + WebKitNetworkProcess + other); \
         ratios against the blank window, then against the blank window rendering in software",
        args.runs
    );
    println!(
        "| subject | PSS total | main | web | network | other | PSS ratio | PSS ratio (software) | paint ms | paint ratio | paint ratio (software) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in &subjects {
        let m = |f: fn(&Sample) -> u64| median(s.samples.iter().map(f).collect());
        let (total, paint) = base(s);
        let ratio = |(pss, _): (u64, Duration)| total as f64 / pss as f64;
        let paint_ratio = |(_, p): (u64, Duration)| paint.as_secs_f64() / p.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2}x | {:.2}x | {} | {:.2}x | {:.2}x |",
            s.name,
            mb(total),
            mb(m(|x| x.main_kb)),
            mb(m(|x| x.web_kb)),
            mb(m(|x| x.network_kb)),
            mb(m(|x| x.other_kb)),
            ratio(bases[0]),
            ratio(bases[1]),
            paint.as_millis(),
            paint_ratio(bases[0]),
            paint_ratio(bases[1]),
        );
    }
    Ok(())
}
