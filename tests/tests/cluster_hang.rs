//! A hung node (SIGSTOP) answers nothing but keeps its sessions open: only the heartbeat
//! timeout can tell. It must be declared dead, and its monitors moved, within that timeout
//! (plus the slack below); after SIGCONT it rejoins and each monitor has one prober again.

use ringwatch_tests::cluster::{
    Cluster, assert_probe_rates, assert_probed_within, busiest, monitor_paths, paths_owned_by,
    wait_all_probed_since,
};
use ringwatch_tests::{Target, ms, secs};
use std::time::{Duration, Instant};

/// `--heartbeat-timeout` of every node in this test.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);
/// On top of the timeout: the node may have been silent for up to one heartbeat period
/// (0.5 s) before it stopped, membership is checked every 0.25 s, the new owner's first probe
/// is due within one interval (1 s), and the machine is shared (0.25 s).
const DETECTION_SLACK: Duration = Duration::from_secs(2);
/// A request the paused node wrote just before SIGSTOP may still be read by the target this
/// long after the signal; later probes are by another node.
const IN_FLIGHT: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_is_declared_dead_within_the_heartbeat_timeout_and_rejoins_after_sigcont() {
    let mut cluster = Cluster::start_with(3, &["--heartbeat-timeout", "2s"]).await;
    let target = Target::start().await;
    let paths = monitor_paths(30);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n1", &target, &paths, 1).await;
    let ids: Vec<String> = monitors.iter().map(|m| m.id.clone()).collect();
    let owners = cluster.wait_owners_agree(&ids, secs(5)).await;
    wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
    let victim = busiest(&owners);
    let victim_paths = paths_owned_by(&owners, &ids, &paths, &victim);

    let stopped_at = cluster.pause(&victim);
    let bound = HEARTBEAT_TIMEOUT + DETECTION_SLACK;
    let firsts =
        wait_all_probed_since(&target, &victim_paths, stopped_at + IN_FLIGHT, secs(15)).await;
    assert_probed_within(&firsts, stopped_at, bound);
    // By then the survivors have declared it dead.
    cluster
        .wait_converged(bound.saturating_sub(stopped_at.elapsed()).max(ms(1)))
        .await;
    let moved = cluster.wait_owners_agree(&ids, secs(2)).await;
    assert!(!moved.values().any(|o| *o == victim), "{moved:?}");

    cluster.resume(&victim);
    cluster.wait_converged(secs(10)).await;
    let rejoined_at = Instant::now();
    let back = cluster.wait_owners_agree(&ids, secs(5)).await;
    assert_eq!(back, owners, "owners after {victim} resumed");
    // Steady state once every node sees every node again (one interval for the hand-back
    // under way): one prober per monitor.
    assert_probe_rates(
        &target,
        &paths,
        rejoined_at + secs(1),
        secs(6),
        Some(0.8),
        1.2,
    )
    .await;
}
