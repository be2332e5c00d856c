//! kill -9 of cluster members: SPEC "after a node dies (kill -9), each monitor it owned is
//! probed again within 5 s"; the dead node is reported not alive and owns nothing; restarted
//! with its data it takes its share back without double probing; and the node everyone joined
//! through is no more special than the others.

use ringwatch_tests::cluster::{
    Cluster, assert_probe_rates, assert_probed_within, busiest, monitor_paths,
    wait_all_probed_since, wait_results_by,
};
use ringwatch_tests::{Target, now_ms, secs};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// SPEC: each monitor of a killed node is probed again within this.
const FAILOVER: Duration = Duration::from_secs(5);

/// Three nodes probing 30 monitors (added on n2) at 1 s, every monitor probed at least once.
struct Setup {
    cluster: Cluster,
    target: Target,
    paths: Vec<String>,
    ids: Vec<String>,
    /// monitor id -> owner, agreed by every node.
    owners: BTreeMap<String, String>,
}

impl Setup {
    async fn start() -> Setup {
        let cluster = Cluster::start(3).await;
        let target = Target::start().await;
        let paths = monitor_paths(30);
        let created_at = Instant::now();
        let monitors = cluster.create_monitors("n2", &target, &paths, 1).await;
        let ids: Vec<String> = monitors.into_iter().map(|m| m.id).collect();
        let owners = cluster.wait_owners_agree(&ids, secs(5)).await;
        wait_all_probed_since(&target, &paths, created_at, secs(5)).await;
        Setup {
            cluster,
            target,
            paths,
            ids,
            owners,
        }
    }

    /// Ids and paths of the monitors `node` owns.
    fn owned_by(&self, node: &str) -> (Vec<String>, Vec<String>) {
        self.ids
            .iter()
            .zip(&self.paths)
            .filter(|(id, _)| self.owners[*id] == node)
            .map(|(id, path)| (id.clone(), path.clone()))
            .unzip()
    }

    /// kill -9 of `node`, then asserts that each of `paths` is probed within [`FAILOVER`]
    /// of the kill.
    async fn kill_and_expect_failover(&mut self, node: &str, paths: &[String]) {
        let killed_at = self.cluster.kill(node).await;
        // Only probes that arrive after the process is gone can be by another node.
        let reaped_at = Instant::now();
        let firsts = wait_all_probed_since(&self.target, paths, reaped_at, secs(15)).await;
        assert_probed_within(&firsts, killed_at, FAILOVER);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_of_the_busiest_node_moves_its_monitors_and_its_restart_takes_them_back() {
    let mut setup = Setup::start().await;
    let victim = busiest(&setup.owners);
    let (victim_ids, victim_paths) = setup.owned_by(&victim);

    setup.kill_and_expect_failover(&victim, &victim_paths).await;

    // Survivors report it not alive and assign it nothing.
    let cluster = &setup.cluster;
    cluster.wait_converged(secs(5)).await;
    for view in cluster.views().await {
        let member = view.member(&victim);
        assert!(
            member.is_some_and(|m| !m.alive && m.monitors_owned == 0),
            "{} must list {victim} dead and owning nothing: {member:?}",
            view.node
        );
    }
    let moved = cluster.wait_owners_agree(&setup.ids, secs(5)).await;
    assert!(!moved.values().any(|o| *o == victim), "{moved:?}");

    // Restarted with its data dir: it rejoins, owns what it owned before (rendezvous
    // hashing over the same members) and probes it itself.
    let restart_ms = now_ms();
    setup.cluster.restart(&victim).await;
    let restarted_at = Instant::now();
    let cluster = &setup.cluster;
    cluster.wait_converged(secs(10)).await;
    let back = cluster.wait_owners_agree(&setup.ids, secs(5)).await;
    assert_eq!(back, setup.owners, "owners after {victim} rejoined");
    wait_results_by(
        &cluster.api(&victim),
        &[victim.as_str()],
        &victim_ids,
        restart_ms,
        secs(5),
    )
    .await;

    // From the restart on, no monitor is probed more than 1.5 times per second.
    assert_probe_rates(
        &setup.target,
        &setup.paths,
        restarted_at,
        secs(6),
        None,
        1.5,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_of_the_join_node_keeps_every_monitor_probed_and_new_nodes_join_a_survivor() {
    let mut setup = Setup::start().await;
    let all_paths = setup.paths.clone();

    setup.kill_and_expect_failover("n1", &all_paths).await;

    let cluster = &mut setup.cluster;
    cluster.wait_converged(secs(5)).await;
    let owners = cluster.wait_owners_agree(&setup.ids, secs(5)).await;
    assert!(!owners.values().any(|o| o == "n1"), "{owners:?}");

    // A new node joins through n3 alone (n1, the original seed, is gone).
    let join_ms = now_ms();
    cluster.add("n4", &["n3"]).await;
    cluster.wait_converged(secs(5)).await;
    let owners = cluster.wait_owners_agree(&setup.ids, secs(5)).await;
    let n4_ids: Vec<String> = owners
        .iter()
        .filter(|(_, owner)| *owner == "n4")
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        !n4_ids.is_empty(),
        "n4 owns none of 30 monitors: {owners:?}"
    );
    wait_results_by(&cluster.api("n4"), &["n4"], &n4_ids, join_ms, secs(5)).await;
}
