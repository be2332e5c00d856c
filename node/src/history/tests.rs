//! History on an in-process node with an in-memory store: a year and more of rollups under a
//! fake clock (produced, pruned on schedule, read at the right resolution), the one-writer
//! merge rule in the store, and pauses on the status timeline.

use std::time::{Duration, Instant};

use ringwatch_proto::{Monitor, ProbeResult, Status, Transition};

use super::query::{self, DAY_MS, HOUR_MS};
use super::writer::Writer;
use crate::config::Config;
use crate::domain::rollup::{Bucket, Resolution};
use crate::node::Node;
use crate::store::{Rollup, Store};

fn config(name: &str) -> Config {
    Config {
        name: name.into(),
        http: "127.0.0.1:0".parse().unwrap(),
        cluster: "127.0.0.1:0".parse().unwrap(),
        probers: 1,
        ..Config::default()
    }
    .finish()
    .unwrap()
}

/// A node holding one monitor created at `created_ms`, not probed (paused): the test writes
/// its history itself.
async fn node_with(name: &str, created_ms: u64) -> (Node, Monitor) {
    let store = Store::in_memory();
    let mut m = Monitor::new("m-hist".into(), "http://127.0.0.1:9/".into());
    m.active = false;
    m.created_ms = created_ms;
    store.put_monitors(std::slice::from_ref(&m)).unwrap();
    let node = Node::start_with_store(config(name), store).await.unwrap();
    (node, m)
}

fn result(node: &str, at_ms: u64, ok: bool, latency_ms: u64) -> ProbeResult {
    ProbeResult {
        monitor_id: "m-hist".into(),
        at_ms,
        ok,
        status_code: Some(if ok { 200 } else { 503 }),
        latency_ms,
        error: (!ok).then(|| "503".into()),
        error_kind: (!ok).then_some(ringwatch_proto::ErrorKind::BadStatus),
        node: node.into(),
        tls_days_left: None,
        zone: String::new(),
    }
}

/// 2025-01-01T00:00:00Z.
const T0: u64 = 1_735_689_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_and_more_of_rollups_is_produced_pruned_and_read_at_the_right_resolution() {
    let (node, m) = node_with("clock", T0).await;
    let ctx = node.ctx.clone();
    let mut writer = Writer::default();
    // 450 days, one check an hour (30 s past it), each tenth failing.
    let hours = 450 * 24;
    tokio::task::block_in_place(|| {
        for h in 0..hours {
            let at = T0 + h * HOUR_MS + 30_000;
            writer.add(&result("clock", at, h % 10 != 0, 10 + h % 50));
            writer.derive(&ctx); // flushes, then recomputes the hour and the day
        }
    });
    let now = T0 + hours * HOUR_MS;
    let count = |res, from| ctx.store.rollups(&m.id, res, from, now).unwrap().len() as u64;
    assert_eq!(count(Resolution::Minute, 0), hours);
    assert_eq!(count(Resolution::Hour, 0), hours);
    assert_eq!(count(Resolution::Day, 0), 450);

    let pruned = tokio::task::block_in_place(|| super::prune::prune(&ctx, now)).unwrap();
    assert!(pruned.blocks > 0);
    // Minutes: 48 h kept, whole hour-blocks only, so at most one block more.
    let minutes = ctx
        .store
        .rollups(&m.id, Resolution::Minute, 0, now)
        .unwrap();
    let oldest = minutes.first().unwrap().1.start_ms;
    assert!(oldest >= now - 48 * HOUR_MS - HOUR_MS, "{}", now - oldest);
    assert!(oldest <= now - 48 * HOUR_MS, "{}", now - oldest);
    // Hours: 400 days, whole day-blocks.
    let hours_kept = ctx.store.rollups(&m.id, Resolution::Hour, 0, now).unwrap();
    let oldest = hours_kept.first().unwrap().1.start_ms;
    assert!(oldest >= now - 400 * DAY_MS - DAY_MS && oldest <= now - 400 * DAY_MS);
    // Days: 5 years, nothing pruned yet.
    assert_eq!(count(Resolution::Day, 0), 450);

    let stats =
        |window_ms| tokio::task::block_in_place(|| query::stats(&ctx, &m, window_ms, now)).unwrap();
    let day = stats(DAY_MS);
    assert_eq!(day.resolution, Resolution::Minute);
    assert_eq!(day.all.checks, 24);
    let month = stats(30 * DAY_MS);
    assert_eq!(month.resolution, Resolution::Hour);
    assert_eq!(month.all.checks, 30 * 24);
    assert_eq!(month.all.ok, 30 * 24 - 72);
    let year = stats(365 * DAY_MS);
    assert_eq!(year.resolution, Resolution::Day);
    assert_eq!(year.all.checks, 365 * 24);
    let latency = year.all.latency.unwrap();
    assert_eq!((latency.min_ms, latency.max_ms), (11, 59));
    assert_eq!(year.by_node.len(), 1);

    // A series over the year reads days and keeps within 1,000 points.
    let (step, points) =
        tokio::task::block_in_place(|| query::series(&ctx, &m, now - 365 * DAY_MS, now, None, now))
            .unwrap();
    assert_eq!(step % DAY_MS, 0);
    assert!(points.len() <= 1_000);
    let checks: u32 = points.iter().map(|p| p.stats.checks).sum();
    assert_eq!(checks, 365 * 24);
    node.shutdown().await;
}

