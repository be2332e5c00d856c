//! A partition made with the node's fault layer (`POST /api/debug/partition`): each side keeps
//! probing every monitor (a duplicate across sides is acceptable, a monitor probed by no one
//! is not), and within 5 s of the heal there is one prober per monitor again.

use ringwatch_tests::cluster::{Split, allowed_probes, assert_probe_rates, wait_results_by};
use ringwatch_tests::{measurement_window_until, now_ms, secs};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Issue 3: after the heal, one prober per monitor within this.
const HEAL_BOUND: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_of_a_partition_probe_everything_and_the_heal_restores_one_prober() {
    let Split {
        cluster,
        target,
        paths,
        ids,
        split_ms,
    } = Split::start(30).await;
    let left = Split::LEFT;

    // Each side owns and probes every monitor, at least 0.8 times per second.
    for (node, side) in [("n1", left), ("n3", &["n3"][..])] {
        let owners = cluster.owners(node).await;
        let foreign: Vec<_> = owners
            .iter()
            .filter(|(_, o)| !o.as_deref().is_some_and(|o| side.contains(&o)))
            .collect();
        assert!(
            foreign.is_empty(),
            "{node} assigns outside {side:?}: {foreign:?}"
        );
    }
    let from_ms = split_ms + 1_000;
    let window = secs(5);
    measurement_window_until(Instant::now() + secs(1) + window).await;
    let (min, _) = allowed_probes(window, 0.8, 1.2);
    for (node, side) in [("n1", left), ("n3", &["n3"][..])] {
        let api = cluster.api(node);
        let mut short = Vec::new();
        for id in &ids {
            let count = api
                .results(id, Some(from_ms), None)
                .await
                .iter()
                .filter(|r| side.contains(&r.node.as_str()) && r.at_ms < from_ms + 5_000)
                .count();
            if count < min {
                short.push(format!("{id}: {count}"));
            }
        }
        assert!(
            short.is_empty(),
            "side {side:?} must probe each monitor >= {min} times in {window:?}: {short:?}"
        );
    }

    let heal_ms = now_ms();
    let healed_at = Instant::now();
    cluster.heal().await;
    cluster.wait_converged(HEAL_BOUND).await;
    // From 5 s after the heal: one prober per monitor, counted at the target...
    assert_probe_rates(
        &target,
        &paths,
        healed_at + HEAL_BOUND,
        secs(5),
        Some(0.8),
        1.2,
    )
    .await;
    // ...and by the probers named in the results (every node holds every result by now).
    let since = heal_ms + HEAL_BOUND.as_millis() as u64;
    wait_results_by(
        &cluster.api("n1"),
        &["n1", "n2", "n3"],
        &ids,
        since,
        secs(2),
    )
    .await;
    let mut shared = Vec::new();
    for id in &ids {
        let probers: BTreeSet<String> = cluster
            .api("n1")
            .results(id, Some(since), None)
            .await
            .into_iter()
            .map(|r| r.node)
            .collect();
        if probers.len() > 1 {
            shared.push(format!("{id}: {probers:?}"));
        }
    }
    assert!(
        shared.is_empty(),
        "monitors probed by more than one node from {HEAL_BOUND:?} after the heal: {shared:?}"
    );
}
