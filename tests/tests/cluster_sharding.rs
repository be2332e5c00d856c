//! Three nodes joined through one address share the probing: every monitor is owned by one
//! node, every node owns some, and in steady state each monitor is probed once per interval
//! (SPEC: "every active monitor is probed by exactly one prober in steady state").

use ringwatch_tests::cluster::{
    Cluster, assert_probe_rates, count_by_owner, monitor_paths, wait_all_probed_since,
};
use ringwatch_tests::{ms, secs};
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_join_through_n1_and_probe_thirty_monitors_once_per_interval() {
    let cluster = Cluster::launch(3, &[]).await;
    // Issue 3: within 5 s of starting, n2 and n3 (joined through n1) and n1 list all three.
    cluster.wait_converged(secs(5)).await;
    for view in cluster.views().await {
        for name in ["n1", "n2", "n3"] {
            let member = view
                .member(name)
                .unwrap_or_else(|| panic!("{} does not list {name}: {view:?}", view.node));
            assert!(
                member.alive,
                "{} lists {name} not alive: {view:?}",
                view.node
            );
            assert_eq!(member.is_self, name == view.node, "{view:?}");
            let node = cluster.node(name);
            assert_eq!(member.http, node.http_addr().to_string(), "{view:?}");
            assert_eq!(member.cluster, node.cluster_addr().to_string(), "{view:?}");
        }
    }

    let target = ringwatch_tests::Target::start().await;
    let paths = monitor_paths(30);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n2", &target, &paths, 1).await;
    let ids: Vec<String> = monitors.iter().map(|m| m.id.clone()).collect();

    let owners = cluster.wait_owners_agree(&ids, secs(5)).await;
    let counts = count_by_owner(&owners);
    assert_eq!(
        counts.keys().collect::<Vec<_>>(),
        ["n1", "n2", "n3"],
        "30 monitors must be owned by all three nodes: {counts:?}"
    );
    for view in cluster.views().await {
        for (name, owned) in &counts {
            let listed = view.member(name).map(|m| m.monitors_owned);
            assert_eq!(
                listed,
                Some(*owned),
                "{} says {name} owns {listed:?}, the monitors' owners say {owned}",
                view.node
            );
        }
    }

    // Steady state from the first probe of the last monitor on: 0.8-1.2 probes per second for
    // each monitor over 6 s, counted at the target (no duplicates, no misses).
    let firsts = wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
    let last_first = firsts.values().max().copied().expect("30 paths");
    assert_probe_rates(
        &target,
        &paths,
        last_first + ms(500),
        secs(6),
        Some(0.8),
        1.2,
    )
    .await;
}
