//! `--history HOURS`: what the store holds on disk per result at steady state, without
//! waiting days for it.
//!
//! A node's store reaches its steady state only after a full retention period: every result
//! of the window held, the oldest pruned as new ones arrive, packed (or not) as the store
//! does, and the engine's garbage in step with it. A run of minutes shows a store still
//! filling up. This mode writes HOURS of history straight through the node's own `Store`
//! (the library the binary is built from; no node process, no target), the way the recorder
//! does: K monitors at one interval, each on its own phase with a few ms of schedule lag, the
//! results due in each 100 ms of simulated time appended as one batch, and every 10 simulated
//! minutes the retention prune for every monitor. Times end at the real now, so they are
//! coded like real ones; latencies, failures and certificate days vary like a healthy fleet's.
//! Simulated time runs as fast as the store takes it.
//!
//! Every few simulated hours, and at the end, it reports the results held (appended minus
//! pruned), the store's size on disk (`Store::disk_bytes`, the node's `store_disk_bytes`
//! gauge: sled's files, garbage included) over those results, and the rate the store took
//! appends at (wall clock, prunes included).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use ringwatch::config::Config;
use ringwatch::store::sled_kv::SledKv;
use ringwatch::store::{Kv, Store, Tree};
use ringwatch_proto::{ErrorKind, ProbeResult};

/// The recorder's flush interval: one append per this much simulated time.
const TICK_MS: u64 = 100;
/// How often the recorder's retention prune runs (`Config::prune_every`'s default).
const PRUNE_EVERY_MS: u64 = 600_000;
/// The node's page cache for the store (`store_cache_mb`'s default).
const CACHE_BYTES: u64 = 64 << 20;
/// Schedule lag added to each check's start, at most.
const LAG_MS: u64 = 15;
/// One check in this many fails.
const FAIL_ONE_IN: u64 = 200;
/// The probing node's name.
const NODE: &str = "bench-n1";

/// One history run.
pub struct HistoryPlan {
    pub monitors: u64,
    pub interval_secs: u64,
    pub hours: u64,
    /// `None`: the node's default retention.
    pub retention_hours: Option<u64>,
    /// Results per wall-clock second at most (`None`: as fast as the store takes them).
    pub rate: Option<u64>,
}

/// One line of the report.
struct Sample {
    simulated_h: f64,
    held: u64,
    disk: u64,
    appends_per_sec: f64,
}

/// Runs the simulation in a fresh temporary data directory and prints the report.
pub fn run(plan: &HistoryPlan, header: &str) -> Result<()> {
    let retention_ms = match plan.retention_hours {
        Some(h) => h * 3_600_000,
        None => Config::default().retention.as_millis() as u64,
    };
    let dir = tempfile::Builder::new()
        .prefix("ringwatch-bench-history")
        .tempdir()?;
    let store = Store::open(dir.path(), CACHE_BYTES).context("open the store")?;
    let samples = simulate(&store, plan, retention_ms)?;
    store.flush()?;
    drop(store);
    let allocated = allocated_bytes(dir.path());
    let (keys, logical) = results_tree_bytes(dir.path())?;
    println!("{header}");
    println!(
        "- history: {} monitors at {} s for {} simulated hours, retention {} h, prune every {} min, \
         one append per {TICK_MS} ms of simulated time, {}",
        plan.monitors,
        plan.interval_secs,
        plan.hours,
        retention_ms as f64 / 3_600_000.0,
        PRUNE_EVERY_MS / 60_000,
        match plan.rate {
            Some(r) => format!("at most {r} results per wall-clock second"),
            None => "as fast as the store takes them".to_string(),
        }
    );
    println!(
        "- held: results appended minus results pruned; disk: `Store::disk_bytes` (the \
         `store_disk_bytes` gauge); appends/s: results through the store per wall-clock second"
    );
    println!();
    println!("| simulated h | results held | disk MiB | disk B/result | appends/s |");
    println!("|--:|--:|--:|--:|--:|");
    for s in &samples {
        println!(
            "| {:.1} | {} | {:.1} | {:.1} | {:.0} |",
            s.simulated_h,
            s.held,
            s.disk as f64 / (1 << 20) as f64,
            s.disk as f64 / s.held.max(1) as f64,
            s.appends_per_sec
        );
    }
    if let Some(last) = samples.last() {
        println!();
        println!(
            "At the end: {:.1} B per result held ({} bytes in sled's files; the directory \
             allocates {allocated} bytes on disk, {:.1} B per result).",
            last.disk as f64 / last.held.max(1) as f64,
            last.disk,
            allocated as f64 / last.held.max(1) as f64
        );
        println!(
            "The `results` tree holds {keys} keys; their keys and values take {logical} bytes, \
             {:.1} B per result held: the rest of the disk figure is the engine's (sled's log \
             keeps each node of its tree whole, plus garbage not yet cleaned).",
            logical as f64 / last.held.max(1) as f64
        );
    }
    Ok(())
}

