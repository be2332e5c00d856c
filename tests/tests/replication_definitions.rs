//! SPEC: "a definition ... written on any node is readable on every live node within 1 s", and
//! a deleted monitor stops being probed everywhere (issue 4: within 2 s).

use ringwatch_tests::cluster::{Cluster, monitor_paths, wait_all_probed_since};
use ringwatch_tests::{
    Api, Definition, Target, measurement_window_until, monitor_path, secs, wait_for,
};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// SPEC: replication bound of a definition.
const REPLICATION: Duration = Duration::from_secs(1);
/// Issue 4: no probe of a deleted monitor later than this after the delete.
const STOP_BOUND: Duration = Duration::from_secs(2);

/// Waits up to [`REPLICATION`] until every node of `nodes` answers monitor `id` with
/// `expected` (`None`: 404 and not listed).
async fn wait_replicated(
    cluster: &Cluster,
    nodes: &[&str],
    id: &str,
    expected: Option<&Definition>,
) {
    let apis: Vec<Api> = nodes.iter().map(|n| cluster.api(n)).collect();
    wait_for(
        &format!("{nodes:?} to answer {id} with {expected:?}"),
        REPLICATION,
        async || {
            for (node, api) in nodes.iter().zip(&apis) {
                let listed = api.list_monitors().await.into_iter().find(|m| m.id == id);
                let single = api.get(&monitor_path(id)).await;
                let seen = listed.as_ref().map(|m| m.definition());
                if seen.as_ref() != expected {
                    return Err(format!("{node} lists {seen:?}"));
                }
                let single_ok = match expected {
                    Some(def) => {
                        single.status == 200
                            && single.json::<ringwatch_tests::Monitor>().definition() == *def
                    }
                    None => single.status == 404,
                };
                if !single_ok {
                    return Err(format!("{node}: {}", single.describe()));
                }
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_an_edit_and_a_delete_are_on_every_node_within_1s() {
    let cluster = Cluster::start(3).await;
    let target = Target::start().await;

    let created = cluster
        .api("n3")
        .create_monitor(&json!({ "url": target.url("/m/0"), "interval_secs": 1, "name": "zero" }))
        .await;
    wait_replicated(
        &cluster,
        &["n1", "n2"],
        &created.id,
        Some(&created.definition()),
    )
    .await;

    let patch = json!({ "name": "renamed", "interval_secs": 2, "timeout_ms": 1500 });
    let edited = cluster.api("n2").patch_monitor(&created.id, &patch).await;
    assert_eq!(
        (
            edited.name.as_str(),
            edited.interval_secs,
            edited.timeout_ms
        ),
        ("renamed", 2, 1500),
        "{edited:?}"
    );
    wait_replicated(
        &cluster,
        &["n1", "n3"],
        &created.id,
        Some(&edited.definition()),
    )
    .await;

    cluster.api("n2").delete_monitor(&created.id).await;
    wait_replicated(&cluster, &["n1", "n3"], &created.id, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_monitors_are_probed_by_no_node_2s_after_the_delete() {
    let cluster = Cluster::start(3).await;
    let target = Target::start().await;
    let paths = monitor_paths(15);
    let created_at = Instant::now();
    let monitors = cluster.create_monitors("n1", &target, &paths, 1).await;
    let ids: Vec<String> = monitors.iter().map(|m| m.id.clone()).collect();
    let owners = cluster.wait_owners_agree(&ids, secs(5)).await;
    // The deletes go to n2: most of these monitors are probed by another node.
    let probers: BTreeSet<&String> = owners.values().collect();
    assert!(probers.len() >= 2, "15 monitors owned by {probers:?} only");
    wait_all_probed_since(&target, &paths, created_at, secs(5)).await;

    let api = cluster.api("n2");
    let mut deleted = Vec::new();
    for (id, path) in ids.iter().zip(&paths) {
        api.delete_monitor(id).await;
        deleted.push((id, path, Instant::now()));
    }
    let last = deleted.last().expect("15 deletes").2;
    measurement_window_until(last + STOP_BOUND + secs(2)).await;
    let late: Vec<String> = deleted
        .iter()
        .map(|(id, path, at)| (id, path, target.hits_since(path, *at + STOP_BOUND)))
        .filter(|(_, _, n)| *n > 0)
        .map(|(id, path, n)| format!("{path}: {n} probes (owner {})", owners[*id]))
        .collect();
    assert!(
        late.is_empty(),
        "monitors probed more than {STOP_BOUND:?} after their delete: {late:?}"
    );
    for node in ["n1", "n2", "n3"] {
        let left = cluster.api(node).list_monitors().await;
        assert!(left.is_empty(), "{node} still lists {left:?}");
    }
}
