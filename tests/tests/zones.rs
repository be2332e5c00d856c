//! Zones, the part that is built (issue 14, part 1 and the User-Agent of part 4): a node's
//! zone comes from `--zone`; `GET /api/cluster` lists the zones with their members and which
//! are alive, and a zone whose only node was killed is `unreachable`; every check's
//! `User-Agent` names the zone of the node that made it; a monitor without zones gets the
//! second opinion before it goes down from a node of another zone. (A zone that is not a
//! plain name stops the node: `node_lifecycle.rs`, `bad_flags_exit_2`.)

use ringwatch_tests::{Behavior, NodeProc, Target, TestDir, secs, wait_until};
use serde_json::{Value, json};

/// The `zones` of a node's `/api/cluster`, as `(name, members, alive, unreachable)`.
async fn zones(node: &NodeProc) -> Vec<(String, Vec<String>, Vec<String>, bool)> {
    let view: Value = node.api().get("/api/cluster").await.json();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("an array")
            .iter()
            .map(|n| n.as_str().expect("a name").to_owned())
            .collect()
    };
    view["zones"]
        .as_array()
        .expect("zones")
        .iter()
        .map(|z| {
            (
                z["name"].as_str().expect("name").to_owned(),
                names(&z["members"]),
                names(&z["alive"]),
                z["unreachable"].as_bool().expect("unreachable"),
            )
        })
        .collect()
}

fn zone(
    name: &str,
    members: &[&str],
    alive: &[&str],
    unreachable: bool,
) -> (String, Vec<String>, Vec<String>, bool) {
    let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    (name.to_owned(), own(members), own(alive), unreachable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_view_groups_nodes_by_zone_and_checks_say_their_zone() {
    let dir = TestDir::new();
    let n1 = NodeProc::start_in(&dir, "n1", &["--zone", "eu"]).await;
    let join = n1.cluster_addr().to_string();
    let n2 = NodeProc::start_in(&dir, "n2", &["--zone", "eu", "--join", &join]).await;
    let mut n3 = NodeProc::start_in(&dir, "n3", &["--zone", "us", "--join", &join]).await;
    let all = [
        zone("eu", &["n1", "n2"], &["n1", "n2"], false),
        zone("us", &["n3"], &["n3"], false),
    ];
    for node in [&n1, &n2, &n3] {
        wait_until("every node to see both zones", secs(10), async || {
            zones(node).await == all
        })
        .await;
    }
    let view: Value = n2.api().get("/api/cluster").await.json();
    for node in view["nodes"].as_array().expect("nodes") {
        let want = if node["name"] == "n3" { "us" } else { "eu" };
        assert_eq!(node["zone"], want, "{node}");
    }

    // Each check's User-Agent names the zone of the node that made it.
    let target = Target::start().await;
    let api = n1.api();
    let mut ids = Vec::new();
    for i in 0..6 {
        let m = api
            .create_monitor(&json!({"url": target.url(&format!("/ua/{i}")), "interval_secs": 1}))
            .await;
        ids.push(m.id);
    }
    let summary: Value = api.get("/api/summary").await.json();
    let version = summary["version"].as_str().expect("version").to_owned();
    let mut zones_seen = std::collections::BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let path = format!("/ua/{i}");
        wait_until("a check of every monitor", secs(10), async || {
            target.hits(&path) > 0
        })
        .await;
        let owner = api.get_monitor(id).await.owner.expect("an owner");
        let want_zone = if owner == "n3" { "us" } else { "eu" };
        let agents: Vec<String> = target
            .requests(&path)
            .iter()
            .filter_map(|r| r.header("user-agent").map(str::to_owned))
            .collect();
        assert!(!agents.is_empty(), "{path}: no User-Agent");
        for agent in &agents {
            assert!(
                agent.starts_with(&format!("ringwatch/{version} (zone ")),
                "{path}: {agent}"
            );
        }
        assert!(
            agents
                .iter()
                .any(|a| *a == format!("ringwatch/{version} (zone {want_zone})")),
            "{path}, owned by {owner}: {agents:?}"
        );
        zones_seen.insert(want_zone);
    }
    eprintln!("checks came from zones {zones_seen:?}");

    // Monitors that fail: whichever node decides each is down, the node that confirmed it
    // first is of the other zone.
    let zone_of = |n: &str| if n == "n3" { "us" } else { "eu" };
    let mut failing = Vec::new();
    for i in 0..4 {
        let path = format!("/down/{i}");
        target.set(&path, Behavior::Status(503));
        let m = api
            .create_monitor(
                &json!({"url": target.url(&path), "interval_secs": 1, "failure_threshold": 1}),
            )
            .await;
        failing.push(m.id);
    }
    let mut deciders = std::collections::BTreeSet::new();
    for id in &failing {
        api.wait_status(id, "down", secs(20)).await;
        let incidents: Value = api
            .get(&format!("/api/monitors/{id}/incidents"))
            .await
            .json();
        let first = &incidents.as_array().expect("incidents")[0];
        let decided = first["node"].as_str().expect("node");
        let confirmed = first["confirmed_by"].as_str().expect("a second opinion");
        assert_ne!(zone_of(decided), zone_of(confirmed), "{id}: {first}");
        deciders.insert(decided.to_owned());
    }
    eprintln!("down decided by {deciders:?}, each confirmed from the other zone");

    // The zone whose only node dies is unreachable; the other keeps its members.
    n3.sigkill();
    let after = [
        zone("eu", &["n1", "n2"], &["n1", "n2"], false),
        zone("us", &["n3"], &[], true),
    ];
    for node in [&n1, &n2] {
        wait_until("us to be unreachable", secs(10), async || {
            zones(node).await == after
        })
        .await;
    }
}
