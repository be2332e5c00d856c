//! `--rollups`: what history costs a node at steady state, and how fast it answers.
//!
//! Writes, straight through the node's own `Store`, the rollups K monitors checked every 60 s
//! hold once every retention is full (the defaults: minute buckets for 48 h, hour buckets for
//! 400 days, day buckets for 5 years), with latencies spread like a healthy fleet's (each
//! target its own typical latency, jitter and a slow tail, one check in 200 failing) and two
//! short outages a month on the timeline (status changes as big as real ones, each delivered
//! to one channel). Then it reports the bytes per monitor (encoded, and
//! in sled's files), starts the real node binary on that data directory and times, over the
//! HTTP API, `stats?window=1y` of one monitor and the whole monitor list with its uptime
//! columns (p50 and max of repeated requests).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use ringwatch::domain::rollup::{Bucket, Resolution};
use ringwatch::store::{Rollup, Store};
use ringwatch_proto::{
    Delivery, ErrorKind, Monitor, ProbeResult, Status, Transition, encode_record,
};

use crate::history::Rng;
use crate::node::{Node, Spec};

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;
/// The node's page cache for the store (`store_cache_mb`'s default).
const CACHE_BYTES: u64 = 64 << 20;
/// The probing node's name; also the name the node is started with.
const NODE: &str = "bench";
/// Requests per timed route.
const REQUESTS: usize = 30;
/// Monitors given the full five years (the bytes per monitor are measured on them); the
/// others get the last two days of hours, all the list's columns read.
const FULL_HISTORY: u64 = 50;

pub struct RollupsPlan {
    pub monitors: u64,
}

/// One check of a target whose typical latency is `base` ms.
fn check(id: &str, at_ms: u64, base: u64, rng: &mut Rng) -> ProbeResult {
    let ok = rng.below(200) != 0;
    let jitter = rng.below(base / 2 + 2);
    let tail = if rng.below(50) == 0 { base * 3 } else { 0 };
    ProbeResult {
        monitor_id: id.to_owned(),
        at_ms,
        ok,
        status_code: Some(if ok { 200 } else { 503 }),
        latency_ms: base + jitter + tail,
        error: None,
        error_kind: (!ok).then_some(ErrorKind::BadStatus),
        node: NODE.into(),
        tls_days_left: None,
        zone: String::new(),
    }
}

/// A bucket of `n` checks, one every minute from `start`.
fn bucket(id: &str, start: u64, n: u64, base: u64, rng: &mut Rng) -> Bucket {
    let mut b = Bucket::new(start);
    for i in 0..n {
        b.add(&check(id, start + i * MINUTE_MS, base, rng));
    }
    b
}

fn rollup(id: &str, resolution: Resolution, bucket: Bucket) -> Rollup {
    Rollup {
        monitor_id: id.to_owned(),
        node: NODE.into(),
        resolution,
        bucket,
    }
}

/// Writes the last two days of hour buckets of a monitor.
fn write_recent(store: &Store, m: &Monitor, now: u64, rng: &mut Rng) -> Result<()> {
    let base = 5 + rng.below(300);
    let from = Resolution::Hour.floor(now - 48 * HOUR_MS);
    let hours = (0..48)
        .map(|h| {
            let start = from + h * HOUR_MS;
            rollup(&m.id, Resolution::Hour, bucket(&m.id, start, 60, base, rng))
        })
        .collect();
    store.merge_rollups(hours)?;
    Ok(())
}

/// Writes one monitor's full history.
fn write_monitor(store: &Store, m: &Monitor, now: u64, rng: &mut Rng) -> Result<()> {
    let base = 5 + rng.below(300);
    let put = |rs: Vec<Rollup>| -> Result<()> {
        store.merge_rollups(rs)?;
        Ok(())
    };
    // Minutes: 48 h, one check each.
    let from = Resolution::Minute.floor(now - 48 * HOUR_MS);
    let minutes: Vec<Rollup> = (0..48 * 60)
        .map(|i| {
            let start = from + i * MINUTE_MS;
            rollup(
                &m.id,
                Resolution::Minute,
                bucket(&m.id, start, 1, base, rng),
            )
        })
        .collect();
    put(minutes)?;
    // Hours: 400 days of 60 checks; days: 1826 days of 1,440 (as merged hours).
    let from = Resolution::Day.floor(now - 1826 * DAY_MS);
    for d in 0..1826 {
        let day_start = from + d * DAY_MS;
        let mut day = Bucket::new(day_start);
        let mut hours = Vec::with_capacity(24);
        for h in 0..24 {
            let hour = bucket(&m.id, day_start + h * HOUR_MS, 60, base, rng);
            day.merge(&hour);
            if day_start + h * HOUR_MS >= now - 400 * DAY_MS {
                hours.push(rollup(&m.id, Resolution::Hour, hour));
            }
        }
        day.start_ms = day_start;
        hours.push(rollup(&m.id, Resolution::Day, day));
        put(hours)?;
    }
    Ok(())
}

