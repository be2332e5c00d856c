//! Monitors probed from several zones (issue 14, parts 2 to 4), with the real binary: three
//! zones a, b and c with 2, 1 and 1 nodes, a monitor with `zones: "all"` at 1 s against a
//! local target that answers by the zone its User-Agent names.
//!
//! - each zone probes it about once per second, one node per zone;
//! - failing for a only: still `up` (degraded), `zone_status.a` is `down`, nothing is sent;
//!   failing for a and b: `down`, exactly one DOWN webhook naming a and b; exactly one UP when
//!   it recovers;
//! - kill -9 of a's prober: the other node of a probes within 5 s;
//! - kill -9 of c's only node: c is `unreachable`, nothing goes down, and a and b still decide
//!   (a second outage seen by both is one DOWN, naming them, out of 2 reachable zones).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ringwatch_tests::{
    Api, Behavior, NodeProc, Target, TestDir, WebhookSink, secs, wait_for, wait_until,
};
use serde_json::{Value, json};

const PATH: &str = "/zoned";

/// Makes the target answer 503 to checks from `zones` (and 200 to the others).
fn fail_for(target: &Target, zones: &[&str]) {
    let zones = zones.iter().map(|z| z.to_string()).collect();
    target.set(PATH, Behavior::FailForZones { zones, status: 503 });
}

/// The nth DOWN webhook about `id`, once it arrived.
async fn nth_down(sink: &WebhookSink, id: &str, n: usize) -> Value {
    wait_for("the DOWN webhook", secs(10), async || {
        let d = sent(sink, id, "down");
        let got = d.len();
        d.into_iter()
            .nth(n - 1)
            .ok_or_else(|| format!("{got} DOWN webhooks"))
    })
    .await
}

/// A monitor as one node shows it.
async fn view(api: &Api, id: &str) -> Value {
    api.get(&format!("/api/monitors/{id}")).await.json()
}

