//! A partition with concurrent edits on both sides, then a heal: afterwards every node holds
//! the same definitions (the concurrent edits resolved the same way everywhere) and the union
//! of the results both sides made.

use ringwatch_tests::cluster::{ResultKey, Split, definitions, result_keys, wait_results_by};
use ringwatch_tests::{now_ms, secs, wait_for};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How long after the heal the nodes may take to agree: issue 4's catch-up bound.
const CONVERGE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_on_both_sides_of_a_partition_converge_after_the_heal() {
    let Split {
        cluster,
        target,
        ids,
        split_ms,
        ..
    } = Split::start(6).await;
    let left = Split::LEFT;

    let (n1, n2, n3) = (cluster.api("n1"), cluster.api("n2"), cluster.api("n3"));
    // The same field of one monitor, on both sides.
    n1.patch_monitor(&ids[0], &json!({ "name": "left" })).await;
    n3.patch_monitor(&ids[0], &json!({ "name": "right" })).await;
    // Different fields of one monitor.
    n2.patch_monitor(&ids[1], &json!({ "interval_secs": 2 }))
        .await;
    n3.patch_monitor(&ids[1], &json!({ "timeout_ms": 5000 }))
        .await;
    // A delete against an edit.
    n1.delete_monitor(&ids[2]).await;
    n3.patch_monitor(&ids[2], &json!({ "name": "edited while deleted" }))
        .await;
    // A delete nobody contests, and a create on each side.
    n3.delete_monitor(&ids[3]).await;
    let made_left = n1
        .create_monitor(&json!({ "url": target.url("/m/left"), "interval_secs": 1 }))
        .await;
    let made_right = n3
        .create_monitor(&json!({ "url": target.url("/m/right"), "interval_secs": 1 }))
        .await;

    // Both sides probe (and store) the monitors they see during the partition.
    let survivors = [
        ids[0].clone(),
        ids[1].clone(),
        ids[4].clone(),
        ids[5].clone(),
    ];
    let mut left_ids = survivors.to_vec();
    left_ids.push(made_left.id.clone());
    let mut right_ids = survivors.to_vec();
    right_ids.push(made_right.id.clone());
    wait_results_by(&n1, left, &left_ids, split_ms, secs(5)).await;
    wait_results_by(&n3, &["n3"], &right_ids, split_ms, secs(5)).await;

    // What each side holds just before the heal.
    let heal_ms = now_ms();
    let mut union: BTreeMap<String, BTreeSet<ResultKey>> = BTreeMap::new();
    for (api, side_ids) in [(&n1, &left_ids), (&n3, &right_ids)] {
        for id in side_ids {
            let keys = result_keys(api, id, 0, heal_ms).await;
            union.entry(id.clone()).or_default().extend(keys);
        }
    }
    let healed_at = Instant::now();
    cluster.heal().await;

    let within = CONVERGE.saturating_sub(healed_at.elapsed());
    let agreed = wait_for(
        "every node to hold the same definitions",
        within,
        async || {
            let first = definitions(&n1).await;
            for (node, api) in [("n2", &n2), ("n3", &n3)] {
                let other = definitions(api).await;
                if other != first {
                    return Err(format!("n1 lists {first:#?}\n{node} lists {other:#?}"));
                }
            }
            Ok(first)
        },
    )
    .await;
    let listed: BTreeSet<&str> = agreed.iter().map(|d| d.id.as_str()).collect();
    for id in [
        &ids[0],
        &ids[1],
        &ids[4],
        &ids[5],
        &made_left.id,
        &made_right.id,
    ] {
        assert!(listed.contains(id.as_str()), "{id} lost: {agreed:#?}");
    }
    assert!(
        !listed.contains(ids[3].as_str()),
        "{} resurrected: {agreed:#?}",
        ids[3]
    );
    let renamed = agreed.iter().find(|d| d.id == ids[0]).expect("listed");
    assert!(
        ["left", "right"].contains(&renamed.name.as_str()),
        "{renamed:?}"
    );

    let within = CONVERGE.saturating_sub(healed_at.elapsed());
    wait_for(
        "every node to hold the union of the results",
        within,
        async || {
            let mut short = Vec::new();
            for (node, api) in [("n1", &n1), ("n2", &n2), ("n3", &n3)] {
                for (id, keys) in &union {
                    if !listed.contains(id.as_str()) {
                        continue;
                    }
                    let held = result_keys(api, id, 0, heal_ms).await;
                    let missing = keys.difference(&held).count();
                    if missing > 0 {
                        short.push(format!(
                            "{node} misses {missing} of {} for {id}",
                            keys.len()
                        ));
                    }
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