/// Two outages a month, a few minutes each, over the last `days`: the timeline uptime reads.
fn transitions(m: &Monitor, now: u64, days: u64, rng: &mut Rng) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut at = now - days * DAY_MS;
    let mut seq = 0;
    while at < now {
        at += rng.below(30 * DAY_MS) + HOUR_MS;
        for (to, after) in [
            (Status::Down, 0),
            (Status::Up, (2 + rng.below(10)) * MINUTE_MS),
        ] {
            seq += 1;
            // As big as a real one: the failing check's error and a second opinion.
            let error = "unexpected status 503 Service Unavailable";
            let last = ProbeResult {
                monitor_id: m.id.clone(),
                at_ms: at + after,
                ok: to == Status::Up,
                status_code: Some(if to == Status::Up { 200 } else { 503 }),
                latency_ms: 120,
                error: (to == Status::Down).then(|| error.to_owned()),
                error_kind: (to == Status::Down).then_some(ErrorKind::BadStatus),
                node: NODE.into(),
                tls_days_left: Some(60),
                zone: String::new(),
            };
            out.push(Transition {
                monitor_id: m.id.clone(),
                name: m.name.clone(),
                url: m.url.clone(),
                seq,
                from: if to == Status::Up {
                    Status::Down
                } else {
                    Status::Up
                },
                to,
                at_ms: at + after,
                reason: match to {
                    Status::Down => format!("{NODE}: {error}; confirmed by bench-2: {error}"),
                    _ => format!("{NODE}: status 200"),
                },
                node: NODE.into(),
                confirmed_by: (to == Status::Down).then(|| "bench-2".to_owned()),
                last_result: Some(last),
                channels: vec!["n-0123456789abcdef".into()],
                zones_down: Vec::new(),
                zones_reachable: 0,
            });
        }
    }
    out
}