#[test]
fn the_store_keeps_the_bucket_with_more_checks_whatever_the_order() {
    let store = Store::in_memory();
    let rollup = |checks: u32| {
        let mut b = Bucket::new(T0);
        for i in 0..checks {
            b.add(&result("n2", T0 + u64::from(i), true, 5));
        }
        Rollup {
            monitor_id: "m-hist".into(),
            node: "n2".into(),
            resolution: Resolution::Minute,
            bucket: b,
        }
    };
    assert_eq!(store.merge_rollups(vec![rollup(3)]).unwrap().len(), 1);
    // Older (fewer checks) and repeated states change nothing.
    assert!(
        store
            .merge_rollups(vec![rollup(2), rollup(3)])
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.merge_rollups(vec![rollup(5)]).unwrap().len(), 1);
    let held = store
        .rollups("m-hist", Resolution::Minute, 0, u64::MAX)
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].0.as_str(), held[0].1.checks), ("n2", 5));
    // A bucket that is not on a step boundary is dropped, not stored.
    let mut odd = rollup(9);
    odd.bucket.start_ms += 1;
    assert!(store.merge_rollups(vec![odd]).unwrap().is_empty());
    // Another monitor whose id extends this one's is kept apart.
    let mut other = rollup(1);
    other.monitor_id = "m-hist2".into();
    store.merge_rollups(vec![other]).unwrap();
    assert_eq!(
        store
            .rollups("m-hist", Resolution::Minute, 0, u64::MAX)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn pending_counts_as_up_and_a_pause_leaves_the_watched_time() {
    let mut m = Monitor::new("m".into(), "http://x/".into());
    m.created_ms = 1_000;
    let t = |seq, to, at_ms| Transition {
        monitor_id: "m".into(),
        name: String::new(),
        url: String::new(),
        seq,
        from: Status::Pending,
        to,
        at_ms,
        reason: String::new(),
        node: "n".into(),
        confirmed_by: None,
        last_result: None,
        channels: Vec::new(),
        zones_down: Vec::new(),
        zones_reachable: 0,
    };
    let ts = [
        t(1, Status::Down, 2_000),
        t(2, Status::Up, 3_000),
        t(3, Status::Paused, 5_000),
        t(4, Status::Pending, 8_000),
    ];
    let changes = query::timeline(&m, &ts);
    let a = crate::domain::uptime::availability(&changes, 0, 10_000, 10_000);
    // Watched 1,000..5,000 and 8,000..10,000; down 2,000..3,000.
    assert_eq!(
        (a.observed_ms, a.down_ms, a.paused_ms),
        (6_000, 1_000, 3_000)
    );
    // Paused now, with no recorded pause: paused since its last change.
    m.active = false;
    let changes = query::timeline(&m, &ts[..2]);
    assert_eq!(changes.last().unwrap().1, Status::Paused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_and_resuming_are_recorded_as_status_changes() {
    let node = Node::start_with_store(config("pauser"), Store::in_memory())
        .await
        .unwrap();
    let ctx = node.ctx.clone();
    let mut m = Monitor::new(String::new(), "http://127.0.0.1:9/".into());
    m.interval_secs = 60;
    let m = crate::catalog::create(&ctx, vec![m]).unwrap().remove(0);
    let changes = |ctx: &crate::context::Ctx| -> Vec<Status> {
        ctx.store
            .transitions(&m.id)
            .unwrap()
            .iter()
            .map(|t| t.to)
            .collect()
    };
    let wait = async |want: &[Status]| {
        let start = Instant::now();
        while changes(&ctx) != want {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "transitions {:?}, want {want:?}",
                changes(&ctx)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut paused = (*m).clone();
    paused.active = false;
    crate::catalog::update(&ctx, paused.clone()).unwrap();
    wait(&[Status::Paused]).await;
    let mut resumed = paused;
    resumed.active = true;
    crate::catalog::update(&ctx, resumed).unwrap();
    wait(&[Status::Paused, Status::Pending]).await;
    let ts = ctx.store.transitions(&m.id).unwrap();
    assert!(ts.iter().all(|t| t.channels.is_empty()), "{ts:?}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_by_zone_group_the_nodes_of_each_zone() {
    let (node, m) = node_with("eu1", T0).await;
    let ctx = node.ctx.clone();
    // eu1 is this node (zone `default` here); eu2 and us1 made themselves known, ghost not.
    ctx.learn_zones([("eu1", "eu"), ("eu2", "eu"), ("us1", "us")]);
    // Each node's minute buckets, as its peers ship them.
    let mut rollups = Vec::new();
    for i in 0..10u64 {
        let at = T0 + i * 60_000 + 1_000;
        for (node, ok, latency) in [
            ("eu1", true, 10),
            ("eu2", i % 2 == 0, 20),
            ("us1", true, 30),
            ("ghost", false, 40),
        ] {
            let mut bucket = Bucket::new(Resolution::Minute.floor(at));
            bucket.add(&result(node, at, ok, latency));
            rollups.push(Rollup {
                monitor_id: m.id.clone(),
                node: node.into(),
                resolution: Resolution::Minute,
                bucket,
            });
        }
    }
    ctx.store.merge_rollups(rollups).unwrap();
    let now = T0 + HOUR_MS;
    let stats = tokio::task::block_in_place(|| query::stats(&ctx, &m, HOUR_MS, now)).unwrap();
    let by_zone: Vec<(Option<&str>, u32, u32)> = stats
        .by_zone
        .iter()
        .map(|(z, s)| (z.as_deref(), s.checks, s.ok))
        .collect();
    assert_eq!(
        by_zone,
        [(None, 10, 0), (Some("eu"), 20, 15), (Some("us"), 10, 10)]
    );
    assert_eq!(stats.by_node.len(), 4);
    // The zones are kept: a restart knows them.
    let stored = ctx.store.node_zones().unwrap();
    assert_eq!(stored.get("eu2").map(String::as_str), Some("eu"));
    assert_eq!(stored.get("ghost"), None);
}