/// The zone status a node shows for the monitor, as `zone=state` pairs.
async fn zone_status(api: &Api, id: &str) -> BTreeMap<String, String> {
    let v = view(api, id).await;
    v["zone_status"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(z, s)| (z.clone(), s.as_str().unwrap_or("?").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn statuses(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(z, s)| (z.to_string(), s.to_string()))
        .collect()
}

/// Accepted webhooks about monitor `id` going to `status`.
fn sent(sink: &WebhookSink, id: &str, status: &str) -> Vec<Value> {
    sink.accepted_where(|b| b["monitor_id"] == id && b["status"] == status)
        .iter()
        .map(|r| serde_json::from_str(&r.body_text()).expect("a JSON body"))
        .collect()
}

/// Probes per zone in `[from, from + window)`.
async fn probes_per_zone(target: &Target, window: Duration) -> BTreeMap<String, usize> {
    let from = Instant::now();
    ringwatch_tests::measurement_window_until(from + window).await;
    let mut per = BTreeMap::new();
    for (at, zone) in target.zones_since(PATH, from) {
        if at < from + window {
            *per.entry(zone).or_default() += 1;
        }
    }
    per
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_zones_probe_once_each_and_a_quorum_of_zones_decides() {
    let dir = TestDir::new();
    let a1 = NodeProc::start_in(&dir, "a1", &["--zone", "a"]).await;
    let join = a1.cluster_addr().to_string();
    let mut a2 = NodeProc::start_in(&dir, "a2", &["--zone", "a", "--join", &join]).await;
    let b1 = NodeProc::start_in(&dir, "b1", &["--zone", "b", "--join", &join]).await;
    let mut c1 = NodeProc::start_in(&dir, "c1", &["--zone", "c", "--join", &join]).await;
    let mut a1 = Some(a1);
    for node in [a1.as_ref().unwrap(), &a2, &b1, &c1] {
        wait_until("every node to see all four", secs(15), async || {
            let v: Value = node.api().get("/api/cluster").await.json();
            v["nodes"]
                .as_array()
                .is_some_and(|n| n.iter().filter(|m| m["alive"] == true).count() == 4)
        })
        .await;
    }

    let sink = WebhookSink::start().await;
    let b = b1.api();
    let hook = json!({"type": "webhook", "name": "sink", "url": sink.url("/hook")});
    assert_eq!(b.post_json("/api/notifiers", &hook).await.status, 201);
    let target = Target::start().await;
    fail_for(&target, &[]);
    let m = b
        .create_monitor(&json!({
            "url": target.url(PATH), "name": "zoned", "interval_secs": 1,
            "failure_threshold": 2, "zones": "all"
        }))
        .await;
    let id = m.id.clone();
    let all_up = statuses(&[("a", "up"), ("b", "up"), ("c", "up")]);
    for node in [a1.as_ref().unwrap(), &a2, &b1, &c1] {
        let api = node.api();
        wait_until("every zone to see it up", secs(15), async || {
            zone_status(&api, &id).await == all_up
        })
        .await;
    }
    assert_eq!(view(&b, &id).await["status"], "up");
    assert_eq!(view(&b, &id).await["zones"], "all");

    // Each zone probes about once a second: none missing, none doubled.
    let per = probes_per_zone(&target, secs(6)).await;
    eprintln!("probes per zone in 6 s: {per:?}");
    for zone in ["a", "b", "c"] {
        let n = per.get(zone).copied().unwrap_or(0);
        assert!(
            (4..=8).contains(&n),
            "zone {zone}: {n} probes in 6 s ({per:?})"
        );
    }
    assert_eq!(per.len(), 3, "only the three zones: {per:?}");
    // One node per zone: the results of the last seconds name one node for each zone.
    let results: Value = b
        .get(&format!("/api/monitors/{id}/results?last=12"))
        .await
        .json();
    let mut nodes_by_zone: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in results.as_array().expect("results") {
        let zone = r["zone"].as_str().expect("a zone").to_owned();
        nodes_by_zone
            .entry(zone)
            .or_default()
            .insert(r["node"].as_str().expect("a node").to_owned());
    }
    eprintln!("results of the last checks, nodes by zone: {nodes_by_zone:?}");
    for (zone, nodes) in &nodes_by_zone {
        assert_eq!(nodes.len(), 1, "zone {zone} probed by {nodes:?}");
    }

    // Failing for a only: a sees it down, the monitor stays up (degraded), nothing is sent.
    fail_for(&target, &["a"]);
    let a_down = statuses(&[("a", "down"), ("b", "up"), ("c", "up")]);
    wait_until("zone a to see it down", secs(10), async || {
        zone_status(&b, &id).await == a_down
    })
    .await;
    let held = Instant::now();
    ringwatch_tests::measurement_window_until(held + secs(3)).await;
    let v = view(&b, &id).await;
    assert_eq!(v["status"], "up", "{v}");
    assert_eq!(v["degraded"], true, "{v}");
    assert!(sink.accepted().is_empty(), "nothing sent for one zone");

    // Failing for a and b: down, once, naming a and b.
    fail_for(&target, &["a", "b"]);
    b.wait_status(&id, "down", secs(15)).await;
    let down = nth_down(&sink, &id, 1).await;
    assert_eq!(down["zones_down"], json!(["a", "b"]), "{down}");
    assert_eq!(down["zones_reachable"], 3);
    eprintln!("DOWN: {}", down["reason"]);

    // Recovered everywhere: exactly one UP; still exactly one DOWN.
    target.set(PATH, Behavior::Status(200));
    b.wait_status(&id, "up", secs(15)).await;
    wait_until("the UP webhook", secs(10), async || {
        !sent(&sink, &id, "up").is_empty()
    })
    .await;
    let settle = Instant::now();
    ringwatch_tests::measurement_window_until(settle + secs(3)).await;
    assert_eq!(sent(&sink, &id, "down").len(), 1, "exactly one DOWN");
    assert_eq!(sent(&sink, &id, "up").len(), 1, "exactly one UP");

    // kill -9 of a's prober: the other node of a probes within 5 s.
    let results: Value = b
        .get(&format!("/api/monitors/{id}/results?last=6"))
        .await
        .json();
    let a_prober = results
        .as_array()
        .expect("results")
        .iter()
        .rev()
        .find(|r| r["zone"] == "a")
        .and_then(|r| r["node"].as_str())
        .expect("a result from zone a")
        .to_owned();
    let killed = Instant::now();
    if a_prober == "a1" {
        a1.as_mut().unwrap().sigkill();
    } else {
        a2.sigkill();
    }
    let survivor = if a_prober == "a1" { "a2" } else { "a1" };
    // A probe from zone a that arrives well after the killed node could still send one.
    let taken_over = wait_for("zone a to probe again", secs(10), async || {
        target
            .zones_since(PATH, killed + Duration::from_millis(1_500))
            .into_iter()
            .find(|(_, z)| z == "a")
            .map(|(at, _)| at)
            .ok_or_else(|| "no probe from zone a yet".to_owned())
    })
    .await;
    let took = taken_over.duration_since(killed);
    eprintln!("killed {a_prober}; {survivor} probed for zone a after {took:?}");
    assert!(took <= secs(5), "zone a probed again after {took:?}");
    let live_api = b1.api();
    wait_until("the survivor's result for zone a", secs(10), async || {
        let r: Value = live_api
            .get(&format!("/api/monitors/{id}/results?last=4"))
            .await
            .json();
        r.as_array()
            .is_some_and(|a| a.iter().any(|r| r["zone"] == "a" && r["node"] == survivor))
    })
    .await;

    // kill -9 of c's only node: c is unreachable, nothing goes down, a and b decide.
    c1.sigkill();
    let c_gone = statuses(&[("a", "up"), ("b", "up"), ("c", "unreachable")]);
    wait_until("zone c to be unreachable", secs(15), async || {
        zone_status(&b, &id).await == c_gone
    })
    .await;
    assert_eq!(view(&b, &id).await["status"], "up");
    fail_for(&target, &["a", "b"]);
    b.wait_status(&id, "down", secs(15)).await;
    let second = nth_down(&sink, &id, 2).await;
    assert_eq!(second["zones_down"], json!(["a", "b"]), "{second}");
    assert_eq!(second["zones_reachable"], 2, "{second}");
    let settle = Instant::now();
    ringwatch_tests::measurement_window_until(settle + secs(3)).await;
    assert_eq!(sent(&sink, &id, "down").len(), 2, "one DOWN per outage");
    drop(a1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zones_and_quorum_are_checked_and_shown() {
    let node = NodeProc::start("z1").await;
    let api = node.api();
    let target = Target::start().await;
    let url = target.url("/q");
    for (body, error) in [
        (json!({"url": url, "quorum": 1}), "quorum needs zones"),
        (json!({"url": url, "zones": "some"}), "zones must be"),
        (json!({"url": url, "zones": []}), "zones: 1 to 32"),
        (json!({"url": url, "zones": ["a b"]}), "is not a zone name"),
        (
            json!({"url": url, "zones": ["a", "b"], "quorum": 3}),
            "quorum must be between 1 and 2",
        ),
        (json!({"url": url, "zones": 7}), ""),
    ] {
        let resp = api.post_json("/api/monitors", &body).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.text());
        assert!(resp.text().contains(error), "{body}: {}", resp.text());
    }
    let m = api
        .create_monitor(
            &json!({"url": url, "interval_secs": 1, "zones": ["us", "eu", "us"], "quorum": 2}),
        )
        .await;
    let v = view(&api, &m.id).await;
    assert_eq!(v["zones"], json!(["eu", "us"]), "sorted, no repeats");
    assert_eq!(v["quorum"], 2);
    // A lone node of zone `default`: neither listed zone has a node.
    assert_eq!(
        zone_status(&api, &m.id).await,
        statuses(&[("eu", "unreachable"), ("us", "unreachable")])
    );
    // Back to a plain monitor: both cleared.
    let resp = api
        .patch_json(
            &format!("/api/monitors/{}", m.id),
            &json!({"zones": null, "quorum": null}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = view(&api, &m.id).await;
    assert!(v["zones"].is_null() && v["quorum"].is_null() && v["zone_status"].is_null());
    api.wait_status(&m.id, "up", secs(10)).await;
    let results: Value = api
        .get(&format!("/api/monitors/{}/results?last=1", m.id))
        .await
        .json();
    assert_eq!(results[0]["zone"], "default", "{results}");
}
