//! SPEC: "a ... result written on any node is readable on every live node within 1 s".
//! Issue 4's measure of it: 12 monitors at 1 s for 10 s; per monitor, the result counts of the
//! last 6 s on the three nodes differ by at most 2, and every node's newest result is at most
//! 2 s old.

use ringwatch_tests::cluster::{Cluster, monitor_paths, wait_all_probed_since};
use ringwatch_tests::{Target, measurement_window_until, now_ms, secs};
use std::time::Instant;

/// Issue 4: most a monitor's result counts over the last 6 s may differ between nodes.
const MAX_COUNT_SPREAD: usize = 2;
/// Issue 4: oldest a node's newest result of a monitor probed every second may be.
const MAX_NEWEST_AGE_MS: u64 = 2_000;
/// The window the counts are compared over.
const WINDOW_MS: u64 = 6_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_holds_the_same_recent_results_of_every_monitor() {
    let cluster = Cluster::start(3).await;
    let target = Target::start().await;
    let paths = monitor_paths(12);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n1", &target, &paths, 1).await;
    let ids: Vec<String> = monitors.iter().map(|m| m.id.clone()).collect();
    cluster.wait_owners_agree(&ids, secs(5)).await;
    let firsts = wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
    let first = firsts.values().min().copied().expect("12 paths");
    measurement_window_until(first + secs(10)).await;

    let to_ms = now_ms();
    let from_ms = to_ms - WINDOW_MS;
    let mut problems = Vec::new();
    for id in &ids {
        let mut counts = Vec::new();
        for node in ["n1", "n2", "n3"] {
            let asked_ms = now_ms();
            let results = cluster.api(node).results(id, Some(from_ms), None).await;
            let count = results
                .iter()
                .filter(|r| (from_ms..to_ms).contains(&r.at_ms))
                .count();
            counts.push(count);
            let age = results.last().map(|r| asked_ms.saturating_sub(r.at_ms));
            if age.is_none_or(|age| age > MAX_NEWEST_AGE_MS) {
                problems.push(format!("{node}'s newest result of {id} is {age:?} ms old"));
            }
        }
        let spread = counts.iter().max().unwrap_or(&0) - counts.iter().min().unwrap_or(&0);
        if spread > MAX_COUNT_SPREAD {
            problems.push(format!(
                "{id}: counts of the last 6 s on n1, n2, n3: {counts:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
