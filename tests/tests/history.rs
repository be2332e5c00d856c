//! Issue 13's measure of history: two nodes, a monitor checked every second against a local
//! target with a known mix of latencies and a scripted 20 s outage. On both nodes `stats`
//! says what the raw results say (checks, ok, p50/p95/p99 within 2 % or 2 ms), `down_ms` is
//! the outage to within one interval plus the thresholds, `uptime` agrees with `down_ms`; a
//! third node that joins afterwards answers the same figures.

use ringwatch_tests::Behavior;
use ringwatch_tests::cluster::Cluster;
use ringwatch_tests::{Api, ProbeResult};
use ringwatch_tests::{Target, measurement_window_until, secs, wait_for, wait_until};
use serde_json::{Value, json};
use std::time::Instant;

/// The target's latencies, request after request (ms).
const LATENCIES: [u64; 10] = [5, 5, 10, 10, 10, 20, 40, 80, 80, 160];
/// The scripted outage.
const OUTAGE_SECS: u64 = 20;
const INTERVAL_SECS: u64 = 1;
const FAILURE_THRESHOLD: u64 = 2;
const RECOVERY_THRESHOLD: u64 = 1;

fn mix() -> Behavior {
    Behavior::Delays {
        ms: LATENCIES.to_vec(),
        next: 0,
    }
}

/// The nearest-rank quantile of sorted values (the definition the rollups follow).
fn quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

async fn stats(api: &Api, id: &str) -> Value {
    api.get(&format!("/api/monitors/{id}/stats?window=1h"))
        .await
        .expect_status(200)
        .json()
}

/// The stats, or what was answered instead (a node that has not heard of the monitor yet).
async fn try_stats(api: &Api, id: &str) -> Result<Value, String> {
    let resp = api
        .get(&format!("/api/monitors/{id}/stats?window=1h"))
        .await;
    if resp.status != 200 {
        return Err(resp.describe());
    }
    Ok(resp.json())
}

/// What the stats must say, from the raw results: `Err` says what differs.
fn compare(stats: &Value, raw: &[ProbeResult]) -> Result<(), String> {
    let checks = raw.len() as u64;
    let mut ok: Vec<u64> = raw.iter().filter(|r| r.ok).map(|r| r.latency_ms).collect();
    ok.sort_unstable();
    if stats["checks"] != json!(checks) || stats["ok"] != json!(ok.len()) {
        return Err(format!(
            "checks/ok {}/{} vs raw {checks}/{}",
            stats["checks"],
            stats["ok"],
            ok.len()
        ));
    }
    let l = &stats["latency_ms"];
    let mut problems = Vec::new();
    for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let exact = quantile(&ok, q);
        let got = l[name].as_u64().unwrap_or(u64::MAX);
        let tolerance = (exact as f64 * 0.02).max(2.0);
        if (got as f64 - exact as f64).abs() > tolerance {
            problems.push(format!("{name} {got} vs exact {exact}"));
        }
    }
    if l["min"] != json!(ok[0]) || l["max"] != json!(ok[ok.len() - 1]) {
        problems.push(format!("min/max {}/{} vs {ok:?}", l["min"], l["max"]));
    }
    let by_node: u64 = stats["by_node"]
        .as_array()
        .map(|ns| ns.iter().filter_map(|n| n["checks"].as_u64()).sum())
        .unwrap_or(0);
    if by_node != checks {
        problems.push(format!("by_node checks add up to {by_node}, not {checks}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_availability(node: &str, stats: &Value) {
    let down = stats["down_ms"].as_u64().expect("down_ms");
    let watched = stats["watched_ms"].as_u64().expect("watched_ms");
    let uptime = stats["uptime"].as_f64().expect("uptime");
    let slack = INTERVAL_SECS * (1 + FAILURE_THRESHOLD + RECOVERY_THRESHOLD) * 1000;
    let outage = OUTAGE_SECS * 1000;
    assert!(
        down + slack >= outage && down <= outage + slack,
        "{node}: down_ms {down} for a {outage} ms outage (slack {slack} ms): {stats}"
    );
    let expected = 1.0 - down as f64 / watched as f64;
    assert!(
        (uptime - expected).abs() < 1e-5,
        "{node}: uptime {uptime} but 1 - down/watched = {expected}: {stats}"
    );
    assert_eq!(stats["incidents"], json!(1), "{node}: {stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_agree_with_the_raw_results_on_every_node_and_on_a_node_joined_later() {
    let target = Target::start().await;
    target.set("/mix", mix());
    let mut cluster = Cluster::start(2).await;
    let n1 = cluster.api("n1");
    let monitor = n1
        .create_monitor(&json!({
            "url": target.url("/mix"),
            "name": "mix",
            "interval_secs": INTERVAL_SECS,
            "timeout_ms": 2_000,
            "failure_threshold": FAILURE_THRESHOLD,
            "recovery_threshold": RECOVERY_THRESHOLD,
        }))
        .await;
    let id = monitor.id.clone();
    n1.wait_status(&id, "up", secs(10)).await;
    wait_until("20 checks of the latency mix", secs(30), async || {
        target.hits("/mix") >= 20
    })
    .await;

    target.set("/mix", Behavior::Status(503));
    let outage = Instant::now();
    n1.wait_status(&id, "down", secs(10)).await;
    measurement_window_until(outage + secs(OUTAGE_SECS)).await;
    target.set("/mix", mix());
    n1.wait_status(&id, "up", secs(10)).await;
    let hits = target.hits("/mix");
    wait_until("10 more checks", secs(20), async || {
        target.hits("/mix") >= hits + 10
    })
    .await;
    // Paused, the figures stop moving and can be compared exactly.
    n1.patch_monitor(&id, &json!({ "active": false })).await;

    for node in ["n1", "n2"] {
        let api = cluster.api(node);
        let seen = wait_for(
            &format!("{node}'s stats to match its raw results"),
            secs(20),
            async || {
                let raw = api.results(&id, Some(0), Some(10_000)).await;
                let s = stats(&api, &id).await;
                match compare(&s, &raw) {
                    Ok(()) => Ok(s),
                    Err(e) => Err(format!("{e}: {s}")),
                }
            },
        )
        .await;
        check_availability(node, &seen);
    }

    let reference = stats(&n1, &id).await;
    cluster.add("n3", &["n1"]).await;
    let n3 = cluster.api("n3");
    let seen = wait_for(
        "n3 (joined afterwards) to answer n1's figures",
        secs(20),
        async || {
            let s = try_stats(&n3, &id).await?;
            let same = [
                "checks",
                "ok",
                "latency_ms",
                "down_ms",
                "incidents",
                "by_node",
            ]
            .iter()
            .all(|k| s[k] == reference[k]);
            if same {
                Ok(s)
            } else {
                Err(format!("n3 {s} vs n1 {reference}"))
            }
        },
    )
    .await;
    check_availability("n3", &seen);
}
