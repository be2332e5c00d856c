//! SPEC: "a node that was down, or is new, catches up on definitions and missed history when it
//! joins". Issue 4: a node down for 10 s holds, within 10 s of its restart, every result its
//! peers made meanwhile (to within one); a new node holds all definitions and the recent
//! history within 10 s of joining.

use ringwatch_tests::cluster::{
    Cluster, ResultKey, definitions, monitor_paths, result_keys, wait_all_probed_since,
};
use ringwatch_tests::{Target, measurement_window_until, now_ms, secs, wait_for};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Issue 4: catch-up bound after a (re)join.
const CATCH_UP: Duration = Duration::from_secs(10);

/// Three nodes probing 12 monitors (added on n2) at 1 s, each probed at least once.
async fn probing_cluster(target: &Target) -> (Cluster, Vec<String>) {
    let cluster = Cluster::start(3).await;
    let paths = monitor_paths(12);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n2", target, &paths, 1).await;
    let ids: Vec<String> = monitors.into_iter().map(|m| m.id).collect();
    cluster.wait_owners_agree(&ids, secs(5)).await;
    wait_all_probed_since(target, &paths, created_at, secs(5)).await;
    (cluster, ids)
}

/// Per monitor, the results that `nodes` hold (together) that started in `[from_ms, to_ms)`.
async fn union_of_results(
    cluster: &Cluster,
    nodes: &[&str],
    ids: &[String],
    from_ms: u64,
    to_ms: u64,
) -> BTreeMap<String, BTreeSet<ResultKey>> {
    let mut union = BTreeMap::new();
    for id in ids {
        let mut keys = BTreeSet::new();
        for node in nodes {
            keys.extend(result_keys(&cluster.api(node), id, from_ms, to_ms).await);
        }
        union.insert(id.clone(), keys);
    }
    union
}

/// Waits until [`CATCH_UP`] after `joined_at` until node `on` holds, per monitor, all but at
/// most `tolerance` of `expected`.
async fn wait_holds(
    cluster: &Cluster,
    on: &str,
    joined_at: Instant,
    expected: &BTreeMap<String, BTreeSet<ResultKey>>,
    from_ms: u64,
    to_ms: u64,
    tolerance: usize,
) {
    let api = cluster.api(on);
    wait_for(
        &format!("{on} to hold its peers' results (all but {tolerance} per monitor)"),
        CATCH_UP.saturating_sub(joined_at.elapsed()),
        async || {
            let mut short = Vec::new();
            for (id, keys) in expected {
                let held = result_keys(&api, id, from_ms, to_ms).await;
                let missing = keys.difference(&held).count();
                if missing > tolerance {
                    short.push(format!("{id}: {missing} of {} missing", keys.len()));
                }
            }
            if short.is_empty() {
                Ok(())
            } else {
                Err(format!("{short:?}"))
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_down_for_10s_catches_up_on_the_results_it_missed() {
    let target = Target::start().await;
    let (mut cluster, ids) = probing_cluster(&target).await;

    let kill_ms = now_ms();
    let killed_at = cluster.kill("n3").await;
    cluster.wait_converged(secs(5)).await;
    measurement_window_until(killed_at + secs(10)).await;
    let restart_ms = now_ms();
    let restarted_at = Instant::now();
    cluster.restart("n3").await;

    let made = union_of_results(&cluster, &["n1", "n2"], &ids, kill_ms, restart_ms).await;
    let total: usize = made.values().map(BTreeSet::len).sum();
    assert!(
        total >= ids.len() * 5,
        "n1 and n2 made only {total} results in 10 s"
    );
    wait_holds(&cluster, "n3", restarted_at, &made, kill_ms, restart_ms, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_node_receives_all_definitions_and_the_recent_history() {
    let target = Target::start().await;
    let (mut cluster, mut ids) = probing_cluster(&target).await;
    // Some history, an edited definition and a deleted one.
    let api = cluster.api("n1");
    api.patch_monitor(&ids[0], &json!({ "name": "edited", "interval_secs": 2 }))
        .await;
    api.delete_monitor(&ids[1]).await;
    ids.remove(1);
    let history_from = Instant::now();
    measurement_window_until(history_from + secs(4)).await;

    let join_ms = now_ms();
    let joined_at = Instant::now();
    cluster.add("n4", &["n3"]).await;
    let defs = definitions(&cluster.api("n1")).await;
    // Results made more than a second before n4 started are settled on n1.
    let history = union_of_results(&cluster, &["n1"], &ids, 0, join_ms - 1_000).await;

    let n4 = cluster.api("n4");
    let within = CATCH_UP.saturating_sub(joined_at.elapsed());
    wait_for("n4 to list the definitions n1 lists", within, async || {
        let seen = definitions(&n4).await;
        if seen == defs {
            Ok(())
        } else {
            Err(format!("{seen:#?}"))
        }
    })
    .await;
    wait_holds(&cluster, "n4", joined_at, &history, 0, join_ms - 1_000, 0).await;
}