/// Writes the history; returns a sample per reporting period and one at the end.
fn simulate(store: &Store, plan: &HistoryPlan, retention_ms: u64) -> Result<Vec<Sample>> {
    let interval_ms = plan.interval_secs * 1_000;
    let span_ms = plan.hours * 3_600_000;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let start_ms = now_ms - span_ms;
    let fleet = Fleet::new(plan.monitors, interval_ms);
    let report_every_ms = (span_ms / 12).max(3_600_000);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut appended, mut pruned) = (0u64, 0u64);
    let mut samples = Vec::new();
    let mut wall = Instant::now();
    let mut appended_at_sample = 0u64;
    let mut batch = Vec::new();
    let mut t = start_ms;
    let paced_from = Instant::now();
    while t < now_ms {
        let offset = (t - start_ms) % interval_ms;
        for &m in fleet.due(offset) {
            batch.push(fleet.result(m, t, start_ms, &mut rng));
        }
        if !batch.is_empty() {
            store.append_results(&batch)?;
            appended += batch.len() as u64;
            batch.clear();
            if let Some(rate) = plan.rate {
                // The engine's background work (sled's log cleaning) runs on wall-clock time.
                let due = Duration::from_secs_f64(appended as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(paced_from.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        t += TICK_MS;
        let elapsed = t - start_ms;
        if elapsed.is_multiple_of(PRUNE_EVERY_MS) {
            let cutoff = t.saturating_sub(retention_ms);
            for id in &fleet.ids {
                pruned += store.prune_results(id, cutoff)? as u64;
            }
        }
        if elapsed.is_multiple_of(report_every_ms) || t >= now_ms {
            let secs = wall.elapsed().as_secs_f64().max(1e-9);
            samples.push(Sample {
                simulated_h: elapsed as f64 / 3_600_000.0,
                held: appended - pruned,
                disk: store.disk_bytes(),
                appends_per_sec: (appended - appended_at_sample) as f64 / secs,
            });
            eprintln!(
                "history: {:.1} h simulated, {} results held, {:.1} MiB",
                elapsed as f64 / 3_600_000.0,
                appended - pruned,
                store.disk_bytes() as f64 / (1 << 20) as f64
            );
            appended_at_sample = appended;
            wall = Instant::now();
        }
    }
    Ok(samples)
}

/// The monitors: ids, phases and what each one's target answers like.
struct Fleet {
    ids: Vec<String>,
    /// Per 100 ms slot of the interval, the monitors whose phase falls in it.
    slots: Vec<Vec<usize>>,
    phase_ms: Vec<u64>,
    /// Typical latency of each monitor's target.
    base_latency_ms: Vec<u64>,
    https: Vec<bool>,
}

impl Fleet {
    fn new(k: u64, interval_ms: u64) -> Self {
        let mut rng = Rng(0xf1ee_7000_0000_0001);
        let mut slots = vec![Vec::new(); interval_ms.div_ceil(TICK_MS) as usize];
        let mut fleet = Fleet {
            ids: Vec::new(),
            slots: Vec::new(),
            phase_ms: Vec::new(),
            base_latency_ms: Vec::new(),
            https: Vec::new(),
        };
        for i in 0..k as usize {
            // Ids as the server makes them: `m-` and 16 hex digits.
            fleet.ids.push(format!("m-{:016x}", rng.next()));
            let phase = rng.below(interval_ms);
            slots[(phase / TICK_MS) as usize].push(i);
            fleet.phase_ms.push(phase);
            fleet.base_latency_ms.push(5 + rng.below(300));
            fleet.https.push(rng.below(2) == 0);
        }
        fleet.slots = slots;
        fleet
    }

    /// The monitors due in the 100 ms slot starting `offset_ms` into the interval.
    fn due(&self, offset_ms: u64) -> &[usize] {
        &self.slots[(offset_ms / TICK_MS) as usize]
    }

    /// Monitor `m`'s check of the slot starting at `slot_ms`.
    fn result(&self, m: usize, slot_ms: u64, start_ms: u64, rng: &mut Rng) -> ProbeResult {
        let at_ms = slot_ms + self.phase_ms[m] % TICK_MS + rng.below(LAG_MS);
        let base = self.base_latency_ms[m];
        let latency_ms = base + rng.below(base / 3 + 1);
        let days_left = 90 - ((at_ms - start_ms) / 86_400_000) as i64;
        let mut r = ProbeResult {
            monitor_id: self.ids[m].clone(),
            at_ms,
            ok: true,
            status_code: Some(200),
            latency_ms,
            error: None,
            error_kind: None,
            node: NODE.to_owned(),
            tls_days_left: self.https[m].then_some(days_left),
            zone: String::new(),
        };
        if rng.below(FAIL_ONE_IN) == 0 {
            r.ok = false;
            if rng.below(2) == 0 {
                r.status_code = Some(503);
                r.error = Some("status 503".into());
                r.error_kind = Some(ErrorKind::BadStatus);
            } else {
                r.status_code = None;
                r.latency_ms = 5_000;
                r.error = Some("timed out after 5000 ms".into());
                r.error_kind = Some(ErrorKind::Timeout);
            }
        }
        r
    }
}

/// Keys and bytes of keys and values in the `results` tree of the store in `dir`, read back
/// once the store has closed (sled releases its lock from a background thread: retried).
fn results_tree_bytes(dir: &Path) -> Result<(u64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let kv = loop {
        match SledKv::open(dir, CACHE_BYTES) {
            Ok(kv) => break kv,
            Err(_) if Instant::now() < deadline => std::thread::yield_now(),
            Err(e) => return Err(e).context("reopen the store"),
        }
    };
    let pairs = kv.scan(Tree::Results)?;
    let bytes = pairs.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
    Ok((pairs.len() as u64, bytes))
}

/// Bytes the files under `dir` occupy on disk (allocated blocks, not apparent sizes).
fn allocated_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => allocated_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// xorshift64*: the same history on every run (also `--rollups`').
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