/// The record of a transition's notification to its one channel.
fn delivery(t: &Transition) -> Delivery {
    Delivery {
        monitor_id: t.monitor_id.clone(),
        seq: t.seq,
        channel: t.channels[0].clone(),
        at_ms: t.at_ms + 400,
        node: NODE.into(),
        attempts: 1,
        failed: None,
    }
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs the plan and prints its report.
pub async fn run(bin: &Path, plan: &RollupsPlan, header: &str) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("ringwatch-bench-rollups")
        .tempdir()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let started = Instant::now();
    let (disk, ids, footprint, timeline) = tokio::task::block_in_place(|| -> Result<_> {
        let store = Store::open(&dir.path().join("data"), CACHE_BYTES).context("open the store")?;
        let mut full_disk = 0;
        let mut footprint = [(0u64, 0u64, 0u64); 3];
        // Transitions of the full-history monitors: how many, and their keys and values.
        let mut timeline = (0u64, 0u64);
        let mut ids = Vec::new();
        for i in 0..plan.monitors {
            let mut m = Monitor::new(
                format!("m-{:016x}", rng.next()),
                format!("http://127.0.0.1:9/{i}"),
            );
            m.name = format!("bench {i}");
            // Paused: the node answers for its history without probing anything.
            m.active = false;
            m.created_ms = now - 1826 * DAY_MS;
            store.put_monitors(std::slice::from_ref(&m))?;
            let days = if i < FULL_HISTORY {
                write_monitor(&store, &m, now, &mut rng)?;
                1826
            } else {
                write_recent(&store, &m, now, &mut rng)?;
                31
            };
            let changes = transitions(&m, now, days, &mut rng);
            store.put_deliveries(changes.iter().map(delivery).collect())?;
            store.put_transitions(changes)?;
            ids.push(m.id);
            if i + 1 == FULL_HISTORY.min(plan.monitors) {
                store.flush()?;
                full_disk = store.disk_bytes();
                for id in &ids {
                    for (sum, f) in footprint.iter_mut().zip(store.rollup_footprint(id)?) {
                        *sum = (sum.0 + f.0, sum.1 + f.1, sum.2 + f.2);
                    }
                    for t in store.transitions(id)? {
                        // The key is `len(id) id seq` (store::keys::transition_key).
                        let key = 1 + id.len() + 8;
                        timeline.0 += 1;
                        timeline.1 += (key + encode_record(&t).len()) as u64;
                    }
                    for d in store.deliveries_of(id)? {
                        // The transition's key and the channel id (store::keys::delivery_key).
                        let key = 1 + id.len() + 8 + d.channel.len();
                        timeline.1 += (key + encode_record(&d).len()) as u64;
                    }
                }
            }
            if (i + 1) % 1_000 == 0 {
                eprintln!("rollups: {} of {} monitors written", i + 1, plan.monitors);
            }
        }
        store.flush()?;
        Ok((full_disk, ids, footprint, timeline))
    })?;
    let wrote = started.elapsed();
    let k = FULL_HISTORY.min(plan.monitors).max(1);

    let spec = Spec {
        name: NODE,
        dir: dir.path(),
        join: None,
        incarnation: 1,
    };
    let node = Node::launch(bin, &spec)?;
    // The list's uptime columns are computed in the background after start.
    let figures_deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let list = node.get_json("/api/monitors?limit=1").await?;
        if !list[0]["uptime_30d"].is_null() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < figures_deadline,
            "no uptime columns after 10 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let time = async |path: &str| -> Result<(Duration, Duration, usize)> {
        let mut took = Vec::with_capacity(REQUESTS);
        let mut bytes = 0;
        for _ in 0..REQUESTS {
            let (elapsed, len) = node.get_timed(path).await?;
            took.push(elapsed);
            bytes = len;
        }
        took.sort();
        Ok((percentile(&took, 0.5), took[took.len() - 1], bytes))
    };
    let stats = time(&format!("/api/monitors/{}/stats?window=1y", ids[0])).await?;
    let list = time("/api/monitors").await?;

    println!("{header}");
    println!(
        "- rollups: {} monitors at 60 s, the first {k} with every retention full (minutes 48 h, \
         hours 400 d, days 1826 d; the bytes per monitor are theirs), the others with the last \
         48 hours of hours; latencies 5-300 ms typical with jitter and a slow tail, 1 check in \
         200 failing, two short outages a month on every timeline; written in {:.0} s",
        plan.monitors,
        wrote.as_secs_f64()
    );
    println!(
        "- stored bytes: keys and values of the rollup blocks (hour and day blocks deflated); \
         disk: `Store::disk_bytes` after the full ones were written (sled's files, with the \
         garbage of writing five years in minutes, transitions and definitions too); times: {REQUESTS} requests each to the real node started on \
         that data directory"
    );
    println!();
    println!(
        "| resolution | blocks/monitor | buckets/monitor | stored bytes/monitor (keys + values) | bytes/bucket |"
    );
    println!("|---|--:|--:|--:|--:|");
    let mut total = 0;
    for (res, (blocks, buckets, bytes)) in Resolution::all().into_iter().zip(footprint) {
        total += bytes;
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.1} |",
            res.as_str(),
            blocks as f64 / k as f64,
            buckets as f64 / k as f64,
            bytes as f64 / k as f64,
            bytes as f64 / buckets.max(1) as f64
        );
    }
    println!(
        "| all | | | {:.0} ({:.1} KiB) | |",
        total as f64 / k as f64,
        total as f64 / k as f64 / 1024.0
    );
    println!(
        "| status changes (5 years), with their deliveries to one channel | | {:.0} | {:.0} | {:.1} |",
        timeline.0 as f64 / k as f64,
        timeline.1 as f64 / k as f64,
        timeline.1 as f64 / timeline.0.max(1) as f64
    );
    println!();
    println!(
        "| monitors | disk KiB/monitor | stats 1y p50 ms | stats 1y max ms | list p50 ms | list max ms | list bytes |"
    );
    println!("|--:|--:|--:|--:|--:|--:|--:|");
    println!(
        "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        plan.monitors,
        disk as f64 / k as f64 / 1024.0,
        stats.0.as_secs_f64() * 1e3,
        stats.1.as_secs_f64() * 1e3,
        list.0.as_secs_f64() * 1e3,
        list.1.as_secs_f64() * 1e3,
        list.2,
    );
    Ok(())
}
